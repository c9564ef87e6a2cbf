#include "crypto/field_encryption.h"

#include <algorithm>

#include "crypto/envelope.h"

namespace tyto::crypto {

const std::vector<std::string>& DefaultSensitiveKeys() {
  static const std::vector<std::string> keys = {"gen_ai.prompt", "gen_ai.completion", "gen_ai.input.messages",
                                                "gen_ai.output.messages"};
  return keys;
}

FieldEncryption::FieldEncryption(Keyring keyring, const std::vector<std::string>& extra_sensitive_keys)
    : keyring_(std::move(keyring)), sensitive_(DefaultSensitiveKeys()) {
  sensitive_.insert(sensitive_.end(), extra_sensitive_keys.begin(), extra_sensitive_keys.end());
  std::sort(sensitive_.begin(), sensitive_.end());
  sensitive_.erase(std::unique(sensitive_.begin(), sensitive_.end()), sensitive_.end());
}

bool FieldEncryption::IsSensitive(std::string_view attribute_key) const {
  return std::binary_search(sensitive_.begin(), sensitive_.end(), attribute_key, std::less<>());
}

Result<std::string> FieldEncryption::Seal(std::string_view plaintext, std::string_view context) const {
  return Encrypt(keyring_, plaintext, context);
}

uint64_t FieldEncryption::IndexHash(const Key& key, std::string_view attribute_key, std::string_view value) {
  std::string data;
  data.reserve(attribute_key.size() + 1 + value.size());
  data.append(attribute_key);
  data.push_back('\0');
  data.append(value);
  const std::string h = KeyedHash(key, data);
  uint64_t v = 0;
  for (size_t i = 0; i < 8 && i < h.size(); ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(h[i])) << (8 * i);
  return v;
}

Result<std::string> OpenStored(const FieldEncryption* encryption, std::string_view stored, std::string_view context) {
  if (!IsEnvelope(stored)) return std::string(stored);
  if (encryption == nullptr) {
    return FailedPrecondition(std::string(context) +
                              " is stored encrypted but no key file is configured (security.encryption_key_file)");
  }
  Result<std::string> plain = Decrypt(encryption->keyring(), stored, context);
  if (!plain.ok()) return plain.status().WithContext(context);
  return plain;
}

Result<std::shared_ptr<const FieldEncryption>> LoadFieldEncryption(const std::string& key_file,
                                                                    const std::vector<std::string>& extra_sensitive_keys) {
  TYTO_ASSIGN_OR_RETURN(Keyring ring, Keyring::Load(key_file));
  return std::shared_ptr<const FieldEncryption>(std::make_shared<FieldEncryption>(std::move(ring), extra_sensitive_keys));
}

}  // namespace tyto::crypto
