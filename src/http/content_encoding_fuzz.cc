// libFuzzer target: DecodeBody (content_encoding.h) on any bytes as gzip and as zstd, under a
// small cap. Invariants: no crash, an error is one of the three documented codes, and a decoded
// body never passes the cap (a bomb cannot make it allocate more).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/content_encoding.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  constexpr size_t kCap = 1 << 16;
  for (const char* enc : {"gzip", "zstd"}) {
    std::string storage;
    std::string_view out;
    tyto::Status s = tyto::http::DecodeBody(enc, body, kCap, &storage, &out);
    if (s.ok()) {
      if (out.size() > kCap) std::abort();
    } else if (s.code() != tyto::StatusCode::kResourceExhausted && s.code() != tyto::StatusCode::kInvalidArgument) {
      std::abort();
    }
  }
  return 0;
}
