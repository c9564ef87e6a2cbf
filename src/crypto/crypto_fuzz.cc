// libFuzzer target: any bytes as a key file and as a stored envelope. Parsing must never crash,
// hang or read out of bounds (the sanitizers watch that), and:
//   - a key file that parses serializes to text that parses to the same keys;
//   - an envelope that was not made by Encrypt under the fuzzer's key never decrypts, and
//     ParseEnvelope's parts lie inside the input and add up to it;
//   - Encrypt then Decrypt gives the input back.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "crypto/envelope.h"
#include "crypto/keyring.h"

namespace {

using tyto::crypto::Keyring;

const Keyring& FixedKeyring() {
  static const Keyring* ring = [] {
    tyto::crypto::Key k;
    k.id = "fuzz";
    k.bytes.assign(32, '\x42');
    auto r = Keyring::FromKeys({k});
    if (!r.ok()) __builtin_trap();
    return new Keyring(std::move(r).value());
  }();
  return *ring;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);

  auto ring = Keyring::Parse(in, "fuzz");
  if (ring.ok()) {
    auto again = Keyring::Parse(ring->Serialize(), "again");
    if (!again.ok() || again->keys().size() != ring->keys().size()) __builtin_trap();
    for (size_t i = 0; i < ring->keys().size(); ++i) {
      if (again->keys()[i].id != ring->keys()[i].id || again->keys()[i].bytes != ring->keys()[i].bytes) __builtin_trap();
    }
  }

  auto env = tyto::crypto::ParseEnvelope(in);
  if (env.ok()) {
    if (env->header.size() + env->ciphertext.size() + env->tag.size() != in.size()) __builtin_trap();
    if (env->tag.size() != tyto::crypto::kTagBytes || env->nonce.size() != tyto::crypto::kNonceBytes) __builtin_trap();
  }
  // Forging a GCM tag by chance is a 2^-128 event: a success here is a bug.
  if (tyto::crypto::Decrypt(FixedKeyring(), in, "ad").ok()) __builtin_trap();

  auto sealed = tyto::crypto::Encrypt(FixedKeyring(), in, "ad");
  if (!sealed.ok()) __builtin_trap();
  auto back = tyto::crypto::Decrypt(FixedKeyring(), *sealed, "ad");
  if (!back.ok() || *back != in) __builtin_trap();
  return 0;
}
