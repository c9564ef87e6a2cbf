// JWT bearer tokens: compact JWS (RFC 7515) signed by an identity provider with RS256 or ES256
// (RFC 7518), verified offline against public keys from the configuration (no network call, no
// JWKS fetching), with who the caller is and what it may do taken from configurable claims.
//
// What is refused, each with kUnauthenticated and a message naming what failed (never the token):
//   - anything but three base64url parts without padding, or more than kMaxJwtBytes;
//   - a header whose alg is not RS256 or ES256 ("none", HS256 and the rest are never accepted,
//     so a public key can never be used as an HMAC secret), or whose kid names no configured
//     key, or whose alg does not fit the key's type;
//   - a signature that does not verify;
//   - a missing exp, an exp in the past, an nbf or iat in the future (each with the leeway);
//   - iss or aud other than configured, when configured;
//   - claims that name no caller, a malformed tenant, an unknown role, or no grant at all.
// Time comes from a Clock, so tests set it.
//
// Claims to grants (as a static token's; auth::ResolveTenant then picks the request's tenant):
//   tenant_claim  a tenant or a list of them (absent: "default"); "*" only with allow_any_tenant
//   role_claim    viewer, editor, operator or admin, for each tenant of tenant_claim; or an
//                 object {tenant: role} for a role per tenant
//   scopes_claim  (optional) "read write ..." as an OAuth scope string, or a list; names that are
//                 not Tyto scopes are ignored (identity providers add their own)
//   name_claim    the caller's name in logs and the audit trail (default "sub")
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.h"
#include "tyto/clock.h"
#include "tyto/status.h"

namespace tyto::auth {

// Tokens longer than this are refused before any decoding.
inline constexpr size_t kMaxJwtBytes = 16 * 1024;

// A public key that verifies signatures: RSA of 2048 bits or more (RS256), or EC on P-256
// (ES256). Immutable and thread-safe; OpenSSL's types stay in jwt.cc.
class PublicKey {
 public:
  enum class Type { kRsa, kEcP256 };

  // Reads one PEM public key ("-----BEGIN PUBLIC KEY-----"). kInvalidArgument, naming the
  // problem, for text that is not one, for a private key, for other key types or curves, and
  // for RSA keys under 2048 bits.
  static Result<std::shared_ptr<const PublicKey>> FromPem(std::string_view pem);

  ~PublicKey();
  PublicKey(const PublicKey&) = delete;
  PublicKey& operator=(const PublicKey&) = delete;

  Type type() const { return type_; }
  // "RSA 2048" or "EC P-256", for messages.
  std::string Describe() const;

  // Whether `signature` over `signing_input` verifies: PKCS #1 v1.5 with SHA-256 for RSA, ECDSA
  // with SHA-256 for EC, where `signature` is JWS's r||s (64 bytes), not DER.
  bool Verify(std::string_view signing_input, std::string_view signature) const;

 private:
  struct Impl;
  PublicKey(Type type, std::unique_ptr<Impl> impl);
  Type type_;
  std::unique_ptr<Impl> impl_;
};

struct JwtKey {
  std::string kid;  // matched against the token header's kid
  std::shared_ptr<const PublicKey> key;
};

struct JwtOptions {
  std::vector<JwtKey> keys;        // at least one
  std::string issuer;              // empty: iss not checked
  std::string audience;            // empty: aud not checked
  std::string tenant_claim = "tenant";
  std::string role_claim = "role";
  std::string scopes_claim;        // empty: no scopes claim
  std::string name_claim = "sub";
  std::chrono::seconds leeway{60};  // allowed clock skew for exp, nbf and iat
  bool allow_any_tenant = false;   // whether a token may grant "*" (every tenant)
};

// Whether a bearer credential has the shape of a compact JWS: three parts split by two dots.
bool LooksLikeJwt(std::string_view credential);

// Verifies tokens against a fixed set of keys and options. Immutable and thread-safe.
class JwtVerifier {
 public:
  // `clock` must outlive the verifier; nullptr is the real clock.
  explicit JwtVerifier(JwtOptions options, const Clock* clock = nullptr);

  // The principal a valid token names: its name, no scopes yet, and its grants. Errors are
  // kUnauthenticated naming what failed.
  Result<http::Principal> Verify(std::string_view token) const;

  const JwtOptions& options() const { return options_; }

 private:
  JwtOptions options_;
  const Clock* clock_;
};

}  // namespace tyto::auth
