// Reader: opening a block (meta, the two mapped files, the index walk) and reading its chunks.
#include "tsdb/block/format.h"
#include "tsdb/block/index_reader.h"

namespace tyto::tsdb::block {
namespace {

std::string_view Basename(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

Status CheckSize(std::string_view data, uint64_t want, const std::string& path) {
  if (data.size() == want) return Status::Ok();
  return Corruption(path + ": file has " + std::to_string(data.size()) + " bytes, the block's meta says " +
                    std::to_string(want));
}

}  // namespace

Reader::~Reader() = default;

Result<std::unique_ptr<Reader>> Reader::Open(Env* env, const std::string& block_dir) {
  std::unique_ptr<Reader> r(new Reader());
  r->dir_ = WithoutTrailingSlashes(block_dir);
  const std::string meta_path = r->dir_ + "/" + format::kMetaFile;
  const std::string index_path = r->dir_ + "/" + format::kIndexFile;
  r->chunks_path_ = r->dir_ + "/" + format::kChunksFile;

  TYTO_ASSIGN_OR_RETURN(std::string meta_bytes, env->ReadFile(meta_path));
  TYTO_ASSIGN_OR_RETURN(format::MetaFile m, format::DecodeMeta(meta_bytes, meta_path));
  if (m.meta.id != Basename(r->dir_)) {
    return Corruption(meta_path + ": names block '" + m.meta.id + "', not the directory's name");
  }
  TYTO_ASSIGN_OR_RETURN(r->index_file_, env->NewMmapFile(index_path));
  TYTO_ASSIGN_OR_RETURN(r->chunks_file_, env->NewMmapFile(r->chunks_path_));
  const std::string_view index = r->index_file_->data();
  const std::string_view chunks = r->chunks_file_->data();
  TYTO_RETURN_IF_ERROR(CheckSize(index, m.index_bytes, index_path));
  TYTO_RETURN_IF_ERROR(CheckSize(chunks, m.chunks_bytes, r->chunks_path_));
  TYTO_RETURN_IF_ERROR(format::CheckHeader(chunks, format::kChunksMagic, r->chunks_path_));
  TYTO_ASSIGN_OR_RETURN(r->index_,
                        IndexReader::Open(index, index_path, {m.meta.min_time, m.meta.max_time, chunks.size()}));
  if (r->index_->num_series() != m.meta.num_series || r->index_->num_chunks() != m.meta.num_chunks) {
    return Corruption(index_path + ": holds " + std::to_string(r->index_->num_series()) + " series and " +
                      std::to_string(r->index_->num_chunks()) + " chunks, the block's meta says " +
                      std::to_string(m.meta.num_series) + " and " + std::to_string(m.meta.num_chunks));
  }
  r->meta_ = std::move(m.meta);
  r->size_bytes_ = meta_bytes.size() + index.size() + chunks.size();
  return r;
}

Result<std::vector<uint32_t>> Reader::Select(const std::vector<Matcher>& matchers) const {
  return Reported(index_->Select(matchers));
}

Result<Labels> Reader::SeriesLabels(uint32_t id) const { return Reported(index_->SeriesLabels(id)); }

Result<std::vector<ChunkMeta>> Reader::SeriesChunks(uint32_t id, int64_t mint, int64_t maxt) const {
  return Reported(index_->SeriesChunks(id, mint, maxt));
}

Result<std::unique_ptr<chunk::Chunk>> Reader::ReadChunk(const ChunkMeta& c) const {
  return Reported(ReadChunkUnreported(c));
}

Result<std::unique_ptr<chunk::Chunk>> Reader::ReadChunkUnreported(const ChunkMeta& c) const {
  const std::string_view data = chunks_file_->data();
  TYTO_ASSIGN_OR_RETURN(const format::ChunkRecord record, format::ReadChunkRecord(data, c.ref, chunks_path_));
  const std::string where = chunks_path_ + ": chunk at offset " + std::to_string(c.ref);
  auto chunk = chunk::ChunkFromBytes(record.encoding, std::string(record.bytes));
  if (!chunk.ok()) return chunk.status().WithContext(where);
  if (!chunk::IsValuesOnly(record.encoding)) return chunk;
  TYTO_ASSIGN_OR_RETURN(const format::ChunkRecord column,
                        format::ReadChunkRecord(data, record.column_ref, chunks_path_));
  auto timestamps = chunk::ChunkFromBytes(column.encoding, std::string(column.bytes));
  if (!timestamps.ok()) {
    return timestamps.status().WithContext(where + ", its timestamp column at offset " + std::to_string(record.column_ref));
  }
  auto joined = chunk::WithTimestamps(std::move(timestamps).value(), std::move(chunk).value());
  if (!joined.ok()) return joined.status().WithContext(where);
  return joined;
}

Result<std::vector<std::string>> Reader::LabelNames() const { return index_->LabelNames(); }

Result<std::vector<std::string>> Reader::LabelValues(const std::string& name) const {
  return Reported(index_->LabelValues(name));
}

}  // namespace tyto::tsdb::block
