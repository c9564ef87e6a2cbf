#include "eventstore/trace_tree.h"

#include <algorithm>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "eventstore/codec.h"

namespace tyto::eventstore {

TraceTree BuildTraceTree(std::vector<events::Span> spans) {
  TraceTree t;
  {
    std::unordered_set<std::string> seen;
    std::erase_if(spans, [&](const events::Span& s) { return !seen.insert(s.span_id).second; });
  }
  std::stable_sort(spans.begin(), spans.end(), [](const events::Span& a, const events::Span& b) {
    if (a.start_unix_nano != b.start_unix_nano) return a.start_unix_nano < b.start_unix_nano;
    return a.span_id < b.span_id;
  });
  t.spans = std::move(spans);
  const size_t n = t.spans.size();
  t.children.assign(n, {});
  t.depth.assign(n, 0);

  std::unordered_map<std::string_view, size_t> by_id;
  for (size_t i = 0; i < n; ++i) by_id.emplace(t.spans[i].span_id, i);
  // parent[i]: the index of spans[i]'s parent, or n when it has none in the trace.
  std::vector<size_t> parent(n, n);
  for (size_t i = 0; i < n; ++i) {
    const std::string& p = t.spans[i].parent_span_id;
    if (p.empty() || p == t.spans[i].span_id) continue;
    if (auto it = by_id.find(p); it != by_id.end()) parent[i] = it->second;
  }
  for (size_t i = 0; i < n; ++i) {
    if (parent[i] != n) t.children[parent[i]].push_back(i);  // in start order: i ascends
  }

  // Walk from the roots. A span not reached then has a parent chain that ends in a cycle: the
  // earliest span of the cycle becomes a root (its link to its parent is dropped).
  std::vector<bool> reached(n, false);
  auto walk = [&](size_t root) {
    std::vector<size_t> stack{root};
    reached[root] = true;
    t.depth[root] = 0;
    while (!stack.empty()) {
      size_t i = stack.back();
      stack.pop_back();
      for (size_t c : t.children[i]) {
        if (reached[c]) continue;
        reached[c] = true;
        t.depth[c] = t.depth[i] + 1;
        stack.push_back(c);
      }
    }
  };
  for (size_t i = 0; i < n; ++i) {
    if (parent[i] == n) {
      t.roots.push_back(i);
      walk(i);
    }
  }
  std::vector<size_t> chased(n, n);  // chased[j] == i: j was on the chain followed from i
  for (size_t i = 0; i < n; ++i) {
    if (reached[i]) continue;
    size_t j = i;
    while (chased[j] != i) {  // unreached spans always have a parent
      chased[j] = i;
      j = parent[j];
    }
    size_t cut = j;  // j is on the cycle: find its earliest span
    for (size_t k = parent[j]; k != j; k = parent[k]) cut = std::min(cut, k);
    std::erase(t.children[parent[cut]], cut);
    parent[cut] = n;
    t.roots.push_back(cut);
    walk(cut);
  }
  std::sort(t.roots.begin(), t.roots.end());
  return t;
}

std::vector<size_t> TraceTree::DepthFirst() const {
  std::vector<size_t> out;
  out.reserve(spans.size());
  std::vector<size_t> stack(roots.rbegin(), roots.rend());
  while (!stack.empty()) {
    size_t i = stack.back();
    stack.pop_back();
    out.push_back(i);
    for (auto it = children[i].rbegin(); it != children[i].rend(); ++it) stack.push_back(*it);
  }
  return out;
}

namespace {

bool SpanBefore(const events::Span& a, const events::Span& b) {
  if (a.start_unix_nano != b.start_unix_nano) return a.start_unix_nano < b.start_unix_nano;
  return a.span_id < b.span_id;
}

}  // namespace

void SortAndDeduplicateSpans(std::vector<events::Span>* trace) {
  std::stable_sort(trace->begin(), trace->end(), SpanBefore);
  std::unordered_set<std::string> ids;
  std::erase_if(*trace, [&](const events::Span& s) { return !ids.insert(s.span_id).second; });
}

TraceSummary SummarizeTrace(const std::vector<events::Span>& spans) {
  TraceSummary t;
  t.trace_id = spans.front().trace_id;
  t.start_unix_nano = spans.front().start_unix_nano;
  t.end_unix_nano = spans.front().end_unix_nano;
  const events::Span* root = nullptr;
  std::set<std::string> services;
  std::set<std::string> models;
  for (const events::Span& s : spans) {
    t.start_unix_nano = std::min(t.start_unix_nano, s.start_unix_nano);
    t.end_unix_nano = std::max(t.end_unix_nano, s.end_unix_nano);
    ++t.span_count;
    if (s.status == events::StatusCode::kError) ++t.error_count;
    services.insert(s.service);
    if (std::string_view m = SpanModel(s); !m.empty()) models.emplace(m);
    if (s.parent_span_id.empty() && root == nullptr) root = &s;  // spans are sorted: the earliest root
  }
  if (root == nullptr) root = &spans.front();
  t.root_service = root->service;
  t.root_name = root->name;
  t.services.assign(services.begin(), services.end());
  t.models.assign(models.begin(), models.end());
  return t;
}

}  // namespace tyto::eventstore
