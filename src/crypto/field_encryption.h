// FieldEncryption: what the stores use to keep sensitive values encrypted at rest. It holds the
// keyring and the set of attribute keys that are sensitive (gen_ai.prompt, gen_ai.completion,
// gen_ai.input.messages, gen_ai.output.messages and the keys of `security.sensitive_fields`).
// Stores encrypt prompts, responses and the values of sensitive attributes with Seal before
// writing them and give every stored value to Open when reading (docs/security.md, "Encryption
// at rest").
//
// Thread safety: immutable once made; any number of threads may use one.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/keyring.h"
#include "tyto/status.h"

namespace tyto::crypto {

// The attribute keys that are sensitive without configuration.
const std::vector<std::string>& DefaultSensitiveKeys();

class FieldEncryption {
 public:
  // `extra_sensitive_keys`: keys added to DefaultSensitiveKeys().
  FieldEncryption(Keyring keyring, const std::vector<std::string>& extra_sensitive_keys);

  const Keyring& keyring() const { return keyring_; }
  bool IsSensitive(std::string_view attribute_key) const;

  // An envelope of `plaintext` (envelope.h) under the current key; `context` (the column or
  // attribute key) is its associated data.
  Result<std::string> Seal(std::string_view plaintext, std::string_view context) const;

  // The index hash of a sensitive attribute (key, 0x00, value) under `key`: the first 8 bytes of
  // KeyedHash, little-endian. Writers use the current key; readers try every key.
  static uint64_t IndexHash(const Key& key, std::string_view attribute_key, std::string_view value);

 private:
  Keyring keyring_;
  std::vector<std::string> sensitive_;  // sorted
};

// The stored value as the reader should see it: an envelope decrypted (with `context` as
// associated data, as sealed), any other value as it is (text written without encryption).
// `encryption` may be null (no key file): an envelope then fails with kFailedPrecondition
// naming `context`. kCorruption when an envelope does not decrypt (see Decrypt).
Result<std::string> OpenStored(const FieldEncryption* encryption, std::string_view stored, std::string_view context);

// Loads the keyring at `key_file` for these sensitive keys.
Result<std::shared_ptr<const FieldEncryption>> LoadFieldEncryption(const std::string& key_file,
                                                                    const std::vector<std::string>& extra_sensitive_keys);

}  // namespace tyto::crypto
