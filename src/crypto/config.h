// The `security:` keys of encryption at rest (docs/security.md, "Encryption at rest"):
//
//   security:
//     encryption_key_file: /etc/tyto/keys   # made by `tyto key generate`; mode 0600 or 0400
//     sensitive_fields: [user.email]        # attribute keys encrypted besides the gen_ai ones
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tyto/status.h"

namespace tyto::config {
template <typename T>
class Section;
}

namespace tyto::crypto {

class FieldEncryption;

struct EncryptionConfig {
  std::string encryption_key_file;            // empty: nothing is encrypted
  std::vector<std::string> sensitive_fields;  // added to DefaultSensitiveKeys()
  friend bool operator==(const EncryptionConfig&, const EncryptionConfig&) = default;
};

// The `security` section's option table (encryption_key_file, sensitive_fields).
const config::Section<EncryptionConfig>& SecuritySchema();

// The FieldEncryption the stores use: null without a key file; the key file's errors (mode,
// format) otherwise, prefixed with "security.encryption_key_file".
Result<std::shared_ptr<const FieldEncryption>> LoadEncryption(const EncryptionConfig& config);

}  // namespace tyto::crypto
