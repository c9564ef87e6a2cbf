// The block files' byte layouts, shared by the writer, the reader, the tests and the fuzzer.
// Drawn byte by byte in docs/format/block.md; change both together.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/crc32.h"
#include "tsdb/block/block.h"
#include "tsdb/chunk/chunk.h"
#include "tyto/status.h"

namespace tyto::tsdb::block::format {

inline constexpr char kMetaFile[] = "meta";
inline constexpr char kIndexFile[] = "index";
inline constexpr char kChunksFile[] = "chunks";
// A directory being written (`<id>.tmp`) or removed (`<id>.delete.tmp`); never a block.
inline constexpr std::string_view kTmpSuffix = ".tmp";
inline constexpr std::string_view kDeleteSuffix = ".delete.tmp";

// Every file starts with magic (4, LE) | version (1) | reserved, zero (3).
inline constexpr size_t kHeaderSize = 8;
inline constexpr uint32_t kMetaMagic = 0x4D425954;    // "TYBM" in file byte order
inline constexpr uint32_t kIndexMagic = 0x49425954;   // "TYBI"
inline constexpr uint32_t kChunksMagic = 0x43425954;  // "TYBC"
inline constexpr uint8_t kVersion = 1;

// The index ends with its table of contents: the byte lengths of the symbols, series and labels
// sections (u64 LE each; sections are contiguous after the header, each followed by the CRC-32
// of its bytes), then the CRC-32 of those 24 bytes.
inline constexpr size_t kTocSize = 28;
inline constexpr size_t kSectionCrcSize = 4;

// Readers remember the position of every kSampleEvery-th symbol, series and label value, and
// walk at most kSampleEvery - 1 entries from there.
inline constexpr uint32_t kSampleEvery = 16;

// A chunk record: encoding (1) | varint length | bytes | CRC-32 of all before (4, LE). A
// values-only chunk's record has, after the encoding, a varint `back`: its timestamp column is
// the record that starts `back` bytes before it.
inline constexpr size_t kChunkRecordMinSize = 6;


// The 8 header bytes of a file with this magic.
std::string FileHeader(uint32_t magic);
// kCorruption naming `path` unless `data` starts with the header for `magic`.
Status CheckHeader(std::string_view data, uint32_t magic, const std::string& path);

// [0-9A-Za-z_-], 1 to 64 characters: safe as a directory name.
bool IsValidId(std::string_view id);

// The meta file: what Meta holds, plus the sizes of the index and chunks files.
struct MetaFile {
  Meta meta;
  uint64_t index_bytes = 0;
  uint64_t chunks_bytes = 0;
};
std::string EncodeMeta(const MetaFile& m);
// kCorruption naming `path` for anything but a well-formed meta file.
Result<MetaFile> DecodeMeta(std::string_view data, const std::string& path);

// Appends a chunk record to *out. `back` (> 0) is for values-only encodings only, 0 otherwise.
void AppendChunkRecord(chunk::Encoding encoding, std::string_view bytes, std::string* out, uint64_t back = 0);

struct ChunkRecord {
  chunk::Encoding encoding;
  std::string_view bytes;
  uint64_t column_ref = 0;  // values-only encodings: the offset of the timestamp column's record
};
// The record at offset `ref` of the chunks file `data` (named `path` in errors), after checking
// that it lies inside the file and its CRC (and that a column reference points backwards
// inside the file; what is there is the caller's to check).
Result<ChunkRecord> ReadChunkRecord(std::string_view data, uint64_t ref, const std::string& path);

// The whole index file around three section payloads: header, sections with their CRCs, table
// of contents.
std::string FrameIndex(std::string_view symbols, std::string_view series, std::string_view labels);

// The three section payloads of an index file, after checking the header, the table of contents
// and every CRC. Offsets are the sections' positions in the file, for error messages.
struct IndexSections {
  std::string_view symbols, series, labels;
  uint64_t symbols_offset = 0, series_offset = 0, labels_offset = 0;
};
Result<IndexSections> SplitIndex(std::string_view data, const std::string& path);

// Reads LEB128 varints and bytes from a buffer without ever reading past its end: the first
// failure makes ok() false, and every read after it returns 0 or an empty view.
class Decoder {
 public:
  explicit Decoder(std::string_view data) : begin_(data.data()), p_(data.data()), end_(data.data() + data.size()) {}

  uint64_t Varint();
  int64_t SignedVarint();  // zig-zag
  std::string_view Bytes(uint64_t n);
  std::string_view LengthPrefixed() { return Bytes(Varint()); }

  bool ok() const { return p_ != nullptr; }
  // ok() and everything consumed.
  bool done() const { return p_ != nullptr && p_ == end_; }
  size_t remaining() const { return p_ == nullptr ? 0 : static_cast<size_t>(end_ - p_); }
  // Bytes consumed so far (meaningful while ok()).
  size_t position() const { return p_ == nullptr ? 0 : static_cast<size_t>(p_ - begin_); }

 private:
  const char* begin_;
  const char* p_;  // null after a failure
  const char* end_;
};

}  // namespace tyto::tsdb::block::format
