#include "ingest/snappy_codec.h"

#include <snappy.h>

namespace tyto::ingest {

Status SnappyUncompress(std::string_view compressed, size_t max_bytes, std::string* out) {
  size_t length = 0;
  if (!snappy::GetUncompressedLength(compressed.data(), compressed.size(), &length)) {
    return InvalidArgument("invalid snappy block: its length header is malformed (body of " +
                           std::to_string(compressed.size()) + " bytes; remote write needs the snappy block format)");
  }
  if (length > max_bytes) {
    return ResourceExhausted("snappy block declares " + std::to_string(length) +
                             " bytes uncompressed, more than the limit of " + std::to_string(max_bytes));
  }
  // RawUncompress checks every copy against the declared length, so corrupt input cannot write
  // outside the buffer; it fails when the block does not fill it exactly.
  out->resize(length);
  if (!snappy::RawUncompress(compressed.data(), compressed.size(), out->data())) {
    out->clear();
    return InvalidArgument("invalid snappy block: corrupt data (body of " + std::to_string(compressed.size()) +
                           " bytes declaring " + std::to_string(length) + " uncompressed)");
  }
  return Status::Ok();
}

std::string SnappyCompress(std::string_view raw) {
  std::string out;
  snappy::Compress(raw.data(), raw.size(), &out);
  return out;
}

}  // namespace tyto::ingest
