// AES-256-GCM envelopes: what is stored in place of a sensitive value. Byte layout
// (docs/format/keys.md, "Envelope"):
//
//   0xC0            magic (a byte that never occurs in UTF-8 text, so a stored text value and
//                   an envelope cannot be confused)
//   0x01            version
//   u8 n            length of the key id (1..64)
//   n bytes         key id (the key in the Keyring that encrypted it)
//   12 bytes        nonce (random per envelope)
//   m bytes         ciphertext (as long as the plaintext)
//   16 bytes        GCM tag
//
// The tag authenticates the header (magic through nonce) and the caller's associated data (what
// the value is: a column or an attribute key), so an envelope moved to another field, or with a
// changed byte anywhere, fails to decrypt.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "crypto/keyring.h"
#include "tyto/status.h"

namespace tyto::crypto {

inline constexpr uint8_t kEnvelopeMagic = 0xC0;
inline constexpr uint8_t kEnvelopeVersion = 1;
inline constexpr size_t kNonceBytes = 12;
inline constexpr size_t kTagBytes = 16;

// The parts of an envelope, views into it.
struct Envelope {
  std::string_view header;  // magic through nonce: authenticated
  std::string_view key_id;
  std::string_view nonce;
  std::string_view ciphertext;
  std::string_view tag;
};

// Whether `bytes` starts as an envelope does (magic byte and a version byte). Values that do are
// decrypted on read; any other value is text stored before encryption was enabled.
bool IsEnvelope(std::string_view bytes);

// Splits an envelope. kCorruption naming what is wrong (magic, version, key id, length).
Result<Envelope> ParseEnvelope(std::string_view bytes);

// Encrypts `plaintext` under the keyring's current key with a fresh random nonce.
Result<std::string> Encrypt(const Keyring& keyring, std::string_view plaintext, std::string_view associated_data);

// Decrypts an envelope. kCorruption for a malformed envelope, a key id the keyring lacks (named),
// or a tag that does not verify (wrong key, changed bytes, other associated data).
Result<std::string> Decrypt(const Keyring& keyring, std::string_view envelope, std::string_view associated_data);

// HMAC-SHA256 of `data` under `key`'s index key: 32 bytes. Index terms of sensitive values are
// made of it, so an index holds no word of the value and cannot be checked against guesses
// without the key file.
std::string KeyedHash(const Key& key, std::string_view data);

}  // namespace tyto::crypto
