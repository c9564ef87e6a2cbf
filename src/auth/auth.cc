#include "auth/auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <strings.h>

#include <cstring>
#include <optional>

#include "http/encoding.h"

namespace tyto::auth {
namespace {

void Sha256(std::string_view data, unsigned char out[32]) {
  unsigned int len = 32;
  EVP_Digest(data.data(), data.size(), out, &len, EVP_sha256(), nullptr);
}

bool DecodeHex(std::string_view hex, unsigned char out[32]) {
  if (hex.size() != 64) return false;
  for (size_t i = 0; i < 32; ++i) {
    int v = 0;
    for (int k = 0; k < 2; ++k) {
      char c = hex[2 * i + static_cast<size_t>(k)];
      int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
      if (d < 0) return false;
      v = v * 16 + d;
    }
    out[i] = static_cast<unsigned char>(v);
  }
  return true;
}

// A Basic challenge makes a browser show its own login prompt, which would stall the web UI's
// requests (it asks for a token itself); the UI marks its requests with X-Requested-With, as
// XMLHttpRequest-era clients do, and gets the Bearer challenge only.
http::Response Unauthorized(const http::Request& req, std::string_view why) {
  http::Response r = http::Response::Error(401, "unauthorized", why);
  r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"tyto\"");
  auto xrw = req.Header("X-Requested-With");
  if (!xrw || http::NormalizeHeaderValue(*xrw) != "xmlhttprequest") {
    r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"tyto\"");
  }
  return r;
}

}  // namespace

std::string_view ScopeName(Scope s) {
  switch (s) {
    case Scope::kPublic: return "public";
    case Scope::kRead: return "read";
    case Scope::kWrite: return "write";
    case Scope::kAdmin: return "admin";
  }
  return "unknown";
}

Result<Scope> ParseScope(std::string_view name) {
  if (name == "read") return Scope::kRead;
  if (name == "write") return Scope::kWrite;
  if (name == "admin") return Scope::kAdmin;
  return InvalidArgument("unknown scope '" + std::string(name) + "' (expected read, write or admin)");
}

uint32_t EffectiveScopes(const std::vector<Scope>& scopes) {
  uint32_t bits = 0;
  for (Scope s : scopes) bits |= static_cast<uint32_t>(s);
  if (bits & static_cast<uint32_t>(Scope::kAdmin)) {
    bits |= static_cast<uint32_t>(Scope::kRead) | static_cast<uint32_t>(Scope::kWrite);
  }
  return bits;
}

std::string HashSecret(std::string_view secret) {
  unsigned char d[32];
  Sha256(secret, d);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : d) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

std::string NewSecret() {
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof(raw)) != 1) std::abort();  // no entropy: nothing safe to do
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out = "tyto_";
  // 6 bits per character: 256 bits need 43 characters.
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : raw) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(acc >> bits) & 63];
    }
  }
  if (bits > 0) out += kAlphabet[(acc << (6 - bits)) & 63];
  return out;
}

Authenticator::Authenticator(std::vector<Token> tokens) {
  for (Token& t : tokens) {
    Entry e;
    e.name = std::move(t.name);
    e.scopes = t.scopes;
    if (!DecodeHex(t.secret_sha256, e.digest)) std::abort();  // config validation guarantees the form
    tokens_.push_back(std::move(e));
  }
}

Result<http::Principal> Authenticator::Authenticate(const http::Request& req) const {
  if (tokens_.empty()) return http::Principal{"anonymous", ~0u};
  auto header = req.Header("Authorization");
  if (!header) return Status(StatusCode::kUnauthenticated, "missing credentials: send Authorization: Bearer <token>");
  std::string_view h = *header;
  std::optional<std::string> decoded;  // basic credentials: "user:secret"
  std::string_view secret;
  std::string_view user;
  bool basic = false;
  if (h.size() > 7 && strncasecmp(h.data(), "Bearer ", 7) == 0) {
    secret = h.substr(7);
  } else if (h.size() > 6 && strncasecmp(h.data(), "Basic ", 6) == 0) {
    decoded = http::Base64Decode(h.substr(6));
    size_t colon = decoded ? decoded->find(':') : std::string::npos;
    if (colon == std::string::npos) return Status(StatusCode::kUnauthenticated, "malformed basic credentials");
    user = std::string_view(*decoded).substr(0, colon);
    secret = std::string_view(*decoded).substr(colon + 1);
    basic = true;
  } else {
    return Status(StatusCode::kUnauthenticated, "unsupported authorization scheme (use Bearer or Basic)");
  }
  unsigned char digest[32];
  Sha256(secret, digest);
  // Every token is compared, so the time taken does not reveal which one matched.
  const Entry* match = nullptr;
  for (const Entry& e : tokens_) {
    bool same = CRYPTO_memcmp(digest, e.digest, sizeof(digest)) == 0;
    if (same && (!basic || e.name == user) && match == nullptr) match = &e;
  }
  if (match == nullptr) return Status(StatusCode::kUnauthenticated, "invalid credentials");
  return http::Principal{match->name, match->scopes};
}

void Guard::Set(std::shared_ptr<const Authenticator> a) {
  MutexLock lock(&mu_);
  current_ = std::move(a);
}

std::shared_ptr<const Authenticator> Guard::Get() const {
  MutexLock lock(&mu_);
  return current_;
}

http::Handler Guard::Require(Scope scope, http::Handler h) {
  if (scope == Scope::kPublic) return h;
  return [this, scope, h = std::move(h)](http::Request& req) -> http::Response {
    auto principal = Get()->Authenticate(req);
    if (!principal.ok()) return Unauthorized(req, principal.status().message());
    if ((principal->scopes & static_cast<uint32_t>(scope)) == 0) {
      return http::Response::Error(403, "forbidden",
                                   "token '" + principal->name + "' lacks the '" +
                                       std::string(ScopeName(scope)) + "' scope");
    }
    req.principal = std::move(principal).value();
    return h(req);
  };
}

}  // namespace tyto::auth
