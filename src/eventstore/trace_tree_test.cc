#include "eventstore/trace_tree.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tyto::eventstore {
namespace {

using ::testing::ElementsAre;

events::Span S(std::string id, std::string parent, int64_t start) {
  events::Span s;
  s.span_id = std::move(id);
  s.parent_span_id = std::move(parent);
  s.name = s.span_id;
  s.start_unix_nano = start;
  return s;
}

std::vector<std::string> Names(const TraceTree& t, const std::vector<size_t>& idx) {
  std::vector<std::string> out;
  for (size_t i : idx) out.push_back(t.spans[i].name);
  return out;
}

TEST(TraceTreeTest, ParentsChildrenAndDepth) {
  TraceTree t = BuildTraceTree({S("c", "a", 30), S("a", "", 10), S("b", "a", 20), S("d", "b", 25)});
  EXPECT_THAT(Names(t, t.roots), ElementsAre("a"));
  EXPECT_THAT(Names(t, t.DepthFirst()), ElementsAre("a", "b", "d", "c"));
  EXPECT_THAT(Names(t, t.children[t.roots[0]]), ElementsAre("b", "c"));
  std::vector<size_t> depths;
  for (size_t i : t.DepthFirst()) depths.push_back(t.depth[i]);
  EXPECT_THAT(depths, ElementsAre(0, 1, 2, 1));
}

TEST(TraceTreeTest, OrphansBecomeRootsAndDuplicatesAreDropped) {
  TraceTree t = BuildTraceTree({S("b", "missing", 20), S("a", "", 10), S("a", "", 99), S("c", "b", 30)});
  EXPECT_EQ(t.spans.size(), 3u);
  EXPECT_THAT(Names(t, t.roots), ElementsAre("a", "b"));
  EXPECT_THAT(Names(t, t.DepthFirst()), ElementsAre("a", "b", "c"));
}

TEST(TraceTreeTest, CyclesAreCutAtTheirEarliestSpan) {
  // x -> y -> z -> x, and w hangs off z; s is its own parent.
  TraceTree t = BuildTraceTree({S("w", "z", 1), S("x", "z", 5), S("y", "x", 6), S("z", "y", 7), S("s", "s", 3)});
  EXPECT_THAT(Names(t, t.roots), ElementsAre("s", "x"));
  EXPECT_THAT(Names(t, t.DepthFirst()), ElementsAre("s", "x", "y", "z", "w"));
  EXPECT_EQ(t.DepthFirst().size(), t.spans.size());
}

TEST(TraceTreeTest, Empty) {
  TraceTree t = BuildTraceTree({});
  EXPECT_TRUE(t.roots.empty());
  EXPECT_TRUE(t.DepthFirst().empty());
}

}  // namespace
}  // namespace tyto::eventstore
