#include "tsdb/block/format.h"

#include <limits>

#include "common/coding.h"

namespace tyto::tsdb::block::format {
namespace {

std::string Hex(uint32_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s = "0x";
  for (int shift = 28; shift >= 0; shift -= 4) s.push_back(kDigits[(v >> shift) & 0xf]);
  return s;
}

Status MetaCorruption(const std::string& path, std::string_view what) {
  return Corruption(path + ": " + std::string(what));
}

}  // namespace

std::string FileHeader(uint32_t magic) {
  std::string h;
  coding::PutFixed32(&h, magic);
  h.push_back(static_cast<char>(kVersion));
  h.append(3, '\0');
  return h;
}

Status CheckHeader(std::string_view data, uint32_t magic, const std::string& path) {
  if (data.size() < kHeaderSize) {
    return Corruption(path + ": file of " + std::to_string(data.size()) + " bytes is shorter than its " +
                      std::to_string(kHeaderSize) + "-byte header");
  }
  const uint32_t got = coding::DecodeFixed32(data.data());
  if (got != magic) {
    return Corruption(path + ": bad magic number " + Hex(got) + " at offset 0, want " + Hex(magic));
  }
  if (static_cast<uint8_t>(data[4]) != kVersion) {
    return Corruption(path + ": unsupported format version " + std::to_string(static_cast<uint8_t>(data[4])) +
                      " at offset 4 (this build reads version " + std::to_string(kVersion) + ")");
  }
  if (data[5] != 0 || data[6] != 0 || data[7] != 0)
    return Corruption(path + ": reserved header bytes 5-7 are not zero");
  return Status::Ok();
}

bool IsValidId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string EncodeMeta(const MetaFile& m) {
  std::string out = FileHeader(kMetaMagic);
  coding::PutLengthPrefixed(&out, m.meta.id);
  coding::PutVarintSigned64(&out, m.meta.min_time);
  coding::PutVarintSigned64(&out, m.meta.max_time);
  coding::PutVarint64(&out, m.meta.num_series);
  coding::PutVarint64(&out, m.meta.num_chunks);
  coding::PutVarint64(&out, m.meta.num_samples);
  coding::PutVarint64(&out, static_cast<uint64_t>(m.meta.level));
  coding::PutVarint64(&out, static_cast<uint64_t>(m.meta.resolution_ms));
  coding::PutVarint64(&out, m.index_bytes);
  coding::PutVarint64(&out, m.chunks_bytes);
  coding::PutVarint64(&out, m.meta.sources.size());
  for (const std::string& s : m.meta.sources) coding::PutLengthPrefixed(&out, s);
  coding::PutFixed32(&out, Crc32(out));
  return out;
}

Result<MetaFile> DecodeMeta(std::string_view data, const std::string& path) {
  TYTO_RETURN_IF_ERROR(CheckHeader(data, kMetaMagic, path));
  if (data.size() < kHeaderSize + 4) return MetaCorruption(path, "file ends before its checksum");
  const size_t body = data.size() - 4;
  const uint32_t want = coding::DecodeFixed32(data.data() + body);
  if (Crc32(data.substr(0, body)) != want) {
    return MetaCorruption(path, "checksum mismatch (file of " + std::to_string(data.size()) + " bytes)");
  }
  MetaFile m;
  Decoder d(data.substr(kHeaderSize, body - kHeaderSize));
  m.meta.id = std::string(d.LengthPrefixed());
  m.meta.min_time = d.SignedVarint();
  m.meta.max_time = d.SignedVarint();
  m.meta.num_series = d.Varint();
  m.meta.num_chunks = d.Varint();
  m.meta.num_samples = d.Varint();
  const uint64_t level = d.Varint();
  const uint64_t resolution = d.Varint();
  m.index_bytes = d.Varint();
  m.chunks_bytes = d.Varint();
  const uint64_t sources = d.Varint();
  for (uint64_t i = 0; i < sources && d.ok(); ++i) m.meta.sources.emplace_back(d.LengthPrefixed());
  if (!d.done()) {
    return MetaCorruption(path,
                          d.ok() ? "bytes after the last field at offset " + std::to_string(kHeaderSize + d.position())
                                 : std::string("a field runs past the end of the file"));
  }
  if (!IsValidId(m.meta.id)) return MetaCorruption(path, "invalid block id '" + m.meta.id + "'");
  if (m.meta.min_time > m.meta.max_time) return MetaCorruption(path, "min_time is after max_time");
  if (level < 1 || level > static_cast<uint64_t>(std::numeric_limits<int>::max())) {
    return MetaCorruption(path, "level " + std::to_string(level) + " out of range");
  }
  if (resolution > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return MetaCorruption(path, "resolution out of range");
  }
  m.meta.level = static_cast<int>(level);
  m.meta.resolution_ms = static_cast<int64_t>(resolution);
  return m;
}

void AppendChunkRecord(chunk::Encoding encoding, std::string_view bytes, std::string* out, uint64_t back) {
  const size_t start = out->size();
  out->push_back(static_cast<char>(encoding));
  if (chunk::IsValuesOnly(encoding)) coding::PutVarint64(out, back);
  coding::PutVarint64(out, bytes.size());
  out->append(bytes);
  const uint32_t crc = Crc32(std::string_view(*out).substr(start));
  coding::PutFixed32(out, crc);
}

Result<ChunkRecord> ReadChunkRecord(std::string_view data, uint64_t ref, const std::string& path) {
  auto bad = [&](std::string_view what) {
    return Corruption(path + ": chunk at offset " + std::to_string(ref) + ": " + std::string(what));
  };
  if (ref < kHeaderSize || ref >= data.size() || data.size() - ref < kChunkRecordMinSize) {
    return bad("outside the file's records (file of " + std::to_string(data.size()) + " bytes)");
  }
  Decoder d(data.substr(ref));
  const auto encoding = static_cast<chunk::Encoding>(static_cast<uint8_t>(d.Bytes(1)[0]));
  const uint64_t back = chunk::IsValuesOnly(encoding) ? d.Varint() : 0;
  const uint64_t n = d.Varint();
  if (!d.ok() || n > d.remaining() || d.remaining() - n < 4) return bad("runs past the end of the file");
  const size_t covered = d.position() + static_cast<size_t>(n);
  const std::string_view record = data.substr(ref, covered);
  const uint32_t want = coding::DecodeFixed32(data.data() + ref + covered);
  if (Crc32(record) != want) return bad("checksum mismatch");
  ChunkRecord r{encoding, record.substr(covered - static_cast<size_t>(n)), 0};
  if (chunk::IsValuesOnly(encoding)) {
    if (back == 0 || back > ref - kHeaderSize) return bad("its timestamp column is outside the file's records");
    r.column_ref = ref - back;
  }
  return r;
}

std::string FrameIndex(std::string_view symbols, std::string_view series, std::string_view labels) {
  std::string out = FileHeader(kIndexMagic);
  std::string toc;
  for (std::string_view section : {symbols, series, labels}) {
    out.append(section);
    coding::PutFixed32(&out, Crc32(section));
    coding::PutFixed64(&toc, section.size());
  }
  coding::PutFixed32(&toc, Crc32(toc));
  out.append(toc);
  return out;
}

Result<IndexSections> SplitIndex(std::string_view data, const std::string& path) {
  TYTO_RETURN_IF_ERROR(CheckHeader(data, kIndexMagic, path));
  if (data.size() < kHeaderSize + 3 * kSectionCrcSize + kTocSize) {
    return Corruption(path + ": file of " + std::to_string(data.size()) + " bytes is too short for an index");
  }
  const size_t toc_at = data.size() - kTocSize;
  const std::string_view toc = data.substr(toc_at);
  if (Crc32(toc.substr(0, kTocSize - 4)) != coding::DecodeFixed32(toc.data() + kTocSize - 4)) {
    return Corruption(path + ": checksum mismatch in the table of contents at offset " + std::to_string(toc_at));
  }
  static constexpr const char* kNames[3] = {"symbols", "series", "labels"};
  std::string_view sections[3];
  uint64_t offsets[3];
  uint64_t at = kHeaderSize;
  for (int i = 0; i < 3; ++i) {
    const uint64_t len = coding::DecodeFixed64(toc.data() + size_t{8} * i);
    if (len > toc_at - at || toc_at - at - len < kSectionCrcSize) {
      return Corruption(path + ": the table of contents at offset " + std::to_string(toc_at) + " puts the " +
                        kNames[i] + " section (" + std::to_string(len) + " bytes at offset " + std::to_string(at) +
                        ") past the end of the file");
    }
    sections[i] = data.substr(at, len);
    offsets[i] = at;
    if (Crc32(sections[i]) != coding::DecodeFixed32(data.data() + at + len)) {
      return Corruption(path + ": checksum mismatch in the " + kNames[i] + " section (offset " + std::to_string(at) +
                        ", " + std::to_string(len) + " bytes)");
    }
    at += len + kSectionCrcSize;
  }
  if (at != toc_at) {
    return Corruption(path + ": " + std::to_string(toc_at - at) + " unaccounted bytes at offset " + std::to_string(at) +
                      " before the table of contents");
  }
  return IndexSections{sections[0], sections[1], sections[2], offsets[0], offsets[1], offsets[2]};
}

uint64_t Decoder::Varint() {
  if (p_ == nullptr) return 0;
  uint64_t v = 0;
  p_ = coding::GetVarint64(p_, end_, &v);
  return p_ == nullptr ? 0 : v;
}

int64_t Decoder::SignedVarint() { return coding::UnZigZag(Varint()); }

std::string_view Decoder::Bytes(uint64_t n) {
  if (p_ == nullptr || n > static_cast<uint64_t>(end_ - p_)) {
    p_ = nullptr;
    return {};
  }
  std::string_view s(p_, static_cast<size_t>(n));
  p_ += n;
  return s;
}

}  // namespace tyto::tsdb::block::format
