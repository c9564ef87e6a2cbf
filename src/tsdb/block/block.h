// Blocks: immutable on-disk stores of every sample of a time range, for many series.
//
// The head cuts its closed chunks into a block every block range (2 h); compaction later merges
// blocks into longer ones. A block is a directory `<parent>/<id>/` of three files, drawn byte by
// byte in docs/format/block.md:
//   meta     what the block holds: id, time range, counts, level, sources, file sizes
//   index    symbol table, series (labels and chunk references), postings per label pair
//   chunks   the chunks' bytes exactly as the head encoded them, each with its encoding and a
//            checksum (no re-encoding)
//
// Writing is atomic: a crash at any moment leaves either no block or a complete one (plus,
// perhaps, a `<id>.tmp` directory that CleanupTemporary removes). Reading maps the files and
// never trusts them: every offset and length is checked against the mapping, every section and
// chunk against its CRC-32, so damage is a kCorruption status naming the file and offset, never
// a crash or a read out of bounds.
//
// Times are int64 milliseconds since the Unix epoch; ranges [mint, maxt] are inclusive.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tsdb/chunk/chunk.h"
#include "tyto/env.h"
#include "tyto/labels.h"
#include "tyto/matcher.h"
#include "tyto/status.h"

namespace tyto::tsdb::block {

struct Meta {
  // The directory name: "<min_time as 16 hex digits>-<8 random hex digits>", e.g.
  // "0000018bcfe56800-3fa2c19e" (NewId). Ids sort by min_time for non-negative times; ids given
  // by the caller may use [0-9A-Za-z_-], 1 to 64 characters.
  std::string id;
  int64_t min_time = 0;  // inclusive
  int64_t max_time = 0;  // inclusive
  uint64_t num_series = 0;
  uint64_t num_chunks = 0;
  uint64_t num_samples = 0;
  int level = 1;                     // 1 = cut from the head; compaction increments it
  int64_t resolution_ms = 0;         // 0 = raw samples; 300000 or 3600000 for rollups
  std::vector<std::string> sources;  // ids of the blocks compacted into this one
};

// One persisted chunk of a series: its bytes as chunk::Chunk::bytes() gave them.
struct ChunkData {
  int64_t mint = 0;  // first and last sample time, inclusive
  int64_t maxt = 0;
  chunk::Encoding encoding = chunk::Encoding::kXor;
  std::string_view bytes;
  int num_samples = 0;
};

struct SeriesData {
  Labels labels;
  std::vector<ChunkData> chunks;  // in time order, not overlapping
};

// Where a chunk of a block is, and what time it covers (inclusive). `ref` is the chunk's offset
// in the block's chunks file; it is meaningful only to the Reader that returned it.
struct ChunkMeta {
  int64_t mint = 0;
  int64_t maxt = 0;
  uint64_t ref = 0;
};

// A fresh block id for a block starting at min_time (see Meta::id).
std::string NewId(int64_t min_time);

// Writes a block atomically: into <parent>/<id>.tmp, fsyncs every file and that directory,
// renames it to <parent>/<id>, fsyncs the parent (created if missing). An empty meta.id gets
// NewId(meta.min_time). Fills num_series, num_chunks and num_samples of the returned Meta.
//
// `series` must be sorted by Labels (operator<) with distinct, non-empty label sets; chunks must
// lie in [meta.min_time, meta.max_time], each with mint <= maxt, after the previous chunk's maxt,
// with a known encoding. Chunks with no samples are dropped, and series left without chunks are
// skipped (they get no id). Errors: kInvalidArgument for input breaking these rules,
// kAlreadyExists if <parent>/<id> exists, the Env's errors (kNoSpace, kIOError) otherwise; on
// any error nothing is left behind (best effort; a crash leaves only a .tmp directory).
//
// The index is built in memory (about 50 bytes per series plus the symbols); chunks stream out.
Result<Meta> Write(Env* env, const std::string& parent_dir, Meta meta, const std::vector<SeriesData>& series);

// Removes the leftovers of interrupted writes and removals: every `*.tmp` entry under parent.
// OK if parent does not exist.
Status CleanupTemporary(Env* env, const std::string& parent_dir);

// Removes a block directory (retention, or after compaction): renames it to
// `<block_dir>.delete.tmp` (atomic, so no half-removed block is ever listed), then deletes it.
// OK if it does not exist. The caller ensures no Reader of the block is in use.
Status Remove(Env* env, const std::string& block_dir);

// The complete blocks under parent: paths `<parent>/<id>` of directories whose meta file decodes
// and names the directory, sorted by min_time, then id. `*.tmp` entries and directories without
// a meta file are ignored; a directory with a damaged meta is ignored with a warning in the log
// (Reader::Open on it says what is wrong). An empty list if parent does not exist.
Result<std::vector<std::string>> ListBlocks(Env* env, const std::string& parent_dir);

class IndexReader;

// A block opened for reading. Thread-safe after Open (and OnDamage): every method is const and
// keeps no state. Series ids are index-local, 0 .. num_series-1, in the order of their labels.
class Reader {
 public:
  // Reads and validates meta (its checksum, that its id names the directory), maps index and
  // chunks, checks their sizes against meta, their headers, every index section's checksum, and
  // the index's whole structure (symbol, series and postings references in range, chunk times
  // within the block, chunk offsets inside the chunks file). Chunks' checksums are checked when
  // they are read. Damage is kCorruption naming the file; a missing file is the Env's error.
  static Result<std::unique_ptr<Reader>> Open(Env* env, const std::string& block_dir);
  ~Reader();

  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  // `report` is called, on the reading thread, with every kCorruption a read returns (a chunk
  // failing its checksum, an index entry that does not decode), so the owner can log and count
  // damage found after Open. Set it before the reader is shared.
  void OnDamage(std::function<void(const Status&)> report) { on_damage_ = std::move(report); }

  const Meta& meta() const { return meta_; }
  const std::string& dir() const { return dir_; }
  // Bytes of all files of the block (meta, index, chunks).
  uint64_t size_bytes() const { return size_bytes_; }

  // Ids of the series matching every matcher, ascending (that is, sorted by labels), with
  // Prometheus's semantics: a matcher that matches "" also selects series without the label.
  // No matchers select every series.
  Result<std::vector<uint32_t>> Select(const std::vector<Matcher>& matchers) const;
  // kNotFound for an id >= num_series.
  Result<Labels> SeriesLabels(uint32_t id) const;
  // The series' chunks overlapping [mint, maxt], in time order. kNotFound for an unknown id.
  Result<std::vector<ChunkMeta>> SeriesChunks(uint32_t id, int64_t mint, int64_t maxt) const;
  // Reads one chunk and checks its CRC. The returned Chunk owns a copy of its bytes: it may
  // outlive this Reader. A ref that is not a chunk of this block is kCorruption (or, by chance,
  // another chunk).
  Result<std::unique_ptr<chunk::Chunk>> ReadChunk(const ChunkMeta& c) const;
  // Sorted, distinct label names of the block's series.
  Result<std::vector<std::string>> LabelNames() const;
  // Sorted, distinct values of label `name`; empty for a name no series has.
  Result<std::vector<std::string>> LabelValues(const std::string& name) const;

 private:
  Reader() = default;
  Result<std::unique_ptr<chunk::Chunk>> ReadChunkUnreported(const ChunkMeta& c) const;
  // Passes `r` through, reporting it first if it is kCorruption.
  template <typename T>
  Result<T> Reported(Result<T> r) const {
    if (!r.ok() && r.status().code() == StatusCode::kCorruption && on_damage_) on_damage_(r.status());
    return r;
  }

  std::string dir_;
  std::string chunks_path_;
  Meta meta_;
  uint64_t size_bytes_ = 0;
  std::unique_ptr<MmapFile> index_file_;
  std::unique_ptr<MmapFile> chunks_file_;
  std::unique_ptr<IndexReader> index_;  // views into index_file_
  std::function<void(const Status&)> on_damage_;
};

}  // namespace tyto::tsdb::block
