#include "crypto/config.h"

#include "config/schema.h"
#include "crypto/field_encryption.h"

namespace tyto::crypto {

const config::Section<EncryptionConfig>& SecuritySchema() {
  static const auto* s = [] {
    auto* sec = new config::Section<EncryptionConfig>("security", "Security and compliance (docs/security.md).");
    sec->String("encryption_key_file", &EncryptionConfig::encryption_key_file,
                "Key file (tyto key generate; mode 0600 or 0400) under which prompts, responses and sensitive "
                "attributes are stored encrypted (AES-256-GCM). Empty: stored unencrypted.")
        .StringList("sensitive_fields", &EncryptionConfig::sensitive_fields,
                    "Span and log attribute keys whose values are encrypted at rest, besides gen_ai.prompt, "
                    "gen_ai.completion, gen_ai.input.messages and gen_ai.output.messages.")
        .Validate([](const EncryptionConfig& c, const config::Node& n, config::Diagnostics& d) {
          for (const std::string& f : c.sensitive_fields) {
            if (f.empty()) d.Add(n.position(), "security.sensitive_fields: an empty key");
          }
        });
    return sec;
  }();
  return *s;
}

Result<std::shared_ptr<const FieldEncryption>> LoadEncryption(const EncryptionConfig& config) {
  if (config.encryption_key_file.empty()) return std::shared_ptr<const FieldEncryption>();
  auto loaded = LoadFieldEncryption(config.encryption_key_file, config.sensitive_fields);
  if (!loaded.ok()) return loaded.status().WithContext("security.encryption_key_file");
  return loaded;
}

}  // namespace tyto::crypto
