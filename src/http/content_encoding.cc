#include "http/content_encoding.h"

#include <zstd.h>
#include <zstd_errors.h>

#include <memory>

#include "http/gzip.h"
#include "http/message.h"

namespace tyto::http {
namespace {

constexpr size_t kStepBytes = 64 * 1024;

struct DctxFree {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

Status TooLarge(std::string_view encoding, size_t max_output, std::string_view how) {
  return ResourceExhausted(std::string(encoding) + " body " + std::string(how) + " more than " +
                           std::to_string(max_output) + " bytes, the limit on a decoded request body");
}

}  // namespace

Result<std::string> ZstdDecompress(std::string_view data, size_t max_output) {
  // The first frame's header may declare its size: refuse a bomb before decoding anything.
  const unsigned long long declared = ZSTD_getFrameContentSize(data.data(), data.size());
  if (declared == ZSTD_CONTENTSIZE_ERROR) {
    return InvalidArgument("invalid zstd body: no zstd frame header (body of " + std::to_string(data.size()) +
                           " bytes)");
  }
  if (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared > max_output) {
    return TooLarge("zstd", max_output, "declares " + std::to_string(declared) + " bytes,");
  }
  std::unique_ptr<ZSTD_DCtx, DctxFree> ctx(ZSTD_createDCtx());
  if (!ctx) return Internal("ZSTD_createDCtx failed");
  if (ZSTD_isError(ZSTD_DCtx_setParameter(ctx.get(), ZSTD_d_windowLogMax, kZstdMaxWindowLog))) {
    return Internal("cannot bound the zstd window");
  }
  std::string out;
  if (declared != ZSTD_CONTENTSIZE_UNKNOWN) out.reserve(static_cast<size_t>(declared));
  ZSTD_inBuffer in{data.data(), data.size(), 0};
  while (true) {
    // Decode the next step into `out`; once it holds max_output bytes, into a one-byte probe
    // whose filling means the body is larger.
    const size_t have = out.size();
    const bool full = have == max_output;
    char probe[1];
    ZSTD_outBuffer o{probe, sizeof(probe), 0};
    if (!full) {
      const size_t step = std::min(kStepBytes, max_output - have);
      out.resize(have + step);
      o = {out.data() + have, step, 0};
    }
    const size_t hint = ZSTD_decompressStream(ctx.get(), &o, &in);
    if (!full) out.resize(have + o.pos);
    if (ZSTD_isError(hint)) {
      if (ZSTD_getErrorCode(hint) == ZSTD_error_frameParameter_windowTooLarge) {
        return ResourceExhausted("zstd body needs a window above 2^" + std::to_string(kZstdMaxWindowLog) +
                                 " bytes; compress with a smaller window (--long=" +
                                 std::to_string(kZstdMaxWindowLog) + " at most)");
      }
      return InvalidArgument(std::string("invalid zstd body: ") + ZSTD_getErrorName(hint));
    }
    if (full && o.pos > 0) return TooLarge("zstd", max_output, "decompresses to");
    if (in.pos == in.size) {
      if (hint == 0) break;                // the last frame ended with the input
      if (o.pos < o.size) return InvalidArgument("invalid zstd body: truncated");
    }
  }
  return out;
}

std::string ZstdCompress(std::string_view data, int level) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  const size_t n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), level);
  if (ZSTD_isError(n)) return {};
  out.resize(n);
  return out;
}

Status DecodeBody(std::optional<std::string_view> content_encoding, std::string_view body, size_t max_output,
                  std::string* storage, std::string_view* out) {
  *out = body;
  const std::string enc = content_encoding ? NormalizeHeaderValue(*content_encoding) : std::string();
  if (enc.empty() || enc == "identity") return Status::Ok();
  const bool gzip = enc == "gzip" || enc == "x-gzip";
  if (!gzip && enc != "zstd") {
    return Status(StatusCode::kUnimplemented, "unsupported Content-Encoding \"" + std::string(*content_encoding) +
                                                  "\": send the body uncompressed (identity), gzip or zstd");
  }
  Result<std::string> decoded = gzip ? GzipDecompress(body, max_output) : ZstdDecompress(body, max_output);
  if (!decoded.ok()) {
    if (gzip && decoded.status().code() == StatusCode::kResourceExhausted) {
      return TooLarge("gzip", max_output, "decompresses to");
    }
    // GzipDecompress says "malformed gzip body: why"; answers say "invalid <encoding> body".
    std::string why = decoded.status().message();
    if (gzip && why.rfind("malformed gzip body: ", 0) == 0) why = "invalid gzip body: " + why.substr(21);
    return Status(decoded.status().code(), why);
  }
  *storage = std::move(decoded).value();
  *out = *storage;
  return Status::Ok();
}

int DecodeErrorStatus(const Status& s) {
  switch (s.code()) {
    case StatusCode::kResourceExhausted:
      return 413;
    case StatusCode::kUnimplemented:
      return 415;
    default:
      return 400;
  }
}

std::string DecodeRefusal(const Status& s) {
  return s.code() == StatusCode::kResourceExhausted ? "decompressed_too_large" : "";
}

}  // namespace tyto::http
