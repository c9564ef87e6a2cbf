#include "testing/compression_bombs.h"

#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <cstdlib>
#include <cstring>
#include <memory>

namespace tyto::testing {
namespace {

constexpr size_t kMiB = 1 << 20;

// Runs deflate on `in` with `flush`, appending everything it produces to *out.
void Deflate(z_stream* zs, const std::string& in, int flush, std::string* out) {
  zs->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs->avail_in = static_cast<uInt>(in.size());
  char buf[64 * 1024];
  do {
    zs->next_out = reinterpret_cast<Bytef*>(buf);
    zs->avail_out = sizeof(buf);
    const int rc = deflate(zs, flush);
    if (rc == Z_STREAM_ERROR) std::abort();  // a bug in this builder, not input
    out->append(buf, sizeof(buf) - zs->avail_out);
  } while (zs->avail_out == 0);
}

}  // namespace

std::string GzipBomb(uint64_t mib) {
  const std::string zeros(kMiB, '\0');
  z_stream zs{};
  if (deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK) std::abort();
  // Header and the first block; then one block more, whose bytes every later block repeats
  // (a full flush resets the compressor, so the same input compresses the same way).
  std::string out;
  Deflate(&zs, zeros, Z_FULL_FLUSH, &out);
  std::string block;
  if (mib > 1) Deflate(&zs, zeros, Z_FULL_FLUSH, &block);
  deflateEnd(&zs);
  out.reserve(out.size() + block.size() * (mib > 1 ? mib - 1 : 0) + 16);
  for (uint64_t i = 1; i < mib; ++i) out += block;
  // The final (empty) block, then the trailer for the whole content.
  z_stream raw{};
  if (deflateInit2(&raw, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY) != Z_OK) std::abort();
  Deflate(&raw, std::string(), Z_FINISH, &out);
  deflateEnd(&raw);
  const uLong one = crc32(0, reinterpret_cast<const Bytef*>(zeros.data()), static_cast<uInt>(zeros.size()));
  uLong crc = mib > 0 ? one : crc32(0, nullptr, 0);
  for (uint64_t i = 1; i < mib; ++i) crc = crc32_combine(crc, one, static_cast<z_off_t>(kMiB));
  const uint32_t size = static_cast<uint32_t>(mib * kMiB);  // ISIZE is the size modulo 2^32
  for (uint32_t v : {static_cast<uint32_t>(crc), size}) {
    for (int b = 0; b < 4; ++b) out.push_back(static_cast<char>((v >> (8 * b)) & 0xff));
  }
  return out;
}

std::string ZstdBomb(uint64_t mib, bool declare_size) {
  // One frame of 64 MiB (or `mib` when smaller), repeated; the remainder as a last frame.
  auto frame = [&](size_t bytes) {
    std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> ctx(ZSTD_createCCtx(), ZSTD_freeCCtx);
    ZSTD_CCtx_setParameter(ctx.get(), ZSTD_c_compressionLevel, 1);
    ZSTD_CCtx_setParameter(ctx.get(), ZSTD_c_contentSizeFlag, declare_size ? 1 : 0);
    const std::string zeros(kMiB, '\0');
    std::string out;
    char buf[64 * 1024];
    for (size_t done = 0; done < bytes; done += kMiB) {
      const bool last = done + kMiB >= bytes;
      if (declare_size && done == 0) ZSTD_CCtx_setPledgedSrcSize(ctx.get(), bytes);
      ZSTD_inBuffer in{zeros.data(), kMiB, 0};
      size_t left;
      do {
        ZSTD_outBuffer o{buf, sizeof(buf), 0};
        left = ZSTD_compressStream2(ctx.get(), &o, &in, last ? ZSTD_e_end : ZSTD_e_continue);
        if (ZSTD_isError(left)) std::abort();
        out.append(buf, o.pos);
      } while (in.pos < in.size || (last && left != 0));
    }
    return out;
  };
  const uint64_t per_frame = 64;
  std::string out;
  const std::string full = mib >= per_frame ? frame(per_frame * kMiB) : std::string();
  for (uint64_t i = 0; i < mib / per_frame; ++i) out += full;
  if (mib % per_frame != 0) out += frame((mib % per_frame) * kMiB);
  return out;
}

std::string SnappyBomb(uint64_t mib) {
  const std::string zeros(mib * kMiB, '\0');
  std::string out;
  snappy::Compress(zeros.data(), zeros.size(), &out);
  return out;
}

}  // namespace tyto::testing
