#include "auth/auth.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cctype>
#include <rapidjson/document.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "http/message.h"
#include "http/shield.h"
#include "instrumentation/metrics.h"
#include "testing/fake_clock.h"

namespace tyto::auth {
namespace {

using ::testing::HasSubstr;

constexpr uint32_t kReadBit = static_cast<uint32_t>(Scope::kRead);
constexpr uint32_t kWriteBit = static_cast<uint32_t>(Scope::kWrite);
constexpr uint32_t kAdminBit = static_cast<uint32_t>(Scope::kAdmin);
constexpr uint32_t kEditBit = static_cast<uint32_t>(Scope::kEdit);
constexpr uint32_t kOperateBit = static_cast<uint32_t>(Scope::kOperate);

// The scopes a principal's grants give for the default tenant.
uint32_t DefaultScopes(const http::Principal& p) {
  uint32_t bits = 0;
  for (const auto& [tenant, scopes] : p.grants) {
    if (tenant == kDefaultTenant || tenant == "*") bits |= scopes;
  }
  return bits;
}

// Standard base64 with padding, for building Basic credentials.
std::string Base64(std::string_view in) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                 static_cast<unsigned char>(in[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  size_t rest = in.size() - i;
  if (rest == 1) {
    uint32_t v = static_cast<unsigned char>(in[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (rest == 2) {
    uint32_t v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

TEST(Base64HelperTest, KnownVectors) {  // RFC 4648 section 10
  EXPECT_EQ(Base64(""), "");
  EXPECT_EQ(Base64("f"), "Zg==");
  EXPECT_EQ(Base64("fo"), "Zm8=");
  EXPECT_EQ(Base64("foo"), "Zm9v");
  EXPECT_EQ(Base64("foobar"), "Zm9vYmFy");
}

http::Request RequestWith(std::string authorization) {
  http::Request req;
  req.method = "GET";
  req.target = req.path = "/api/v1/query";
  if (!authorization.empty()) req.headers.emplace_back("Authorization", std::move(authorization));
  return req;
}

TEST(HashSecretTest, KnownSha256Vectors) {
  EXPECT_EQ(HashSecret("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HashSecret(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(NewSecretTest, FormatAndUniqueness) {
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    std::string s = NewSecret();
    ASSERT_EQ(s.size(), 48u) << s;
    EXPECT_EQ(s.substr(0, 5), "tyto_");
    for (char c : s.substr(5)) {
      EXPECT_TRUE((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                  c == '_')
          << "not URL-safe: " << s;
    }
    seen.insert(s);
  }
  EXPECT_EQ(seen.size(), 50u);
}

TEST(ScopeTest, NamesParseAndEffectiveScopes) {
  EXPECT_EQ(ScopeName(Scope::kRead), "read");
  EXPECT_EQ(ScopeName(Scope::kWrite), "write");
  EXPECT_EQ(ScopeName(Scope::kAdmin), "admin");
  EXPECT_EQ(ScopeName(Scope::kPublic), "public");
  for (Scope s : {Scope::kRead, Scope::kWrite, Scope::kAdmin}) {
    auto parsed = ParseScope(ScopeName(s));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, s);
  }
  auto bad = ParseScope("root");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("'root'"));
  EXPECT_FALSE(ParseScope("public").ok()) << "public is not a token scope";

  EXPECT_EQ(EffectiveScopes({}), 0u);
  EXPECT_EQ(EffectiveScopes({Scope::kRead}), kReadBit);
  EXPECT_EQ(EffectiveScopes({Scope::kRead, Scope::kWrite}), kReadBit | kWriteBit);
  EXPECT_EQ(EffectiveScopes({Scope::kAdmin}), kAdminBit | kReadBit | kWriteBit | kEditBit | kOperateBit);
  for (Scope s : {Scope::kEdit, Scope::kOperate}) EXPECT_EQ(*ParseScope(ScopeName(s)), s);
}

TEST(RoleTest, RolesAreNamedScopeSets) {
  EXPECT_EQ(*RoleScopes("viewer"), kReadBit);
  EXPECT_EQ(*RoleScopes("editor"), kReadBit | kEditBit);
  EXPECT_EQ(*RoleScopes("operator"), kReadBit | kOperateBit);
  EXPECT_EQ(*RoleScopes("admin"), EffectiveScopes({Scope::kAdmin}));
  auto bad = RoleScopes("root");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("'root'"));
  EXPECT_TRUE(ValidTenant("team-a_1"));
  EXPECT_FALSE(ValidTenant(""));
  EXPECT_FALSE(ValidTenant("a.b"));
  EXPECT_FALSE(ValidTenant("a b"));
  EXPECT_FALSE(ValidTenant(std::string(65, 'a')));
}

TEST(AuthenticatorTest, NoTokensAllowsAnonymousWithAllScopes) {
  Authenticator a(std::vector<Token>{});
  EXPECT_FALSE(a.enabled());
  auto p = a.Authenticate(RequestWith(""));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->name, "anonymous");
  EXPECT_EQ(p->scopes & (kReadBit | kWriteBit | kAdminBit), kReadBit | kWriteBit | kAdminBit);
  // Credentials are ignored rather than rejected.
  EXPECT_TRUE(a.Authenticate(RequestWith("Bearer whatever")).ok());
}

class AuthenticatorWithTokensTest : public ::testing::Test {
 protected:
  AuthenticatorWithTokensTest()
      : auth_(std::vector<Token>{{"grafana", HashSecret("read-secret"), EffectiveScopes({Scope::kRead})},
                              {"agent", HashSecret("write-secret"), EffectiveScopes({Scope::kWrite})},
                              {"ops", HashSecret("admin-secret"), EffectiveScopes({Scope::kAdmin})}}) {}

  void ExpectUnauthenticated(const std::string& authorization) {
    auto p = auth_.Authenticate(RequestWith(authorization));
    ASSERT_FALSE(p.ok()) << "accepted: " << authorization;
    EXPECT_EQ(p.status().code(), StatusCode::kUnauthenticated) << authorization;
  }

  Authenticator auth_;
};

TEST_F(AuthenticatorWithTokensTest, MissingHeaderIsUnauthenticated) {
  EXPECT_TRUE(auth_.enabled());
  auto p = auth_.Authenticate(RequestWith(""));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kUnauthenticated);
  EXPECT_THAT(p.status().message(), HasSubstr("missing credentials"));
}

TEST_F(AuthenticatorWithTokensTest, WrongBearerIsUnauthenticated) {
  ExpectUnauthenticated("Bearer wrong-secret");
  ExpectUnauthenticated("Bearer read-secret ");  // trailing space is part of the secret
  ExpectUnauthenticated("Bearer " + HashSecret("read-secret"));  // the hash is not the secret
  ExpectUnauthenticated("Bearer");
  ExpectUnauthenticated("Bearer ");
  ExpectUnauthenticated("Token read-secret");
  ExpectUnauthenticated("read-secret");
}

TEST_F(AuthenticatorWithTokensTest, CorrectBearerGivesPrincipal) {
  auto p = auth_.Authenticate(RequestWith("Bearer read-secret"));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->name, "grafana");
  EXPECT_EQ(DefaultScopes(*p), kReadBit);

  p = auth_.Authenticate(RequestWith("Bearer admin-secret"));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->name, "ops");
  EXPECT_EQ(DefaultScopes(*p), EffectiveScopes({Scope::kAdmin}));
}

TEST_F(AuthenticatorWithTokensTest, HeaderNameAndSchemeAreCaseInsensitive) {
  http::Request req = RequestWith("");
  req.headers.emplace_back("authorization", "bearer write-secret");
  auto p = auth_.Authenticate(req);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->name, "agent");
}

TEST_F(AuthenticatorWithTokensTest, BasicAuthWithNameAndSecret) {
  auto p = auth_.Authenticate(RequestWith("Basic " + Base64("agent:write-secret")));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->name, "agent");
  EXPECT_EQ(DefaultScopes(*p), kWriteBit);
  // All padding lengths decode.
  Authenticator a(std::vector<Token>{{"a", HashSecret("s"), kReadBit}, {"ab", HashSecret("s2"), kReadBit}});
  EXPECT_TRUE(a.Authenticate(RequestWith("Basic " + Base64("a:s"))).ok());    // no padding
  EXPECT_TRUE(a.Authenticate(RequestWith("Basic " + Base64("ab:s2"))).ok());  // "=="
  EXPECT_TRUE(a.Authenticate(RequestWith("Basic " + Base64("a:s2x"))).status().code() ==
              StatusCode::kUnauthenticated);
  Authenticator b(std::vector<Token>{{"user", HashSecret("pw:with:colons"), kReadBit}});
  EXPECT_TRUE(b.Authenticate(RequestWith("Basic " + Base64("user:pw:with:colons"))).ok())
      << "the secret is everything after the first colon";
}

TEST(AuthenticatorTest, UpperCaseHashInTheConfigWorks) {
  std::string hash = HashSecret("s3cret");
  for (char& c : hash) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  Authenticator a(std::vector<Token>{{"ops", hash, kReadBit}});
  http::Request req;
  req.headers = {{"Authorization", "Bearer s3cret"}};
  EXPECT_TRUE(a.Authenticate(req).ok());
}

TEST_F(AuthenticatorWithTokensTest, BasicAuthWithWrongNameFails) {
  ExpectUnauthenticated("Basic " + Base64("grafana:write-secret"));  // right secret, other token's name
  ExpectUnauthenticated("Basic " + Base64(":write-secret"));
  ExpectUnauthenticated("Basic " + Base64("agent:wrong"));
}

TEST_F(AuthenticatorWithTokensTest, MalformedBasicFails) {
  ExpectUnauthenticated("Basic !!!!");
  ExpectUnauthenticated("Basic Zm9v=");                     // length not a multiple of 4
  ExpectUnauthenticated("Basic " + Base64("no-colon"));   // decodes, but has no user:secret
  ExpectUnauthenticated("Basic ");
  auto p = auth_.Authenticate(RequestWith("Basic %%%%"));
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(p.status().message(), HasSubstr("malformed"));
}

// Guard tests: the handler records that it ran and who called.
class GuardTest : public ::testing::Test {
 protected:
  GuardTest() {
    guard_.Set(std::make_shared<const Authenticator>(std::vector<Token>{
        {"grafana", HashSecret("read-secret"), EffectiveScopes({Scope::kRead})},
        {"agent", HashSecret("write-secret"), EffectiveScopes({Scope::kWrite})},
        {"ops", HashSecret("admin-secret"), EffectiveScopes({Scope::kAdmin})}}));
  }

  http::Handler Wrap(Scope scope) {
    return guard_.Require(scope, [this](http::Request& req) {
      ++calls_;
      last_principal_ = req.principal.name;
      return http::Response::Text(200, "ran");
    });
  }

  http::Response Call(Scope scope, const std::string& authorization) {
    http::Request req = RequestWith(authorization);
    return Wrap(scope)(req);
  }

  // Checks the Prometheus-style error body and returns its "error" text.
  std::string ExpectErrorBody(const http::Response& r, const std::string& error_type) {
    EXPECT_EQ(r.content_type, "application/json");
    rapidjson::Document doc;
    doc.Parse(r.body.c_str());
    EXPECT_FALSE(doc.HasParseError()) << r.body;
    if (doc.HasParseError() || !doc.IsObject()) return "";
    EXPECT_TRUE(doc.HasMember("status") && doc["status"].IsString() && doc["status"].GetString() == std::string("error"))
        << r.body;
    EXPECT_TRUE(doc.HasMember("errorType") && doc["errorType"].IsString() &&
                doc["errorType"].GetString() == error_type)
        << r.body;
    EXPECT_TRUE(doc.HasMember("error") && doc["error"].IsString()) << r.body;
    return doc.HasMember("error") && doc["error"].IsString() ? doc["error"].GetString() : "";
  }

  static std::vector<std::string> HeaderValues(const http::Response& r, std::string_view name) {
    std::vector<std::string> out;
    for (const auto& [k, v] : r.headers) {
      if (k == name) out.push_back(v);
    }
    return out;
  }

  Guard guard_;
  int calls_ = 0;
  std::string last_principal_;
};

TEST_F(GuardTest, MissingCredentialsGet401WithChallenge) {
  http::Response r = Call(Scope::kRead, "");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(calls_, 0);
  EXPECT_THAT(ExpectErrorBody(r, "unauthorized"), HasSubstr("missing credentials"));
  std::vector<std::string> challenges = HeaderValues(r, "WWW-Authenticate");
  EXPECT_THAT(challenges, ::testing::Contains(HasSubstr("Bearer")));
  EXPECT_THAT(challenges, ::testing::Contains(HasSubstr("Basic")));
}

TEST_F(GuardTest, TheWebUiGetsNoBasicChallenge) {
  // A Basic challenge would make the browser prompt for a password over the UI's own token dialog.
  http::Request req = RequestWith("");
  req.headers.emplace_back("X-Requested-With", "XMLHttpRequest");
  http::Response r = Wrap(Scope::kRead)(req);
  EXPECT_EQ(r.status, 401);
  std::vector<std::string> challenges = HeaderValues(r, "WWW-Authenticate");
  EXPECT_THAT(challenges, ::testing::Contains(HasSubstr("Bearer")));
  EXPECT_THAT(challenges, ::testing::Not(::testing::Contains(HasSubstr("Basic"))));
}

TEST_F(GuardTest, WrongCredentialsGet401) {
  http::Response r = Call(Scope::kRead, "Bearer nope");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(calls_, 0);
  EXPECT_THAT(ExpectErrorBody(r, "unauthorized"), HasSubstr("invalid credentials"));
  EXPECT_FALSE(HeaderValues(r, "WWW-Authenticate").empty());
}

TEST_F(GuardTest, MissingScopeGets403) {
  http::Response r = Call(Scope::kWrite, "Bearer read-secret");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(calls_, 0);
  std::string error = ExpectErrorBody(r, "forbidden");
  EXPECT_THAT(error, HasSubstr("'grafana'"));
  EXPECT_THAT(error, HasSubstr("'write'"));
  EXPECT_TRUE(HeaderValues(r, "WWW-Authenticate").empty()) << "403 is not a credentials challenge";

  EXPECT_EQ(Call(Scope::kRead, "Bearer write-secret").status, 403);
  EXPECT_EQ(Call(Scope::kAdmin, "Bearer read-secret").status, 403);
  EXPECT_EQ(Call(Scope::kAdmin, "Bearer write-secret").status, 403);
  EXPECT_EQ(calls_, 0);
}

TEST_F(GuardTest, HeldScopeRunsHandlerWithPrincipal) {
  http::Response r = Call(Scope::kRead, "Bearer read-secret");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ran");
  EXPECT_EQ(calls_, 1);
  EXPECT_EQ(last_principal_, "grafana");

  r = Call(Scope::kWrite, "Basic " + Base64("agent:write-secret"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(last_principal_, "agent");
}

TEST_F(GuardTest, AdminImpliesReadAndWrite) {
  for (Scope s : {Scope::kRead, Scope::kWrite, Scope::kAdmin}) {
    http::Response r = Call(s, "Bearer admin-secret");
    EXPECT_EQ(r.status, 200) << ScopeName(s);
  }
  EXPECT_EQ(calls_, 3);
  EXPECT_EQ(last_principal_, "ops");
}

TEST_F(GuardTest, PublicRoutesRunWithoutCredentials) {
  EXPECT_EQ(Call(Scope::kPublic, "").status, 200);
  EXPECT_EQ(Call(Scope::kPublic, "Bearer nope").status, 200) << "public routes ignore credentials";
  EXPECT_EQ(calls_, 2);
}

TEST_F(GuardTest, SetSwapsTheAuthenticatorForExistingRoutes) {
  http::Handler h = Wrap(Scope::kWrite);
  http::Request req = RequestWith("Bearer new-secret");
  EXPECT_EQ(h(req).status, 401);

  std::shared_ptr<const Authenticator> before = guard_.Get();
  guard_.Set(std::make_shared<const Authenticator>(
      std::vector<Token>{{"rotated", HashSecret("new-secret"), EffectiveScopes({Scope::kWrite})}}));
  EXPECT_NE(guard_.Get(), before);
  req = RequestWith("Bearer new-secret");
  EXPECT_EQ(h(req).status, 200);
  EXPECT_EQ(last_principal_, "rotated");
  req = RequestWith("Bearer write-secret");
  EXPECT_EQ(h(req).status, 401) << "the old token is gone";
  // The authenticator a request started with stays usable.
  EXPECT_TRUE(before->Authenticate(RequestWith("Bearer write-secret")).ok());

  // Back to no tokens: everyone is allowed.
  guard_.Set(std::make_shared<const Authenticator>(std::vector<Token>{}));
  req = RequestWith("");
  EXPECT_EQ(h(req).status, 200);
  EXPECT_EQ(last_principal_, "anonymous");
}

TEST(GuardDefaultTest, StartsWithNoTokens) {
  Guard guard;
  ASSERT_NE(guard.Get(), nullptr);
  EXPECT_FALSE(guard.Get()->enabled());
  bool ran = false;
  http::Handler h = guard.Require(Scope::kAdmin, [&ran](http::Request&) {
    ran = true;
    return http::Response::Text(200, "ok");
  });
  http::Request req = RequestWith("");
  EXPECT_EQ(h(req).status, 200);
  EXPECT_TRUE(ran);
}

// Tenants: which one a request acts for, and the scopes it holds there.
class TenantGuardTest : public ::testing::Test {
 protected:
  TenantGuardTest() {
    Token one{"team-a-agent", HashSecret("a-secret"), kWriteBit | kReadBit};
    one.tenants = {"team-a"};
    Token both{"platform", HashSecret("p-secret"), 0};
    both.tenant_scopes = {{"team-a", *RoleScopes("admin")}, {"team-b", *RoleScopes("viewer")}};
    Token any{"root", HashSecret("r-secret"), *RoleScopes("viewer")};
    any.tenants = {"*"};
    guard_.Set(std::make_shared<const Authenticator>(std::vector<Token>{one, both, any}));
  }

  // Status and (when it ran) the tenant the handler saw.
  std::pair<int, std::string> Call(Scope scope, const std::string& secret, const std::string& org = "") {
    http::Request req = RequestWith("Bearer " + secret);
    if (!org.empty()) req.headers.emplace_back("X-Scope-OrgID", org);
    std::string seen;
    http::Response r = guard_.Require(scope, [&](http::Request& q) {
      seen = q.principal.tenant;
      return http::Response::Text(200, "ran");
    })(req);
    return {r.status, r.status == 200 ? seen : r.body};
  }

  Guard guard_;
};

TEST_F(TenantGuardTest, ATokenOfOneTenantActsForIt) {
  EXPECT_EQ(Call(Scope::kRead, "a-secret"), std::make_pair(200, std::string("team-a")));
  EXPECT_EQ(Call(Scope::kWrite, "a-secret", "team-a"), std::make_pair(200, std::string("team-a")));
  auto [status, body] = Call(Scope::kRead, "a-secret", "team-b");
  EXPECT_EQ(status, 403);
  EXPECT_THAT(body, HasSubstr("may not act for tenant 'team-b'"));
  EXPECT_EQ(Call(Scope::kRead, "a-secret", "default").first, 403) << "default is a tenant like any other";
}

TEST_F(TenantGuardTest, SeveralTenantsNeedTheHeaderAndScopesArePerTenant) {
  auto [status, body] = Call(Scope::kRead, "p-secret");
  EXPECT_EQ(status, 400);
  EXPECT_THAT(body, HasSubstr("X-Scope-OrgID"));
  EXPECT_THAT(body, HasSubstr("team-a, team-b"));
  EXPECT_EQ(Call(Scope::kAdmin, "p-secret", "team-a").first, 200);
  EXPECT_EQ(Call(Scope::kRead, "p-secret", "team-b").first, 200);
  auto [denied, why] = Call(Scope::kEdit, "p-secret", "team-b");
  EXPECT_EQ(denied, 403) << "a viewer of team-b may not edit there";
  EXPECT_THAT(why, HasSubstr("'edit' scope for tenant 'team-b'"));
}

TEST_F(TenantGuardTest, AnyTenantTokensDefaultToDefaultAndMalformedNamesAre400) {
  EXPECT_EQ(Call(Scope::kRead, "r-secret"), std::make_pair(200, std::string("default")));
  EXPECT_EQ(Call(Scope::kRead, "r-secret", "whoever"), std::make_pair(200, std::string("whoever")));
  for (const std::string& bad : std::vector<std::string>{"a.b", "a/b", std::string(65, 'x'), "a\x01"}) {
    EXPECT_EQ(Call(Scope::kRead, "r-secret", bad).first, 400) << bad;
  }
  EXPECT_EQ(Call(Scope::kRead, "r-secret", " spaced ").second, "spaced") << "surrounding blanks are trimmed";
}

// Reload, log level, flush and /metrics act on the whole server: an admin of team-a is refused;
// the scope for the default tenant is what they need.
TEST_F(TenantGuardTest, ServerWideRoutesNeedTheScopeForTheDefaultTenant) {
  auto call = [&](Scope scope, const std::string& secret, const std::string& org) {
    http::Request req = RequestWith("Bearer " + secret);
    if (!org.empty()) req.headers.emplace_back("X-Scope-OrgID", org);
    return guard_.RequireServerWide(scope, [](http::Request&) { return http::Response::Text(200, "ran"); })(req);
  };
  http::Response r = call(Scope::kAdmin, "p-secret", "team-a");
  EXPECT_EQ(r.status, 403);
  EXPECT_THAT(r.body, HasSubstr("acts on the whole server"));
  EXPECT_EQ(call(Scope::kRead, "a-secret", "").status, 403);
  EXPECT_EQ(call(Scope::kRead, "r-secret", "").status, 200);
  EXPECT_EQ(call(Scope::kAdmin, "r-secret", "").status, 403) << "a viewer is not an admin anywhere";
}

TEST_F(GuardTest, ShieldCountsFailuresByReasonSlowsGuessingAndLimitsTokens) {
  instrumentation::Registry registry;
  testing::FakeClock clock;
  http::Shield shield(&registry, &clock);
  http::ShieldOptions o;
  o.auth_failures = {1, 3};  // three failures, then one a second
  o.per_token = {1, 2};
  shield.SetOptions(o);
  guard_.SetShield(&shield);
  // Missing credentials and a valid token lacking a scope are counted but spend nothing.
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(Call(Scope::kRead, "").status, 401);
    EXPECT_EQ(Call(Scope::kWrite, "Bearer read-secret").status, 403);
  }
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Call(Scope::kRead, "Bearer guess-" + std::to_string(i)).status, 401);
  // Three wrong secrets spent the allowance: the next attempt is refused before its credentials are checked,
  // even a right one, until the bucket refills.
  http::Response r = Call(Scope::kRead, "Bearer read-secret");
  EXPECT_EQ(r.status, 429);
  EXPECT_THAT(r.body, HasSubstr("\"limit\":\"auth_failures_per_address\""));
  EXPECT_THAT(HeaderValues(r, "Retry-After"), ::testing::ElementsAre("1"));
  EXPECT_EQ(r.refused, "rate_limited");
  clock.Advance(std::chrono::seconds(1));
  EXPECT_EQ(Call(Scope::kRead, "Bearer read-secret").status, 200);
  // The token's own limit: a burst of two, one of which is spent.
  EXPECT_EQ(Call(Scope::kRead, "Bearer read-secret").status, 200);
  r = Call(Scope::kRead, "Bearer read-secret");
  EXPECT_EQ(r.status, 429);
  EXPECT_THAT(r.body, HasSubstr("token 'grafana'"));
  EXPECT_THAT(r.body, HasSubstr("\"limit\":\"rate_limit_per_token\""));
  EXPECT_EQ(Call(Scope::kWrite, "Bearer write-secret").status, 200) << "another token has its own bucket";
  const std::string m = registry.Expose();
  EXPECT_THAT(m, HasSubstr("tyto_http_auth_failures_total{reason=\"missing_credentials\"} 5"));
  EXPECT_THAT(m, HasSubstr("tyto_http_auth_failures_total{reason=\"invalid_credentials\"} 3"));
  EXPECT_THAT(m, HasSubstr("tyto_http_auth_failures_total{reason=\"missing_scope\"} 5"));
  EXPECT_THAT(m, HasSubstr("tyto_http_requests_by_token_total{token=\"grafana\"} 3"));
  EXPECT_THAT(m, ::testing::Not(HasSubstr("read-secret")));
  guard_.SetShield(nullptr);
}

TEST(TenantAnonymousTest, WithoutTokensAnyTenantMayBeNamed) {
  Guard guard;
  http::Request req = RequestWith("");
  req.headers.emplace_back("X-Scope-OrgID", "team-z");
  std::string seen;
  http::Response r = guard.Require(Scope::kAdmin, [&](http::Request& q) {
    seen = q.principal.tenant;
    return http::Response::Text(200, "ran");
  })(req);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(seen, "team-z");
}

}  // namespace
}  // namespace tyto::auth
