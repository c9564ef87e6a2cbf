// Keys for encrypting sensitive data at rest (prompts, responses, attributes marked sensitive):
// the key file, read into a Keyring, and the commands that make and rotate it.
//
// Key file (docs/format/keys.md): text, one key a line, `<key-id> <base64 of 32 bytes>`; the
// first key line holds the current key (new data is encrypted under it), later lines older keys
// kept so that data written under them can still be read. Lines starting with `#` and blank lines
// are ignored. The file must have mode 0600 or 0400 (Load refuses any other, naming the file).
//
// Thread safety: a Keyring is immutable once made; any number of threads may use one.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "tyto/status.h"

namespace tyto::crypto {

inline constexpr size_t kKeyBytes = 32;      // AES-256
inline constexpr size_t kMaxKeyIdBytes = 64;

struct Key {
  std::string id;         // [A-Za-z0-9_.-], 1 to kMaxKeyIdBytes characters
  std::string bytes;      // kKeyBytes bytes
  std::string index_key;  // HMAC-SHA256(bytes, "tyto index key v1"): keys the hashes of index terms
};

// Whether `id` may name a key: 1 to kMaxKeyIdBytes of [A-Za-z0-9_.-].
bool ValidKeyId(std::string_view id);

class Keyring {
 public:
  // Parses a key file's text. `name` (the file) is named in errors: kInvalidArgument with the
  // line number for a malformed line, a bad id, key bytes that are not base64 of 32 bytes, a
  // repeated id, or no key at all.
  static Result<Keyring> Parse(std::string_view text, std::string_view name);
  // Reads and parses the key file at `path`. kPermissionDenied naming the file when its mode is
  // not 0600 or 0400 (group or others could read it, or its owner can execute it).
  static Result<Keyring> Load(const std::string& path);
  // A keyring of these keys (first = current); kInvalidArgument as Parse for bad ones.
  static Result<Keyring> FromKeys(std::vector<Key> keys);

  // The key new data is encrypted under.
  const Key& current() const { return keys_.front(); }
  // The key named `id`, or null.
  const Key* Find(std::string_view id) const;
  // Current first, then older keys in file order.
  const std::vector<Key>& keys() const { return keys_; }

  // The key file's text for these keys (what Parse reads back).
  std::string Serialize() const;

 private:
  explicit Keyring(std::vector<Key> keys) : keys_(std::move(keys)) {}
  std::vector<Key> keys_;  // never empty
};

// A new key of random bytes (OpenSSL's RAND_bytes) with a random id ("k" and 12 hex digits).
// kInternal when the random generator fails.
Result<Key> NewKey();

// `tyto key generate`: writes a key file at `path` holding one new key, mode 0600. Refuses
// (kAlreadyExists) when the file exists. Returns the key's id.
Result<std::string> GenerateKeyFile(const std::string& path);
// `tyto key rotate`: puts a new current key at the top of the key file at `path`, keeping every
// older key; the file is replaced atomically (written beside it, synced, renamed) and keeps its
// mode. Returns the new key's id.
Result<std::string> RotateKeyFile(const std::string& path);

// Standard base64 with padding, and back (nullopt-like: false when `text` is not that).
std::string Base64Encode(std::string_view bytes);
bool Base64Decode(std::string_view text, std::string* out);

}  // namespace tyto::crypto
