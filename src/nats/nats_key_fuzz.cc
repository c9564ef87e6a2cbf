// libFuzzer target: any bytes through the key-value store's key codec (kv_store.h), whose
// decoder reads keys from a NATS bucket other programs may write. Neither side may crash or read
// out of bounds; DecodeKey fails only with kInvalidArgument; every key round-trips
// (DecodeKey(EncodeKey(k)) == k), encodings use only NATS's key characters, and a decoded key
// encodes back to the very text it came from (one key, one spelling).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "nats/kv_store.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

bool IsNatsKeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '/' || c == '=' || c == '.';
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::string encoded = tyto::nats::EncodeKey(input);
  for (char c : encoded) Check(IsNatsKeyChar(c) && c != '.');
  auto back = tyto::nats::DecodeKey(encoded);
  Check(back.ok() && *back == input);

  auto decoded = tyto::nats::DecodeKey(input);
  if (!decoded.ok()) {
    Check(decoded.status().code() == tyto::StatusCode::kInvalidArgument);
  } else {
    Check(tyto::nats::EncodeKey(*decoded) == input);
  }
  return 0;
}
