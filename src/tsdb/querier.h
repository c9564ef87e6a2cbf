// Queriers over blocks, and the merge of several queriers into one.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tyto/storage.h"

namespace tyto::tsdb {

namespace block {
class Reader;
struct ChunkMeta;
}

// Reads one block over [mint, maxt]. Keeps the block open while the querier or anything it
// returned is alive.
std::unique_ptr<Querier> NewBlockQuerier(std::shared_ptr<block::Reader> block, int64_t mint, int64_t maxt);

// Samples of one block series from `chunks` (as Reader::SeriesChunks gave them), within
// [mint, maxt]. Keeps the block open while alive.
std::unique_ptr<SeriesIterator> NewBlockSeriesIterator(std::shared_ptr<block::Reader> block,
                                                       std::vector<block::ChunkMeta> chunks, int64_t mint,
                                                       int64_t maxt);

// Sorted, distinct label names over `series`; and the values of label `name` on them.
std::vector<std::string> LabelNamesOf(const std::vector<Labels>& series);
std::vector<std::string> LabelValuesOf(const std::vector<Labels>& series, const std::string& name);

// Merges queriers whose data do not overlap in time, given in time order: a series present in
// several is one series whose samples are concatenated in that order. Samples not after the
// previous one are skipped, so an accidental overlap never yields out-of-order output.
std::unique_ptr<Querier> NewMergeQuerier(std::vector<std::unique_ptr<Querier>> queriers);

// Joins the iterators of one series from several sources (in the sources' order) into one.
using IteratorJoin = std::function<std::unique_ptr<SeriesIterator>(std::vector<std::unique_ptr<SeriesIterator>>)>;

// The iterators in order, a sample not after the previous one skipped (the join
// NewMergeQuerier uses).
std::unique_ptr<SeriesIterator> NewChainIterator(std::vector<std::unique_ptr<SeriesIterator>> its);

// K-way merge of series sets, each sorted by labels, given in time order: equal label sets
// become one series whose iterator is `join` of the sources' iterators.
std::unique_ptr<SeriesSet> NewMergeSeriesSet(std::vector<std::unique_ptr<SeriesSet>> sets, IteratorJoin join);

// An iterator over samples held in memory, in time order.
std::unique_ptr<SeriesIterator> NewVectorIterator(std::vector<Sample> samples);

// A series set with no series that reports `s` (a selection that failed).
std::unique_ptr<SeriesSet> NewErrorSeriesSet(Status s);

}  // namespace tyto::tsdb
