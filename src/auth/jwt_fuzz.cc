// libFuzzer target: bearer tokens from outside. Verification must never crash, hang or read out
// of bounds (the sanitizers watch that), and:
//   - any input taken as a token is refused unless it verifies against the fuzzer's key;
//   - with the first byte 's', the rest is a payload signed with the fuzzer's key, so the claims
//     code is reached: a token it accepts has a name and grants, and every grant names a tenant
//     that is "*" (allowed here) or a valid tenant name;
//   - every refusal is kUnauthenticated.
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "auth/auth.h"
#include "auth/jwt.h"
#include "http/encoding.h"

namespace {

using tyto::auth::JwtVerifier;

std::string Base64Url(std::string_view bytes) {
  std::string s = tyto::http::Base64(bytes);
  while (!s.empty() && s.back() == '=') s.pop_back();
  for (char& c : s) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return s;
}

EVP_PKEY* FixedKey() {
  static EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  if (key == nullptr) __builtin_trap();
  return key;
}

const JwtVerifier& Verifier() {
  static const JwtVerifier* v = [] {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, FixedKey());
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    auto key = tyto::auth::PublicKey::FromPem(std::string_view(data, static_cast<size_t>(len)));
    BIO_free(bio);
    if (!key.ok()) __builtin_trap();
    tyto::auth::JwtOptions o;
    o.keys = {{"fuzz", *key}};
    o.scopes_claim = "scope";
    o.allow_any_tenant = true;
    return new JwtVerifier(std::move(o));
  }();
  return *v;
}

// header.payload.signature over `payload`, signed ES256 with the fixed key.
std::string Signed(std::string_view payload) {
  std::string input = Base64Url(R"({"alg":"ES256","kid":"fuzz"})") + "." + Base64Url(payload);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned char der[80];
  size_t len = sizeof(der);
  if (EVP_DigestSignInit_ex(ctx, nullptr, "SHA256", nullptr, nullptr, FixedKey(), nullptr) != 1 ||
      EVP_DigestSign(ctx, der, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    __builtin_trap();
  }
  EVP_MD_CTX_free(ctx);
  const unsigned char* p = der;
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(len));
  unsigned char rs[64];
  BN_bn2binpad(ECDSA_SIG_get0_r(sig), rs, 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(sig), rs + 32, 32);
  ECDSA_SIG_free(sig);
  return input + "." + Base64Url(std::string_view(reinterpret_cast<char*>(rs), 64));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const bool sign = !in.empty() && in[0] == 's';
  const std::string token = sign ? Signed(in.substr(1)) : std::string(in);
  auto p = Verifier().Verify(token);
  if (!p.ok()) {
    if (p.status().code() != tyto::StatusCode::kUnauthenticated) __builtin_trap();
    return 0;
  }
  // Only the fixed key signs: an unsigned input that verifies would be a forgery. (A fuzzer
  // cannot find an ECDSA signature; the check guards against verification accepting junk.)
  if (!sign) __builtin_trap();
  if (p->name.empty() || p->grants.empty()) __builtin_trap();
  for (const auto& [tenant, scopes] : p->grants) {
    if (tenant != "*" && !tyto::auth::ValidTenant(tenant)) __builtin_trap();
    if (scopes == 0) __builtin_trap();
  }
  return 0;
}
