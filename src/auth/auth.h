// Who may do what, and for which tenant: API tokens with scopes per tenant, checked on every
// route that is not public.
//
// Scopes (bits; a role is a named set of them):
//   read     queries, metadata, the server's own /metrics              (viewer)
//   write    ingest (remote write, OTLP, events): agents and SDKs
//   edit     rules, dashboards, silences                               (editor = read + edit)
//   operate  acknowledge incidents, approve and run playbooks          (operator = read + operate)
//   admin    reload, configuration, tokens, deletion; implies all      (admin)
// A token has a name, the SHA-256 of its secret (the secret itself is never stored), and grants:
// scopes per tenant ("*" for any tenant). Clients send the secret as "Authorization: Bearer
// <secret>", or as HTTP basic auth with the token's name as user and the secret as password (for
// tools that only speak basic auth).
//
// Tenants: every guarded request acts for one tenant (Principal::tenant). A token granted one
// tenant acts for it; one granted several (or "*") names it with the X-Scope-OrgID header, as
// Mimir and Loki clients do, and acts for "default" without it when granted that. Names are
// [A-Za-z0-9_-], 1 to 64 characters.
//
// Missing or wrong credentials get 401; valid credentials without the scope, or naming a tenant
// they are not granted, get 403; a malformed or missing-but-needed X-Scope-OrgID gets 400; all
// with a JSON error body that names what. Secrets are compared by hash in constant time.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/mutex.h"
#include "http/router.h"
#include "tyto/status.h"

namespace tyto::http {
class Shield;
}  // namespace tyto::http

namespace tyto::auth {

enum class Scope : uint32_t { kPublic = 0, kRead = 1, kWrite = 2, kAdmin = 4, kEdit = 8, kOperate = 16 };

// The tenant of data that names none (single-tenant installations, data from before tenants).
inline constexpr std::string_view kDefaultTenant = "default";
// The header naming the tenant a request acts for.
inline constexpr std::string_view kTenantHeader = "X-Scope-OrgID";

std::string_view ScopeName(Scope s);
Result<Scope> ParseScope(std::string_view name);
// The bit set a token with these scopes holds (admin adds every other scope).
uint32_t EffectiveScopes(const std::vector<Scope>& scopes);
// The scopes of a role: viewer, editor, operator, admin.
Result<uint32_t> RoleScopes(std::string_view role);
// Whether `name` may name a tenant: [A-Za-z0-9_-], 1 to 64 characters.
bool ValidTenant(std::string_view name);

struct Token {
  std::string name;
  std::string secret_sha256;  // 64 hex digits, either case
  uint32_t scopes = 0;        // EffectiveScopes, granted for each of `tenants`
  std::vector<std::string> tenants = {};  // empty: {"default"}; "*": any tenant
  // Further scopes per tenant (a role per tenant), on top of `scopes` for `tenants`.
  std::vector<std::pair<std::string, uint32_t>> tenant_scopes = {};
};

// The grants a token holds, as Principal::grants.
std::vector<std::pair<std::string, uint32_t>> Grants(const Token& t);

// Picks the tenant `req` acts for from `p`'s grants and the X-Scope-OrgID header, and sets
// p->tenant and p->scopes. Errors: kInvalidArgument (a malformed header, or several tenants
// granted and none named) and kPermissionDenied (a tenant not granted), each naming the tenant.
Status ResolveTenant(const http::Request& req, http::Principal* p);

// Hex SHA-256 of a secret, as written in the config's secret_sha256.
std::string HashSecret(std::string_view secret);
// A new random secret: "tyto_" and 43 URL-safe characters (256 bits).
std::string NewSecret();

class JwtVerifier;  // auth/jwt.h

// An immutable set of tokens, and optionally a verifier of JWT bearer tokens. Thread-safe.
class Authenticator {
 public:
  explicit Authenticator(std::vector<Token> tokens, std::shared_ptr<const JwtVerifier> jwt = nullptr);

  // With no tokens and no JWT verifier, every request is allowed (the server then binds to
  // loopback only).
  bool enabled() const { return !tokens_.empty() || jwt_ != nullptr; }

  // Identifies the caller from the Authorization header: kUnauthenticated when missing or
  // wrong. A bearer credential that matches no static token and has a JWT's shape (two dots)
  // goes to the JWT verifier when there is one. With neither configured: an "anonymous"
  // principal holding every scope for any tenant. The tenant is not chosen here (ResolveTenant).
  Result<http::Principal> Authenticate(const http::Request& req) const;

 private:
  struct Entry {
    std::string name;
    unsigned char digest[32];
    std::vector<std::pair<std::string, uint32_t>> grants;
  };
  std::vector<Entry> tokens_;
  std::shared_ptr<const JwtVerifier> jwt_;
};

// The gate every route passes. Holds the current Authenticator, replaced atomically when the
// configuration is reloaded; requests in flight keep the one they started with.
class Guard {
 public:
  Guard() : current_(std::make_shared<const Authenticator>(std::vector<Token>{})) {}

  void Set(std::shared_ptr<const Authenticator> a) EXCLUDES(mu_);
  std::shared_ptr<const Authenticator> Get() const EXCLUDES(mu_);

  // Wraps `h` so it runs only for callers holding `scope` for the tenant they act for (set in
  // req.principal); kPublic routes run for anyone (with no principal).
  http::Handler Require(Scope scope, http::Handler h);

  // Require, for routes that act on or show the whole server rather than one tenant's data
  // (reload, log level, flush, Tyto's own /metrics, the notification config): the caller must
  // hold `scope` for the default tenant, so an admin of one tenant is not an admin of all.
  http::Handler RequireServerWide(Scope scope, http::Handler h);

  // The rate limits and attack signals of guarded routes (http/shield.h): an address that has
  // spent its failed-authentication allowance is refused before its credentials are checked,
  // failures are reported by reason, and a known token's requests are counted and limited.
  // Set before serving; the shield must outlive the guard's handlers. Null: none.
  void SetShield(http::Shield* shield) { shield_ = shield; }

 private:
  std::atomic<http::Shield*> shield_{nullptr};
  mutable Mutex mu_;
  std::shared_ptr<const Authenticator> current_ GUARDED_BY(mu_);
};

}  // namespace tyto::auth
