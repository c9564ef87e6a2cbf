#include "crypto/envelope.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <memory>

namespace tyto::crypto {
namespace {

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using Ctx = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;

const unsigned char* U(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

// The bytes GCM authenticates besides the ciphertext: the envelope's header, then the caller's
// associated data. (One AAD call each; GCM treats them as one string.)
bool AddAad(EVP_CIPHER_CTX* c, std::string_view header, std::string_view aad) {
  int len = 0;
  if (EVP_CipherUpdate(c, nullptr, &len, U(header), static_cast<int>(header.size())) != 1) return false;
  if (!aad.empty() && EVP_CipherUpdate(c, nullptr, &len, U(aad), static_cast<int>(aad.size())) != 1) return false;
  return true;
}

}  // namespace

bool IsEnvelope(std::string_view bytes) {
  return bytes.size() >= 2 && static_cast<uint8_t>(bytes[0]) == kEnvelopeMagic &&
         static_cast<uint8_t>(bytes[1]) == kEnvelopeVersion;
}

Result<Envelope> ParseEnvelope(std::string_view bytes) {
  if (bytes.empty() || static_cast<uint8_t>(bytes[0]) != kEnvelopeMagic) {
    return Corruption("encrypted value: no envelope magic byte 0xc0");
  }
  if (bytes.size() < 3) return Corruption("encrypted value: truncated header (" + std::to_string(bytes.size()) + " bytes)");
  if (static_cast<uint8_t>(bytes[1]) != kEnvelopeVersion) {
    return Corruption("encrypted value: envelope version " + std::to_string(static_cast<uint8_t>(bytes[1])) +
                      " is not one this build reads (1)");
  }
  const size_t id_len = static_cast<uint8_t>(bytes[2]);
  if (id_len == 0 || id_len > kMaxKeyIdBytes) {
    return Corruption("encrypted value: key id length " + std::to_string(id_len) + " is not 1 to 64");
  }
  const size_t header_len = 3 + id_len + kNonceBytes;
  if (bytes.size() < header_len + kTagBytes) {
    return Corruption("encrypted value: " + std::to_string(bytes.size()) + " bytes, shorter than its header and tag (" +
                      std::to_string(header_len + kTagBytes) + ")");
  }
  Envelope e;
  e.header = bytes.substr(0, header_len);
  e.key_id = bytes.substr(3, id_len);
  if (!ValidKeyId(e.key_id)) return Corruption("encrypted value: key id is not [A-Za-z0-9_.-]");
  e.nonce = bytes.substr(3 + id_len, kNonceBytes);
  e.ciphertext = bytes.substr(header_len, bytes.size() - header_len - kTagBytes);
  e.tag = bytes.substr(bytes.size() - kTagBytes);
  return e;
}

Result<std::string> Encrypt(const Keyring& keyring, std::string_view plaintext, std::string_view associated_data) {
  const Key& key = keyring.current();
  std::string out;
  out.reserve(3 + key.id.size() + kNonceBytes + plaintext.size() + kTagBytes);
  out.push_back(static_cast<char>(kEnvelopeMagic));
  out.push_back(static_cast<char>(kEnvelopeVersion));
  out.push_back(static_cast<char>(key.id.size()));
  out += key.id;
  const size_t nonce_at = out.size();
  out.append(kNonceBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data() + nonce_at), static_cast<int>(kNonceBytes)) != 1) {
    return Internal("OpenSSL RAND_bytes failed making a nonce");
  }
  const size_t header_len = out.size();
  Ctx c(EVP_CIPHER_CTX_new());
  int len = 0;
  if (!c || EVP_EncryptInit_ex(c.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(c.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(kNonceBytes), nullptr) != 1 ||
      EVP_EncryptInit_ex(c.get(), nullptr, nullptr, U(key.bytes), U(std::string_view(out).substr(nonce_at))) != 1 ||
      !AddAad(c.get(), std::string_view(out).substr(0, header_len), associated_data)) {
    return Internal("OpenSSL AES-256-GCM setup failed");
  }
  out.resize(header_len + plaintext.size() + kTagBytes);
  unsigned char* ct = reinterpret_cast<unsigned char*>(out.data() + header_len);
  if (!plaintext.empty() &&
      EVP_EncryptUpdate(c.get(), ct, &len, U(plaintext), static_cast<int>(plaintext.size())) != 1) {
    return Internal("OpenSSL AES-256-GCM encryption failed");
  }
  int fin = 0;
  if (EVP_EncryptFinal_ex(c.get(), ct + plaintext.size(), &fin) != 1 ||
      EVP_CIPHER_CTX_ctrl(c.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagBytes),
                          out.data() + header_len + plaintext.size()) != 1) {
    return Internal("OpenSSL AES-256-GCM tag failed");
  }
  return out;
}

Result<std::string> Decrypt(const Keyring& keyring, std::string_view envelope, std::string_view associated_data) {
  TYTO_ASSIGN_OR_RETURN(const Envelope e, ParseEnvelope(envelope));
  const Key* key = keyring.Find(e.key_id);
  if (key == nullptr) {
    return Corruption("encrypted value: key id " + std::string(e.key_id) +
                      " is not in the key file (was it removed after rotation?)");
  }
  Ctx c(EVP_CIPHER_CTX_new());
  if (!c || EVP_DecryptInit_ex(c.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(c.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(kNonceBytes), nullptr) != 1 ||
      EVP_DecryptInit_ex(c.get(), nullptr, nullptr, U(key->bytes), U(e.nonce)) != 1 ||
      !AddAad(c.get(), e.header, associated_data)) {
    return Internal("OpenSSL AES-256-GCM setup failed");
  }
  std::string out(e.ciphertext.size(), '\0');
  int len = 0;
  if (!e.ciphertext.empty() && EVP_DecryptUpdate(c.get(), reinterpret_cast<unsigned char*>(out.data()), &len,
                                                  U(e.ciphertext), static_cast<int>(e.ciphertext.size())) != 1) {
    return Internal("OpenSSL AES-256-GCM decryption failed");
  }
  std::string tag(e.tag);
  int fin = 0;
  if (EVP_CIPHER_CTX_ctrl(c.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagBytes), tag.data()) != 1 ||
      EVP_DecryptFinal_ex(c.get(), reinterpret_cast<unsigned char*>(out.data()) + out.size(), &fin) != 1) {
    return Corruption("encrypted value under key " + std::string(e.key_id) +
                      ": authentication tag does not verify (data changed, or another key or field)");
  }
  return out;
}

std::string KeyedHash(const Key& key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key.index_key.data(), static_cast<int>(key.index_key.size()), U(data), data.size(), out,
           &len) == nullptr) {
    return {};
  }
  return std::string(reinterpret_cast<const char*>(out), len);
}

}  // namespace tyto::crypto
