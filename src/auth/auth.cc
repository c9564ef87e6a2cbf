#include "auth/auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <strings.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "auth/jwt.h"
#include "http/encoding.h"
#include "http/shield.h"

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
    case Scope::kEdit: return "edit";
    case Scope::kOperate: return "operate";
  }
  return "unknown";
}

Result<Scope> ParseScope(std::string_view name) {
  if (name == "read") return Scope::kRead;
  if (name == "write") return Scope::kWrite;
  if (name == "admin") return Scope::kAdmin;
  if (name == "edit") return Scope::kEdit;
  if (name == "operate") return Scope::kOperate;
  return InvalidArgument("unknown scope '" + std::string(name) + "' (expected read, write, edit, operate or admin)");
}

Result<uint32_t> RoleScopes(std::string_view role) {
  const uint32_t read = static_cast<uint32_t>(Scope::kRead);
  if (role == "viewer") return read;
  if (role == "editor") return read | static_cast<uint32_t>(Scope::kEdit);
  if (role == "operator") return read | static_cast<uint32_t>(Scope::kOperate);
  if (role == "admin") return EffectiveScopes({Scope::kAdmin});
  return InvalidArgument("unknown role '" + std::string(role) + "' (expected viewer, editor, operator or admin)");
}

bool ValidTenant(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::vector<std::pair<std::string, uint32_t>> Grants(const Token& t) {
  std::vector<std::pair<std::string, uint32_t>> out;
  if (t.scopes != 0) {
    if (t.tenants.empty()) out.emplace_back(std::string(kDefaultTenant), t.scopes);
    for (const std::string& tenant : t.tenants) out.emplace_back(tenant, t.scopes);
  }
  for (const auto& [tenant, scopes] : t.tenant_scopes) out.emplace_back(tenant, scopes);
  return out;
}

Status ResolveTenant(const http::Request& req, http::Principal* p) {
  auto scopes_for = [&](std::string_view tenant, bool* granted) {
    uint32_t bits = 0;
    for (const auto& [t, s] : p->grants) {
      if (t == tenant || t == "*") {
        bits |= s;
        *granted = true;
      }
    }
    return bits;
  };
  std::string tenant;
  if (auto header = req.Header(kTenantHeader)) {
    std::string_view v = *header;
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    tenant = std::string(v);
    if (!ValidTenant(tenant)) {
      return InvalidArgument(std::string(kTenantHeader) + ": '" + tenant.substr(0, 80) +
                             "' is not a tenant name ([A-Za-z0-9_-], 1 to 64 characters)");
    }
  } else {
    std::vector<std::string_view> named;
    bool any = false;
    for (const auto& [t, s] : p->grants) {
      if (t == "*") any = true;
      else if (std::find(named.begin(), named.end(), t) == named.end()) named.push_back(t);
    }
    if (named.size() == 1 && !any) {
      tenant = std::string(named.front());
    } else if (any || std::find(named.begin(), named.end(), kDefaultTenant) != named.end()) {
      tenant = std::string(kDefaultTenant);
    } else {
      std::string list;
      for (std::string_view t : named) list += (list.empty() ? "" : ", ") + std::string(t);
      return InvalidArgument("token '" + p->name + "' may act for several tenants (" + list + "): name one with " +
                             std::string(kTenantHeader));
    }
  }
  bool granted = false;
  const uint32_t bits = scopes_for(tenant, &granted);
  if (!granted) {
    return Status(StatusCode::kPermissionDenied,
                  "token '" + p->name + "' may not act for tenant '" + tenant + "'");
  }
  p->tenant = std::move(tenant);
  p->scopes = bits;
  return Status::Ok();
}

uint32_t EffectiveScopes(const std::vector<Scope>& scopes) {
  uint32_t bits = 0;
  for (Scope s : scopes) bits |= static_cast<uint32_t>(s);
  if (bits & static_cast<uint32_t>(Scope::kAdmin)) {
    bits |= static_cast<uint32_t>(Scope::kRead) | static_cast<uint32_t>(Scope::kWrite) |
            static_cast<uint32_t>(Scope::kEdit) | static_cast<uint32_t>(Scope::kOperate);
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

Authenticator::Authenticator(std::vector<Token> tokens, std::shared_ptr<const JwtVerifier> jwt)
    : jwt_(std::move(jwt)) {
  for (Token& t : tokens) {
    Entry e;
    e.name = std::move(t.name);
    e.grants = Grants(t);
    if (!DecodeHex(t.secret_sha256, e.digest)) std::abort();  // config validation guarantees the form
    tokens_.push_back(std::move(e));
  }
}

Result<http::Principal> Authenticator::Authenticate(const http::Request& req) const {
  if (!enabled()) {
    http::Principal anonymous{"anonymous", ~0u};
    anonymous.grants.emplace_back("*", ~0u);
    return anonymous;
  }
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
  if (match == nullptr && jwt_ != nullptr && !basic && LooksLikeJwt(secret)) return jwt_->Verify(secret);
  if (match == nullptr) return Status(StatusCode::kUnauthenticated, "invalid credentials");
  http::Principal p{match->name, 0};
  p.grants = match->grants;
  return p;
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
    http::Shield* shield = shield_.load();
    auto failed = [&](std::string_view reason) {
      if (shield != nullptr) shield->AuthFailed(req, reason);
    };
    if (shield != nullptr) {
      if (std::optional<http::Response> refused = shield->AdmitAuthAttempt(req)) return *std::move(refused);
    }
    auto principal = Get()->Authenticate(req);
    if (!principal.ok()) {
      failed(req.Header("Authorization") ? "invalid_credentials" : "missing_credentials");
      return Unauthorized(req, principal.status().message());
    }
    if (Status s = ResolveTenant(req, &principal.value()); !s.ok()) {
      const bool denied = s.code() == StatusCode::kPermissionDenied;
      failed(denied ? "tenant_denied" : "bad_tenant");
      return denied ? http::Response::Error(403, "forbidden", s.message())
                    : http::Response::Error(400, "bad_data", s.message());
    }
    if ((principal->scopes & static_cast<uint32_t>(scope)) == 0) {
      failed("missing_scope");
      return http::Response::Error(403, "forbidden",
                                   "token '" + principal->name + "' lacks the '" + std::string(ScopeName(scope)) +
                                       "' scope for tenant '" + principal->tenant + "'");
    }
    if (shield != nullptr) {
      if (std::optional<http::Response> refused = shield->AdmitToken(principal->name)) return *std::move(refused);
    }
    req.principal = std::move(principal).value();
    return h(req);
  };
}

http::Handler Guard::RequireServerWide(Scope scope, http::Handler h) {
  return Require(scope, [h = std::move(h)](http::Request& req) -> http::Response {
    if (req.principal.tenant != kDefaultTenant) {
      return http::Response::Error(403, "forbidden",
                                   "this route acts on the whole server: it needs the scope for tenant '" +
                                       std::string(kDefaultTenant) + "', not tenant '" + req.principal.tenant + "'");
    }
    return h(req);
  });
}

}  // namespace tyto::auth
