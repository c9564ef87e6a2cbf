#include "auth/jwt.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "auth/auth.h"
#include "http/encoding.h"
#include "http/message.h"
#include "testing/fake_clock.h"

namespace tyto::auth {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::UnorderedElementsAre;
using Grant = std::pair<std::string, uint32_t>;

constexpr uint32_t kReadBit = static_cast<uint32_t>(Scope::kRead);
constexpr uint32_t kWriteBit = static_cast<uint32_t>(Scope::kWrite);
constexpr uint32_t kEditBit = static_cast<uint32_t>(Scope::kEdit);
constexpr int64_t kNow = 1'800'000'000;  // seconds; the fake clock's time

std::string Base64Url(std::string_view bytes) {
  std::string s = http::Base64(bytes);
  while (!s.empty() && s.back() == '=') s.pop_back();
  for (char& c : s) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return s;
}

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

std::string PublicPem(EVP_PKEY* k) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, k);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(len));
  BIO_free(bio);
  return pem;
}

std::string PrivatePem(EVP_PKEY* k) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, k, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(len));
  BIO_free(bio);
  return pem;
}

// The test's signer: what an identity provider does.
std::string Sign(EVP_PKEY* k, std::string_view input, bool ec) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t len = 0;
  EXPECT_EQ(EVP_DigestSignInit_ex(ctx, nullptr, "SHA256", nullptr, nullptr, k, nullptr), 1);
  EXPECT_EQ(EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size()), 1);
  std::string sig(len, '\0');
  EXPECT_EQ(EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                           reinterpret_cast<const unsigned char*>(input.data()), input.size()),
            1);
  sig.resize(len);
  EVP_MD_CTX_free(ctx);
  if (!ec) return sig;
  // DER ECDSA-Sig-Value to JWS's r||s.
  const auto* p = reinterpret_cast<const unsigned char*>(sig.data());
  ECDSA_SIG* s = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
  unsigned char rs[64];
  BN_bn2binpad(ECDSA_SIG_get0_r(s), rs, 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(s), rs + 32, 32);
  ECDSA_SIG_free(s);
  return std::string(reinterpret_cast<char*>(rs), 64);
}

class JwtTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rsa_ = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048));
    ec_ = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    ASSERT_NE(rsa_, nullptr);
    ASSERT_NE(ec_, nullptr);
  }
  static void TearDownTestSuite() {
    EVP_PKEY_free(rsa_);
    EVP_PKEY_free(ec_);
  }

  JwtTest() : clock_(kNow * 1000) {}

  JwtOptions Options() {
    JwtOptions o;
    auto rsa = PublicKey::FromPem(PublicPem(rsa_));
    auto ec = PublicKey::FromPem(PublicPem(ec_));
    EXPECT_TRUE(rsa.ok()) << rsa.status().ToString();
    EXPECT_TRUE(ec.ok()) << ec.status().ToString();
    o.keys = {{"rsa-1", *rsa}, {"ec-1", *ec}};
    o.issuer = "https://idp.example";
    o.audience = "tyto";
    return o;
  }

  // A token over this header and payload, signed by `key` (RS256 with rsa_, ES256 with ec_).
  static std::string Token(const std::string& header, const std::string& payload, EVP_PKEY* key) {
    std::string input = Base64Url(header) + "." + Base64Url(payload);
    return input + "." + Base64Url(Sign(key, input, EVP_PKEY_is_a(key, "EC") == 1));
  }
  static std::string Claims(const std::string& extra) {
    return R"({"sub":"alice","iss":"https://idp.example","aud":"tyto","exp":)" + std::to_string(kNow + 600) +
           R"(,"iat":)" + std::to_string(kNow - 10) + (extra.empty() ? "" : "," + extra) + "}";
  }
  static std::string Rs256(const std::string& payload) {
    return Token(R"({"alg":"RS256","typ":"JWT","kid":"rsa-1"})", payload, rsa_);
  }
  static std::string Es256(const std::string& payload) {
    return Token(R"({"alg":"ES256","kid":"ec-1"})", payload, ec_);
  }

  Result<http::Principal> Verify(const std::string& token) { return JwtVerifier(Options(), &clock_).Verify(token); }
  // The refusal's message, checked to be kUnauthenticated and to never echo the token.
  std::string Refusal(const std::string& token, JwtOptions options) {
    auto p = JwtVerifier(std::move(options), &clock_).Verify(token);
    EXPECT_FALSE(p.ok()) << "accepted: " << token;
    if (p.ok()) return "";
    EXPECT_EQ(p.status().code(), StatusCode::kUnauthenticated);
    size_t dot = token.rfind('.');
    if (dot != std::string::npos && token.size() - dot > 12) {
      EXPECT_THAT(p.status().message(), Not(HasSubstr(token.substr(dot + 1))));
    }
    return p.status().message();
  }
  std::string Refusal(const std::string& token) { return Refusal(token, Options()); }

  static EVP_PKEY* rsa_;
  static EVP_PKEY* ec_;
  tyto::testing::FakeClock clock_;
};

EVP_PKEY* JwtTest::rsa_ = nullptr;
EVP_PKEY* JwtTest::ec_ = nullptr;

TEST_F(JwtTest, Rs256GrantsTheRoleForTheTenant) {
  auto p = Verify(Rs256(Claims(R"("tenant":"team-a","role":"editor")")));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->name, "alice");
  EXPECT_EQ(p->scopes, 0u);
  EXPECT_EQ(p->role, "editor");
  EXPECT_THAT(p->grants, UnorderedElementsAre(Grant{"team-a", kReadBit | kEditBit}));
}

TEST_F(JwtTest, Es256WithSeveralTenants) {
  auto p = Verify(Es256(Claims(R"("tenant":["team-a","team-b"],"role":"viewer")")));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_THAT(p->grants, UnorderedElementsAre(Grant{"team-a", kReadBit}, Grant{"team-b", kReadBit}));
}

TEST_F(JwtTest, NoKidTriesTheKeysOfTheAlgsType) {
  auto p = Verify(Token(R"({"alg":"ES256"})", Claims(R"("role":"viewer")"), ec_));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_THAT(p->grants, UnorderedElementsAre(Grant{"default", kReadBit}));  // no tenant claim: default
}

TEST_F(JwtTest, RolesPerTenantAndScopes) {
  JwtOptions o = Options();
  o.scopes_claim = "scope";
  o.role_claim = "tyto_roles";
  o.tenant_claim = "org";
  o.name_claim = "email";
  auto p = JwtVerifier(o, &clock_).Verify(
      Rs256(Claims(R"("email":"a@example.com","org":"team-a","scope":"openid read write",)"
                   R"("tyto_roles":{"team-b":"editor","team-c":"viewer"})")));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->name, "a@example.com");
  EXPECT_THAT(p->grants, UnorderedElementsAre(Grant{"team-a", kReadBit | kWriteBit}, Grant{"team-b", kReadBit | kEditBit},
                                              Grant{"team-c", kReadBit}));
}

TEST_F(JwtTest, AudienceMayBeAList) {
  auto p = Verify(Rs256(R"({"sub":"a","iss":"https://idp.example","aud":["other","tyto"],"role":"viewer","exp":)" +
                        std::to_string(kNow + 60) + "}"));
  EXPECT_TRUE(p.ok()) << p.status().ToString();
}

TEST_F(JwtTest, ExpiryNotBeforeAndIssuedAtWithLeeway) {
  auto at = [](int64_t t) { return std::to_string(kNow + t); };
  EXPECT_THAT(Refusal(Rs256(R"({"sub":"a","iss":"https://idp.example","aud":"tyto","role":"viewer"})")),
              HasSubstr("no exp"));
  EXPECT_THAT(Refusal(Rs256(Claims(R"("role":"viewer","exp":)" + at(-61)))), HasSubstr("twice"));
  std::string expired = R"({"sub":"a","iss":"https://idp.example","aud":"tyto","role":"viewer","exp":)" + at(-61) + "}";
  EXPECT_THAT(Refusal(Rs256(expired)), HasSubstr("expired at 2027-01-15T07:58:59")) << Refusal(Rs256(expired));
  std::string within = R"({"sub":"a","iss":"https://idp.example","aud":"tyto","role":"viewer","exp":)" + at(-30) + "}";
  EXPECT_TRUE(Verify(Rs256(within)).ok());  // inside the 60 s leeway
  JwtOptions strict = Options();
  strict.leeway = std::chrono::seconds(0);
  EXPECT_THAT(Refusal(Rs256(within), strict), HasSubstr("expired at"));
  EXPECT_THAT(Refusal(Rs256(Claims(R"("role":"viewer","nbf":)" + at(120)))), HasSubstr("not valid before"));
  EXPECT_TRUE(Verify(Rs256(Claims(R"("role":"viewer","nbf":)" + at(30)))).ok());
  std::string future = R"({"sub":"a","iss":"https://idp.example","aud":"tyto","role":"viewer","iat":)" + at(300) +
                       R"(,"exp":)" + at(600) + "}";
  EXPECT_THAT(Refusal(Rs256(future)), HasSubstr("issued in the future"));
  EXPECT_THAT(Refusal(Rs256(Claims(R"("role":"viewer","nbf":"soon")"))), HasSubstr("'nbf' is not a NumericDate"));
  // Time moves: the same token expires.
  std::string t = Rs256(Claims(R"("role":"viewer")"));
  EXPECT_TRUE(Verify(t).ok());
  clock_.Advance(std::chrono::seconds(661));
  EXPECT_THAT(Refusal(t), HasSubstr("expired"));
}

TEST_F(JwtTest, WrongIssuerOrAudience) {
  auto with = [](const std::string& iss, const std::string& aud) {
    return R"({"sub":"a","role":"viewer","exp":)" + std::to_string(kNow + 60) + iss + aud + "}";
  };
  EXPECT_THAT(Refusal(Rs256(with(R"(,"iss":"https://evil.example")", R"(,"aud":"tyto")"))), HasSubstr("wrong issuer"));
  EXPECT_THAT(Refusal(Rs256(with("", R"(,"aud":"tyto")"))), HasSubstr("no issuer"));
  EXPECT_THAT(Refusal(Rs256(with(R"(,"iss":"https://idp.example")", R"(,"aud":"grafana")"))),
              HasSubstr("wrong audience"));
  EXPECT_THAT(Refusal(Rs256(with(R"(,"iss":"https://idp.example")", R"(,"aud":["a","b"])"))),
              HasSubstr("wrong audience"));
  EXPECT_THAT(Refusal(Rs256(with(R"(,"iss":"https://idp.example")", ""))), HasSubstr("no audience"));
  JwtOptions open = Options();
  open.issuer.clear();
  open.audience.clear();
  EXPECT_TRUE(JwtVerifier(open, &clock_).Verify(Rs256(with("", ""))).ok());
}

TEST_F(JwtTest, TamperedTokensAreRefused) {
  std::string good = Rs256(Claims(R"("tenant":"team-a","role":"viewer")"));
  size_t d1 = good.find('.');
  size_t d2 = good.find('.', d1 + 1);
  // Another payload under the original signature.
  std::string payload = Base64Url(Claims(R"("tenant":"team-a","role":"admin")"));
  EXPECT_THAT(Refusal(good.substr(0, d1 + 1) + payload + good.substr(d2)), HasSubstr("bad signature"));
  // One character of the signature changed (not the last, whose low bits may be unused).
  std::string sig_changed = good;
  char& c = sig_changed[d2 + 10];
  c = c == 'A' ? 'B' : 'A';
  EXPECT_THAT(Refusal(sig_changed), HasSubstr("bad signature"));
  std::string es = Es256(Claims(R"("role":"viewer")"));
  std::string es_changed = es;
  es_changed[es.rfind('.') + 5] = es_changed[es.rfind('.') + 5] == 'A' ? 'B' : 'A';
  EXPECT_THAT(Refusal(es_changed), HasSubstr("bad signature"));
  // A signature of the right length for ES256 made by another key.
  Pkey other(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  EXPECT_THAT(Refusal(Token(R"({"alg":"ES256","kid":"ec-1"})", Claims(R"("role":"viewer")"), other.get())),
              HasSubstr("bad signature"));
  // Signature stripped.
  EXPECT_THAT(Refusal(good.substr(0, d2 + 1)), HasSubstr("bad signature"));
}

TEST_F(JwtTest, AlgorithmsOtherThanRs256AndEs256AreRefused) {
  std::string payload = Base64Url(Claims(R"("role":"admin")"));
  EXPECT_THAT(Refusal(Base64Url(R"({"alg":"none"})") + "." + payload + "."), HasSubstr("alg 'none' not allowed"));
  EXPECT_THAT(Refusal(Base64Url(R"({"typ":"JWT"})") + "." + payload + "."), HasSubstr("no alg"));
  // The confusion attack: HS256 with the RSA public key's PEM as the HMAC secret.
  const std::string pem = PublicPem(rsa_);
  std::string input = Base64Url(R"({"alg":"HS256","kid":"rsa-1"})") + "." + payload;
  unsigned char mac[32];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), pem.data(), static_cast<int>(pem.size()), reinterpret_cast<const unsigned char*>(input.data()),
       input.size(), mac, &mac_len);
  std::string forged = input + "." + Base64Url(std::string(reinterpret_cast<char*>(mac), mac_len));
  EXPECT_THAT(Refusal(forged), HasSubstr("alg 'HS256' not allowed"));
  for (const char* alg : {"RS384", "PS256", "ES384", "EdDSA", "rs256"}) {
    EXPECT_THAT(Refusal(Base64Url(std::string(R"({"alg":")") + alg + "\"}") + "." + payload + ".AAAA"),
                HasSubstr("not allowed"))
        << alg;
  }
  // The right alg name for the wrong key type.
  EXPECT_THAT(Refusal(Token(R"({"alg":"RS256","kid":"ec-1"})", Claims(R"("role":"viewer")"), rsa_)),
              HasSubstr("does not fit key 'ec-1' (EC P-256)"));
  EXPECT_THAT(Refusal(Token(R"({"alg":"RS256","crit":["exp"]})", Claims(R"("role":"viewer")"), rsa_)),
              HasSubstr("crit"));
}

TEST_F(JwtTest, UnknownKid) {
  EXPECT_THAT(Refusal(Token(R"({"alg":"RS256","kid":"rotated-away"})", Claims(R"("role":"viewer")"), rsa_)),
              HasSubstr("unknown kid 'rotated-away'"));
  EXPECT_THAT(Refusal(Token(R"({"alg":"RS256","kid":7})", Claims(R"("role":"viewer")"), rsa_)),
              HasSubstr("kid is not a string"));
  JwtOptions only_ec = Options();
  only_ec.keys.erase(only_ec.keys.begin());
  EXPECT_THAT(Refusal(Token(R"({"alg":"RS256"})", Claims(R"("role":"viewer")"), rsa_), only_ec),
              HasSubstr("no configured key for alg RS256"));
}

TEST_F(JwtTest, MalformedTokens) {
  std::string good = Rs256(Claims(R"("role":"viewer")"));
  size_t d1 = good.find('.');
  EXPECT_THAT(Refusal("abc"), HasSubstr("three"));
  EXPECT_THAT(Refusal(good + ".x"), HasSubstr("three"));
  EXPECT_THAT(Refusal("a*b" + good.substr(d1)), HasSubstr("header is not base64url"));
  EXPECT_THAT(Refusal(good.substr(0, d1) + "=" + good.substr(d1)), HasSubstr("header is not base64url"));
  EXPECT_THAT(Refusal(good.substr(0, d1 + 1) + "a b" + good.substr(good.rfind('.'))), HasSubstr("payload is not base64url"));
  EXPECT_THAT(Refusal(good + "="), HasSubstr("signature is not base64url"));
  EXPECT_THAT(Refusal(good.substr(0, d1) + ".A" + good.substr(good.rfind('.'))), HasSubstr("payload is not base64url"));
  EXPECT_THAT(Refusal(Base64Url("{\"alg\":") + ".e30.AAAA"), HasSubstr("header is not JSON"));
  EXPECT_THAT(Refusal(Base64Url("[1]") + ".e30.AAAA"), HasSubstr("header is not a JSON object"));
  EXPECT_THAT(Refusal(Base64Url(R"({"alg":"RS256","alg":"none"})") + ".e30.AAAA"), HasSubstr("'alg' twice"));
  EXPECT_THAT(Refusal(Base64Url("{\"alg\":\"RS256\"} x") + ".e30.AAAA"), HasSubstr("header is not JSON"));
  // Signed, but the payload is not JSON (or not an object, or holds invalid UTF-8).
  EXPECT_THAT(Refusal(Rs256("{\"sub\":")), HasSubstr("payload is not JSON"));
  EXPECT_THAT(Refusal(Rs256("\"alice\"")), HasSubstr("payload is not a JSON object"));
  EXPECT_THAT(Refusal(Rs256("{\"sub\":\"\xff\"}")), HasSubstr("payload is not JSON"));
  // Deep nesting is refused or parsed without recursion, never a crash.
  std::string deep = "{\"x\":" + std::string(5000, '[') + std::string(5000, ']') + "}";
  EXPECT_THAT(Refusal(Rs256(deep)), HasSubstr("no exp"));
  // Over 16 KiB.
  std::string big = Rs256(Claims(R"("role":"viewer","pad":")" + std::string(13000, 'x') + "\""));
  ASSERT_GT(big.size(), kMaxJwtBytes);
  EXPECT_THAT(Refusal(big), HasSubstr("over the limit of 16384"));
}

TEST_F(JwtTest, ClaimsThatGrantNothingOrTooMuch) {
  EXPECT_THAT(Refusal(Rs256(Claims(""))), HasSubstr("grants nothing"));
  EXPECT_THAT(Refusal(Rs256(Claims(R"("role":"root")"))), HasSubstr("unknown role 'root'"));
  EXPECT_THAT(Refusal(Rs256(Claims(R"("role":{"team-a":"root"})"))), HasSubstr("tenant 'team-a' has no known role"));
  EXPECT_THAT(Refusal(Rs256(Claims(R"("role":["viewer"])"))), HasSubstr("neither a role nor"));
  EXPECT_THAT(Refusal(Rs256(Claims(R"("role":"viewer","tenant":"bad tenant")"))), HasSubstr("not a tenant name"));
  EXPECT_THAT(Refusal(Rs256(Claims(R"("role":"viewer","tenant":[])"))), HasSubstr("not a tenant or a list"));
  EXPECT_THAT(Refusal(Rs256(Claims(R"("role":"viewer","tenant":["a",1])"))), HasSubstr("not a tenant or a list"));
  EXPECT_THAT(Refusal(Rs256(Claims(R"("role":"viewer","tenant":"*")"))), HasSubstr("allow_any_tenant"));
  EXPECT_THAT(Refusal(Rs256(Claims(R"("role":{"*":"admin"})"))), HasSubstr("allow_any_tenant"));
  JwtOptions any = Options();
  any.allow_any_tenant = true;
  auto p = JwtVerifier(any, &clock_).Verify(Rs256(Claims(R"("role":"viewer","tenant":"*")")));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_THAT(p->grants, UnorderedElementsAre(Grant{"*", kReadBit}));
  EXPECT_THAT(Refusal(Rs256(R"({"role":"viewer","iss":"https://idp.example","aud":"tyto","exp":)" +
                            std::to_string(kNow + 60) + "}")),
              HasSubstr("no claim 'sub'"));
  EXPECT_THAT(Refusal(Rs256(Claims(R"("role":"viewer","sub":"b")"))), HasSubstr("'sub' twice"));
  EXPECT_THAT(Refusal(Rs256(R"({"sub":"a\nb","role":"viewer","iss":"https://idp.example","aud":"tyto","exp":)" +
                            std::to_string(kNow + 60) + "}")),
              HasSubstr("control characters"));
}

TEST(JwtKeyTest, OnlyRsa2048AndP256PublicKeys) {
  Pkey small(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(1024)));
  Pkey p384(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"));
  Pkey ed(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  Pkey p256(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  EXPECT_THAT(PublicKey::FromPem(PublicPem(small.get())).status().message(), HasSubstr("1024 bits"));
  EXPECT_THAT(PublicKey::FromPem(PublicPem(p384.get())).status().message(), HasSubstr("secp384r1"));
  EXPECT_THAT(PublicKey::FromPem(PublicPem(ed.get())).status().message(), HasSubstr("ED25519"));
  EXPECT_THAT(PublicKey::FromPem(PrivatePem(p256.get())).status().message(), HasSubstr("private key"));
  EXPECT_THAT(PublicKey::FromPem("hello").status().message(), HasSubstr("no PEM public key"));
  auto ok = PublicKey::FromPem(PublicPem(p256.get()));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ((*ok)->type(), PublicKey::Type::kEcP256);
}

TEST(JwtShapeTest, LooksLikeJwt) {
  EXPECT_TRUE(LooksLikeJwt("a.b.c"));
  EXPECT_TRUE(LooksLikeJwt(".."));
  EXPECT_FALSE(LooksLikeJwt("tyto_abc"));
  EXPECT_FALSE(LooksLikeJwt("a.b"));
  EXPECT_FALSE(LooksLikeJwt("a.b.c.d"));
}

// Through the Authenticator and the Guard, beside static tokens.
class JwtGuardTest : public JwtTest {
 protected:
  JwtGuardTest() {
    std::vector<auth::Token> tokens = {{"ci", HashSecret("static-secret"), kReadBit}};
    guard_.Set(std::make_shared<const Authenticator>(std::move(tokens),
                                                     std::make_shared<const JwtVerifier>(Options(), &clock_)));
  }
  http::Response Get(const std::string& bearer, const std::string& tenant = "") {
    http::Request req;
    req.method = "GET";
    req.target = req.path = "/api/v1/query";
    req.headers.emplace_back("Authorization", "Bearer " + bearer);
    if (!tenant.empty()) req.headers.emplace_back(std::string(kTenantHeader), tenant);
    return guard_.Require(Scope::kRead, [this](http::Request& r) {
      seen_ = r.principal;
      return http::Response::Text(200, "ok");
    })(req);
  }
  Guard guard_;
  http::Principal seen_;
};

TEST_F(JwtGuardTest, JwtForTenantAReadingTenantBIsForbidden) {
  std::string a = Rs256(Claims(R"("tenant":"team-a","role":"viewer")"));
  http::Response r = Get(a);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(seen_.name, "alice");
  EXPECT_EQ(seen_.tenant, "team-a");
  EXPECT_EQ(seen_.scopes, kReadBit);
  EXPECT_EQ(Get(a, "team-a").status, 200);
  r = Get(a, "team-b");
  EXPECT_EQ(r.status, 403);
  EXPECT_THAT(r.body, HasSubstr("may not act for tenant 'team-b'"));
}

TEST_F(JwtGuardTest, StaticTokensStillWorkAndBadJwtsGet401) {
  EXPECT_EQ(Get("static-secret").status, 200);
  EXPECT_EQ(seen_.name, "ci");
  EXPECT_EQ(Get("wrong-secret").status, 401);
  http::Response r = Get(Rs256(R"({"sub":"a","iss":"https://idp.example","aud":"tyto","role":"viewer","exp":)" +
                               std::to_string(kNow - 3600) + "}"));
  EXPECT_EQ(r.status, 401);
  EXPECT_THAT(r.body, HasSubstr("expired at"));
  r = Get(Token(R"({"alg":"RS256","kid":"nope"})", Claims(R"("role":"viewer")"), rsa_));
  EXPECT_EQ(r.status, 401);
  EXPECT_THAT(r.body, HasSubstr("unknown kid"));
  // Only tokens without JWT configured: a JWT is just a wrong secret.
  guard_.Set(std::make_shared<const Authenticator>(std::vector<auth::Token>{{"ci", HashSecret("static-secret"), kReadBit}}));
  r = Get(Rs256(Claims(R"("role":"viewer")")));
  EXPECT_EQ(r.status, 401);
  EXPECT_THAT(r.body, HasSubstr("invalid credentials"));
}

TEST_F(JwtGuardTest, JwtAloneTurnsAuthOn) {
  Authenticator only_jwt({}, std::make_shared<const JwtVerifier>(Options(), &clock_));
  EXPECT_TRUE(only_jwt.enabled());
  http::Request req;
  EXPECT_EQ(only_jwt.Authenticate(req).status().code(), StatusCode::kUnauthenticated);
  EXPECT_FALSE(Authenticator({}).enabled());
}

}  // namespace
}  // namespace tyto::auth
