// Decompression bombs for tests of the caps on decoded request bodies (src/http/content_encoding.h,
// src/ingest/snappy_codec.h): small, valid compressed bodies that expand enormously. Each is a
// real stream a decoder without a cap would expand whole; built in well under a second.
#pragma once

#include <cstdint>
#include <string>

namespace tyto::testing {

// A gzip member (RFC 1952, with a correct CRC-32 and size trailer) whose content is
// `mib` MiB of zero bytes. Deflate's best ratio is about 1:1000: 10240 MiB (10 GiB) take
// about 10 MB. Built from one compressed 1 MiB block repeated (each block follows a full
// flush, so the compressed bytes of every block after the first are identical).
std::string GzipBomb(uint64_t mib);

// zstd frames, concatenated, that decode to `mib` MiB of zero bytes; with `declare_size` each
// frame's header states its content size (a decoder can refuse it from the header), without it
// the size is known only by decoding. 10 GiB take well under 1 MB.
std::string ZstdBomb(uint64_t mib, bool declare_size);

// A snappy block (remote write's format) of `mib` MiB of zero bytes. Snappy's best ratio is
// about 1:21, so 200 MiB take about 10 MB; its header declares the size.
std::string SnappyBomb(uint64_t mib);

}  // namespace tyto::testing
