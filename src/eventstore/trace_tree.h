// BuildTraceTree: a trace's spans (as EventStore::GetTrace returns them) as a tree, parent to
// children, for the trace view; and what every TelemetryStore does to a trace's spans before
// returning them (SortAndDeduplicateSpans) or summarizing them (SummarizeTrace).
#pragma once

#include <cstddef>
#include <vector>

#include "events/model.h"
#include "eventstore/telemetry_store.h"

namespace tyto::eventstore {

// Indexes into `spans`. Every span appears exactly once in the tree: under its parent when the
// parent is in the trace, otherwise as a root (a root span, or an orphan whose parent was not
// stored or was sampled away). Spans whose parent links form a cycle (malformed input) are cut
// at the earliest of them, which becomes a root. Roots and each span's children are sorted by
// start time, then span id.
struct TraceTree {
  std::vector<events::Span> spans;
  std::vector<size_t> roots;
  std::vector<std::vector<size_t>> children;  // children[i]: of spans[i]
  std::vector<size_t> depth;                  // depth[i]: 0 for a root

  // Indexes of every span, depth first (each span before its children), as a trace view lists
  // them.
  std::vector<size_t> DepthFirst() const;
};

// Takes the spans of one trace; a span id given twice keeps its first occurrence.
TraceTree BuildTraceTree(std::vector<events::Span> spans);

// Sorts a trace's spans by start (then span id) and keeps the first of each span id (an
// exporter's retry stores a span twice).
void SortAndDeduplicateSpans(std::vector<events::Span>* trace);
// The summary of one trace's spans (not empty; sorted as above, so the root is the earliest span
// without a parent, else the first span).
TraceSummary SummarizeTrace(const std::vector<events::Span>& spans);

}  // namespace tyto::eventstore
