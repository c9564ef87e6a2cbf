// Snappy's block format (not its framed stream format): what remote write 1.0 compresses
// request bodies with (Content-Encoding: snappy). libsnappy stays behind this header.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "tyto/status.h"

namespace tyto::ingest {

// Decompresses `compressed` into *out (replacing its contents). The length the block declares
// is checked against `max_bytes` before anything is allocated, so a small body cannot make the
// server allocate gigabytes. Errors: kInvalidArgument for a corrupt block, kResourceExhausted
// for a declared length above `max_bytes`; both name the sizes involved.
Status SnappyUncompress(std::string_view compressed, size_t max_bytes, std::string* out);

// Compresses `raw`. For tests, seeds and tools.
std::string SnappyCompress(std::string_view raw);

}  // namespace tyto::ingest
