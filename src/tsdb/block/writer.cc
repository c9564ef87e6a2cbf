// Writing a block: validation, the chunks file (streamed), the index (built in memory), meta,
// and the atomic rename. Layouts: docs/format/block.md.
#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <limits>
#include <optional>
#include <random>
#include <unordered_map>

#include "common/coding.h"
#include "tsdb/block/block.h"
#include "tsdb/block/format.h"

namespace tyto::tsdb::block {
namespace {

// A file written front to back that knows its length, for chunk references. WritableFile
// already buffers small appends and passes large ones straight through.
class CountingWriter {
 public:
  explicit CountingWriter(std::unique_ptr<WritableFile> file) : file_(std::move(file)) {}

  uint64_t offset() const { return offset_; }

  Status Append(std::string_view data) {
    offset_ += data.size();
    return file_->Append(data);
  }

  // fdatasyncs and closes.
  Status Finish() {
    TYTO_RETURN_IF_ERROR(file_->Sync());
    return file_->Close();
  }

 private:
  std::unique_ptr<WritableFile> file_;
  uint64_t offset_ = 0;
};

Status WriteWholeFile(Env* env, const std::string& path, std::string_view data) {
  TYTO_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, env->NewWritableFile(path));
  CountingWriter w(std::move(file));
  TYTO_RETURN_IF_ERROR(w.Append(data));
  return w.Finish();
}

bool Empty(const ChunkData& c) { return c.num_samples == 0; }

bool Empty(const SeriesData& s) {
  return std::all_of(s.chunks.begin(), s.chunks.end(), [](const auto& c) { return Empty(c); });
}

// Checks the caller's promises (see Write) and fills meta's counts.
Status Validate(const std::vector<SeriesData>& series, Meta* meta) {
  if (!format::IsValidId(meta->id)) {
    return InvalidArgument("block id '" + meta->id + "' is not 1 to 64 characters of [0-9A-Za-z_-]");
  }
  if (meta->min_time > meta->max_time) return InvalidArgument("block min_time is after max_time");
  if (meta->level < 1) return InvalidArgument("block level must be at least 1");
  if (meta->resolution_ms < 0) return InvalidArgument("block resolution must not be negative");
  meta->num_series = meta->num_chunks = meta->num_samples = 0;
  for (size_t i = 0; i < series.size(); ++i) {
    const SeriesData& s = series[i];
    auto bad = [&](std::string_view what) {
      return InvalidArgument("block series " + std::to_string(i) + " " + s.labels.ToString() + ": " +
                             std::string(what));
    };
    if (s.labels.empty()) return bad("has no labels");
    if (i > 0 && !(series[i - 1].labels < s.labels)) return bad("does not sort after the series before it");
    const ChunkData* prev = nullptr;
    for (const ChunkData& c : s.chunks) {
      if (c.num_samples < 0 || c.num_samples > chunk::kMaxSamples) return bad("chunk sample count out of range");
      if (Empty(c)) continue;
      if (c.mint > c.maxt) return bad("chunk mint is after its maxt");
      if (c.mint < meta->min_time || c.maxt > meta->max_time) return bad("chunk outside the block's time range");
      if (prev != nullptr && c.mint <= prev->maxt) return bad("chunks overlap or are not in time order");
      if (static_cast<uint64_t>(c.maxt) - static_cast<uint64_t>(c.mint) >
          static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return bad("chunk spans more than 2^63 ms");
      }
      if (chunk::EncodingName(c.encoding) == "unknown") return bad("chunk has an unknown encoding");
      if (chunk::IsValuesOnly(c.encoding)) {
        return bad("chunk is values-only (" + std::string(chunk::EncodingName(c.encoding)) +
                   "); blocks take chunks with their timestamps and share timestamp columns themselves");
      }
      prev = &c;
      ++meta->num_chunks;
      meta->num_samples += static_cast<uint64_t>(c.num_samples);
    }
    if (prev != nullptr) ++meta->num_series;
  }
  if (meta->num_series > std::numeric_limits<uint32_t>::max()) return InvalidArgument("too many series for one block");
  return Status::Ok();
}

// The symbols section: every distinct label name and value, sorted.
class SymbolTable {
 public:
  explicit SymbolTable(const std::vector<SeriesData>& series) {
    for (const SeriesData& s : series) {
      if (Empty(s)) continue;
      for (const Label& l : s.labels) {
        symbols_.push_back(l.name);
        symbols_.push_back(l.value);
      }
    }
    std::sort(symbols_.begin(), symbols_.end());
    symbols_.erase(std::unique(symbols_.begin(), symbols_.end()), symbols_.end());
  }

  // Precondition: s is one of the symbols.
  uint32_t Id(std::string_view s) const {
    return static_cast<uint32_t>(std::lower_bound(symbols_.begin(), symbols_.end(), s) - symbols_.begin());
  }

  std::string Section() const {
    std::string out;
    coding::PutVarint64(&out, symbols_.size());
    for (std::string_view s : symbols_) coding::PutLengthPrefixed(&out, s);
    return out;
  }

 private:
  std::vector<std::string_view> symbols_;
};

// The labels section from (name id, value id, series id) triples.
std::string LabelsSection(std::vector<std::array<uint32_t, 3>> postings) {
  std::sort(postings.begin(), postings.end());
  std::string out;
  size_t names = 0;
  for (size_t i = 0; i < postings.size(); ++i) names += i == 0 || postings[i][0] != postings[i - 1][0];
  coding::PutVarint64(&out, names);
  std::string list;
  for (size_t i = 0; i < postings.size();) {
    const uint32_t name = postings[i][0];
    size_t end = i;
    size_t values = 0;
    for (; end < postings.size() && postings[end][0] == name; ++end)
      values += end == i || postings[end][1] != postings[end - 1][1];
    coding::PutVarint64(&out, name);
    coding::PutVarint64(&out, values);
    for (size_t j = i; j < end;) {
      const uint32_t value = postings[j][1];
      coding::PutVarint64(&out, j == i ? value : value - postings[j - 1][1]);
      list.clear();
      for (size_t k = j; j < end && postings[j][1] == value; ++j) {
        coding::PutVarint64(&list, j == k ? postings[j][2] : postings[j][2] - postings[j - 1][2]);
      }
      coding::PutLengthPrefixed(&out, list);
    }
    i = end;
  }
  return out;
}

// A chunk's samples, or nullopt if its bytes do not decode to num_samples samples (it is then
// stored as it is).
std::optional<chunk::Samples> Decode(const ChunkData& c) {
  auto opened = chunk::ChunkFromBytes(c.encoding, std::string(c.bytes));
  if (!opened.ok()) return std::nullopt;
  chunk::Samples samples;
  samples.reserve(static_cast<size_t>(c.num_samples));
  auto it = (*opened)->NewIterator();
  while (it->Next()) samples.emplace_back(it->t(), it->v());
  if (!it->status().ok() || samples.size() != static_cast<size_t>(c.num_samples)) return std::nullopt;
  return samples;
}

uint64_t HashTimestamps(const chunk::Samples& samples) {
  uint64_t h = samples.size();
  for (const auto& [t, v] : samples) {
    h ^= static_cast<uint64_t>(t) + 0x9e3779b97f4a7c15 + (h << 6) + (h >> 2);
  }
  return h;
}

// Series scraped from one target have the same timestamps. A block stores each timestamp
// sequence that two or more chunks have once, as a column (an ordinary chunk whose values are
// 0), and those chunks' values alone (values-only encodings) with a reference to it; on the
// shared fleet workload this halves the bytes per sample that timestamps cost. Two passes:
// Count() every chunk first, then Write() each.
class ColumnSharing {
 public:
  void Count(const ChunkData& c) {
    if (auto samples = Decode(c)) ++uses_[HashTimestamps(*samples)];
  }

  // Appends c's record(s) to `chunks` and returns the offset of the one the index points at.
  Result<uint64_t> Write(const ChunkData& c, CountingWriter& chunks) {
    record_.clear();
    const std::optional<chunk::Samples> samples = Decode(c);
    const uint64_t hash = samples ? HashTimestamps(*samples) : 0;
    if (!samples || uses_[hash] < 2) return Verbatim(c, chunks);
    auto column = columns_.find(hash);
    if (column == columns_.end()) {
      chunk::Samples ts;
      ts.reserve(samples->size());
      for (const auto& [t, v] : *samples) ts.emplace_back(t, 0.0);
      auto encoded = chunk::EncodeBest(ts);
      const uint64_t ref = chunks.offset();
      format::AppendChunkRecord(encoded->encoding(), encoded->bytes(), &record_);
      TYTO_RETURN_IF_ERROR(chunks.Append(record_));
      column = columns_.emplace(hash, Column{ref, std::move(encoded)}).first;
    } else if (!SameTimestamps(*column->second.chunk, *samples)) {
      return Verbatim(c, chunks);  // a hash collision
    }
    const auto values = chunk::EncodeBestValues(*samples);
    const uint64_t ref = chunks.offset();
    record_.clear();
    format::AppendChunkRecord(values->encoding(), values->bytes(), &record_, ref - column->second.ref);
    TYTO_RETURN_IF_ERROR(chunks.Append(record_));
    return ref;
  }

 private:
  struct Column {
    uint64_t ref;  // of its record
    std::unique_ptr<chunk::Chunk> chunk;
  };

  Result<uint64_t> Verbatim(const ChunkData& c, CountingWriter& chunks) {
    const uint64_t ref = chunks.offset();
    record_.clear();
    format::AppendChunkRecord(c.encoding, c.bytes, &record_);
    TYTO_RETURN_IF_ERROR(chunks.Append(record_));
    return ref;
  }

  static bool SameTimestamps(const chunk::Chunk& column, const chunk::Samples& samples) {
    if (column.num_samples() != static_cast<int>(samples.size())) return false;
    auto it = column.NewIterator();
    for (const auto& [t, v] : samples) {
      if (!it->Next() || it->t() != t) return false;
    }
    return true;
  }

  std::unordered_map<uint64_t, int> uses_;  // chunks per timestamp hash
  std::unordered_map<uint64_t, Column> columns_;
  std::string record_;
};

// Writes chunks, index and meta (its counts filled by Validate) into `dir`, each fdatasynced.
Status WriteFiles(Env* env, const std::string& dir, const Meta& meta, const std::vector<SeriesData>& series) {
  const SymbolTable symbols(series);

  TYTO_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, env->NewWritableFile(dir + "/" + format::kChunksFile));
  CountingWriter chunks(std::move(file));
  TYTO_RETURN_IF_ERROR(chunks.Append(format::FileHeader(format::kChunksMagic)));

  ColumnSharing sharing;
  for (const SeriesData& s : series) {
    for (const ChunkData& c : s.chunks) {
      if (!Empty(c)) sharing.Count(c);
    }
  }

  // Each series' entry, and its chunks in the same pass (the entry holds their offsets).
  std::string series_section;
  coding::PutVarint64(&series_section, meta.num_series);
  std::vector<std::array<uint32_t, 3>> postings;
  std::string entry;
  uint32_t id = 0;
  for (const SeriesData& s : series) {
    if (Empty(s)) continue;
    entry.clear();
    coding::PutVarint64(&entry, s.labels.size());
    for (const Label& l : s.labels) {
      const uint32_t name = symbols.Id(l.name);
      const uint32_t value = symbols.Id(l.value);
      coding::PutVarint64(&entry, name);
      coding::PutVarint64(&entry, value);
      postings.push_back({name, value, id});
    }
    coding::PutVarint64(&entry, static_cast<uint64_t>(std::count_if(s.chunks.begin(), s.chunks.end(),
                                                                    [](const auto& c) { return !Empty(c); })));
    const ChunkData* prev = nullptr;
    int64_t prev_span = 0;
    uint64_t prev_ref = 0;
    for (const ChunkData& c : s.chunks) {
      if (Empty(c)) continue;
      TYTO_ASSIGN_OR_RETURN(const uint64_t ref, sharing.Write(c, chunks));
      const auto span = static_cast<int64_t>(static_cast<uint64_t>(c.maxt) - static_cast<uint64_t>(c.mint));
      if (prev == nullptr) {
        coding::PutVarint64(&entry, static_cast<uint64_t>(c.mint) - static_cast<uint64_t>(meta.min_time));
        coding::PutVarint64(&entry, static_cast<uint64_t>(span));
        coding::PutVarint64(&entry, ref);
      } else {
        coding::PutVarint64(&entry, static_cast<uint64_t>(c.mint) - static_cast<uint64_t>(prev->maxt));
        coding::PutVarintSigned64(&entry, span - prev_span);
        coding::PutVarint64(&entry, ref - prev_ref);
      }
      prev = &c;
      prev_span = span;
      prev_ref = ref;
    }
    coding::PutLengthPrefixed(&series_section, entry);
    ++id;
  }
  const uint64_t chunks_bytes = chunks.offset();
  TYTO_RETURN_IF_ERROR(chunks.Finish());

  const std::string index = format::FrameIndex(symbols.Section(), series_section, LabelsSection(std::move(postings)));
  TYTO_RETURN_IF_ERROR(WriteWholeFile(env, dir + "/" + format::kIndexFile, index));

  format::MetaFile m{meta, index.size(), chunks_bytes};
  return WriteWholeFile(env, dir + "/" + format::kMetaFile, format::EncodeMeta(m));
}

uint64_t RandomSeed() {
  std::random_device rd;
  return (uint64_t{rd()} << 32) ^ rd();
}

}  // namespace

std::string NewId(int64_t min_time) {
  // splitmix64 over a randomly seeded counter: distinct in this process, random across processes.
  static std::atomic<uint64_t> state{RandomSeed()};
  uint64_t z = state.fetch_add(0x9e3779b97f4a7c15, std::memory_order_relaxed);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
  z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
  z ^= z >> 31;
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%016llx-%08x", static_cast<unsigned long long>(min_time),
                static_cast<unsigned>(z >> 32));
  return buf;
}

Result<Meta> Write(Env* env, const std::string& parent_dir, Meta meta, const std::vector<SeriesData>& series) {
  if (parent_dir.empty()) return InvalidArgument("empty block directory path");
  if (meta.id.empty()) meta.id = NewId(meta.min_time);
  TYTO_RETURN_IF_ERROR(Validate(series, &meta));
  const std::string dir = parent_dir + "/" + meta.id;
  const std::string tmp = dir + std::string(format::kTmpSuffix);
  if (env->FileExists(dir)) return Status(StatusCode::kAlreadyExists, "block " + dir + " already exists");
  TYTO_RETURN_IF_ERROR(RemoveTree(env, tmp));  // left by a crash while writing this very id
  TYTO_RETURN_IF_ERROR(env->CreateDirs(tmp));
  Status s = WriteFiles(env, tmp, meta, series);
  if (s.ok()) s = env->SyncDir(tmp);
  if (s.ok()) s = env->RenameFile(tmp, dir);
  if (!s.ok()) {
    (void)RemoveTree(env, tmp);  // best effort: the error that matters is s
    return s.WithContext("writing block " + dir);
  }
  TYTO_RETURN_IF_ERROR(env->SyncDir(parent_dir));
  return meta;
}

}  // namespace tyto::tsdb::block
