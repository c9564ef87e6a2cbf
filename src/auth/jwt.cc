#include "auth/jwt.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <rapidjson/document.h>

#include <climits>
#include <cmath>
#include <cstring>
#include <optional>
#include <set>
#include <utility>

#include "auth/auth.h"
#include "common/units.h"

namespace tyto::auth {
namespace {

Status Refuse(const std::string& why) { return Status(StatusCode::kUnauthenticated, "JWT " + why); }

// A value from the token, as messages show it: printable ASCII, at most 64 characters, quoted.
std::string Shown(std::string_view s) {
  std::string out = "'";
  for (char c : s.substr(0, 64)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (s.size() > 64) out += "...";
  return out + "'";
}

int Base64UrlValue(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

// base64url without padding (RFC 7515 section 2), canonical only: the unused low bits of the
// last character must be zero, so one token has one spelling.
std::optional<std::string> DecodeBase64Url(std::string_view in) {
  if (in.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(in.size() / 4 * 3 + 2);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = Base64UrlValue(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

// A JSON object whose member names are unique (RFC 7515 section 4: a duplicate makes the
// meaning ambiguous, so it is refused). Iterative parsing: nesting cannot exhaust the stack.
Result<rapidjson::Document> ParseObject(const std::string& text, std::string_view what) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(text.data(), text.size());
  if (doc.HasParseError()) return Refuse(std::string(what) + " is not JSON");
  if (!doc.IsObject()) return Refuse(std::string(what) + " is not a JSON object");
  std::set<std::string_view> names;
  // Indexed, not range-for: rapidjson's member iterators trip clang's C++20 reversed-operator check.
  for (rapidjson::SizeType i = 0; i < doc.MemberCount(); ++i) {
    const auto& m = doc.MemberBegin()[i];
    std::string_view name(m.name.GetString(), m.name.GetStringLength());
    if (!names.insert(name).second) return Refuse(std::string(what) + " names " + Shown(name) + " twice");
  }
  return doc;
}

const rapidjson::Value* Member(const rapidjson::Value& obj, std::string_view name) {
  auto it = obj.FindMember(rapidjson::Value(rapidjson::StringRef(name.data(), name.size())));
  return it == obj.MemberEnd() ? nullptr : &it->value;
}

std::string_view Str(const rapidjson::Value& v) { return {v.GetString(), v.GetStringLength()}; }

// NumericDate (RFC 7519 section 2): seconds since the epoch. Up to the year 9999.
Result<std::optional<double>> NumericDate(const rapidjson::Value& payload, std::string_view claim) {
  const rapidjson::Value* v = Member(payload, claim);
  if (v == nullptr) return std::optional<double>();
  if (!v->IsNumber() || !std::isfinite(v->GetDouble()) || v->GetDouble() < 0 || v->GetDouble() > 253402300799.0) {
    return Refuse("claim '" + std::string(claim) + "' is not a NumericDate (seconds since 1970)");
  }
  return std::optional<double>(v->GetDouble());
}

std::string FormatSeconds(double s) { return FormatTimestamp(static_cast<int64_t>(s * 1000)); }

// Whether a claim's tenant may be granted.
Status CheckTenant(std::string_view claim, std::string_view tenant, bool allow_any) {
  if (tenant == "*") {
    if (allow_any) return Status::Ok();
    return Refuse("claim '" + std::string(claim) + "' grants every tenant ('*'), which auth.jwt.allow_any_tenant does not allow");
  }
  if (!ValidTenant(tenant)) {
    return Refuse("claim '" + std::string(claim) + "': " + Shown(tenant) +
                  " is not a tenant name ([A-Za-z0-9_-], 1 to 64 characters)");
  }
  return Status::Ok();
}

}  // namespace

// ---- keys ---------------------------------------------------------------------------------

struct PublicKey::Impl {
  explicit Impl(EVP_PKEY* k) : pkey(k) {}
  ~Impl() { EVP_PKEY_free(pkey); }
  EVP_PKEY* pkey;
};

PublicKey::PublicKey(Type type, std::unique_ptr<Impl> impl) : type_(type), impl_(std::move(impl)) {}
PublicKey::~PublicKey() = default;

Result<std::shared_ptr<const PublicKey>> PublicKey::FromPem(std::string_view pem) {
  if (pem.find("PRIVATE KEY-----") != std::string_view::npos) {
    return InvalidArgument("holds a private key; give its public key (openssl pkey -in key.pem -pubout)");
  }
  if (pem.find("-----BEGIN RSA PUBLIC KEY-----") != std::string_view::npos) {
    return InvalidArgument("holds a PKCS #1 RSA key; convert it to a PUBLIC KEY (openssl rsa -RSAPublicKey_in -pubout)");
  }
  if (pem.size() > INT_MAX) return InvalidArgument("too large for a key");
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return InvalidArgument("cannot read a key (out of memory)");
  // No passphrase prompt, ever: public keys are not encrypted.
  pem_password_cb* no_passphrase = [](char*, int, int, void*) { return 0; };
  EVP_PKEY* raw = PEM_read_bio_PUBKEY(bio, nullptr, no_passphrase, nullptr);
  BIO_free(bio);
  ERR_clear_error();
  if (raw == nullptr) return InvalidArgument("holds no PEM public key (expected -----BEGIN PUBLIC KEY-----)");
  auto impl = std::make_unique<Impl>(raw);
  if (EVP_PKEY_is_a(raw, "RSA")) {
    const int bits = EVP_PKEY_get_bits(raw);
    if (bits < 2048) {
      return InvalidArgument("holds an RSA key of " + std::to_string(bits) + " bits; 2048 at least");
    }
    return std::shared_ptr<const PublicKey>(new PublicKey(Type::kRsa, std::move(impl)));
  }
  if (EVP_PKEY_is_a(raw, "EC")) {
    char group[80] = {0};
    size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(raw, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), &len) != 1) {
      ERR_clear_error();
      return InvalidArgument("holds an EC key on an unnamed curve; only P-256 (ES256)");
    }
    if (std::strcmp(group, "prime256v1") != 0) {
      return InvalidArgument(std::string("holds an EC key on curve ") + group + "; only P-256 (ES256)");
    }
    return std::shared_ptr<const PublicKey>(new PublicKey(Type::kEcP256, std::move(impl)));
  }
  const char* name = EVP_PKEY_get0_type_name(raw);
  return InvalidArgument(std::string("holds a ") + (name ? name : "unknown") +
                         " key; only RSA (RS256) and EC P-256 (ES256) keys verify tokens");
}

std::string PublicKey::Describe() const {
  if (type_ == Type::kRsa) return "RSA " + std::to_string(EVP_PKEY_get_bits(impl_->pkey));
  return "EC P-256";
}

bool PublicKey::Verify(std::string_view signing_input, std::string_view signature) const {
  std::string der;
  if (type_ == Type::kEcP256) {
    // JWS carries r and s as two 32-byte big-endian numbers; EVP wants an ECDSA-Sig-Value in DER.
    if (signature.size() != 64) return false;
    const auto* p = reinterpret_cast<const unsigned char*>(signature.data());
    ECDSA_SIG* sig = ECDSA_SIG_new();
    BIGNUM* r = BN_bin2bn(p, 32, nullptr);
    BIGNUM* s = BN_bin2bn(p + 32, 32, nullptr);
    if (sig == nullptr || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig, r, s) != 1) {
      BN_free(r);
      BN_free(s);
      ECDSA_SIG_free(sig);
      ERR_clear_error();
      return false;
    }
    unsigned char* out = nullptr;
    const int len = i2d_ECDSA_SIG(sig, &out);
    ECDSA_SIG_free(sig);
    if (len <= 0) {
      ERR_clear_error();
      return false;
    }
    der.assign(reinterpret_cast<const char*>(out), static_cast<size_t>(len));
    OPENSSL_free(out);
    signature = der;
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok = ctx != nullptr &&
                  EVP_DigestVerifyInit_ex(ctx, nullptr, "SHA256", nullptr, nullptr, impl_->pkey, nullptr) == 1 &&
                  EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                                   reinterpret_cast<const unsigned char*>(signing_input.data()),
                                   signing_input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  ERR_clear_error();
  return ok;
}

// ---- tokens -------------------------------------------------------------------------------

bool LooksLikeJwt(std::string_view credential) {
  size_t first = credential.find('.');
  if (first == std::string_view::npos) return false;
  size_t second = credential.find('.', first + 1);
  return second != std::string_view::npos && credential.find('.', second + 1) == std::string_view::npos;
}

JwtVerifier::JwtVerifier(JwtOptions options, const Clock* clock)
    : options_(std::move(options)), clock_(clock != nullptr ? clock : Clock::Real()) {}

Result<http::Principal> JwtVerifier::Verify(std::string_view token) const {
  if (token.size() > kMaxJwtBytes) {
    return Refuse("is " + std::to_string(token.size()) + " bytes, over the limit of " + std::to_string(kMaxJwtBytes));
  }
  if (!LooksLikeJwt(token)) return Refuse("is not three base64url parts separated by dots");
  const size_t dot1 = token.find('.');
  const size_t dot2 = token.find('.', dot1 + 1);
  const std::string_view header_b64 = token.substr(0, dot1);
  const std::string_view payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string_view signature_b64 = token.substr(dot2 + 1);

  auto header_json = DecodeBase64Url(header_b64);
  if (!header_json) return Refuse("header is not base64url without padding");
  auto payload_json = DecodeBase64Url(payload_b64);
  if (!payload_json) return Refuse("payload is not base64url without padding");
  auto signature = DecodeBase64Url(signature_b64);
  if (!signature) return Refuse("signature is not base64url without padding");

  TYTO_ASSIGN_OR_RETURN(rapidjson::Document header, ParseObject(*header_json, "header"));
  const rapidjson::Value* alg = Member(header, "alg");
  if (alg == nullptr || !alg->IsString()) return Refuse("header has no alg");
  PublicKey::Type want;
  if (Str(*alg) == "RS256") {
    want = PublicKey::Type::kRsa;
  } else if (Str(*alg) == "ES256") {
    want = PublicKey::Type::kEcP256;
  } else {
    return Refuse("alg " + Shown(Str(*alg)) + " not allowed (RS256 or ES256)");
  }
  if (Member(header, "crit") != nullptr) return Refuse("header has crit extensions, which are not understood");

  // The key: the one the kid names, or else each configured key of the alg's type.
  std::vector<const JwtKey*> candidates;
  if (const rapidjson::Value* kid = Member(header, "kid")) {
    if (!kid->IsString()) return Refuse("header kid is not a string");
    for (const JwtKey& k : options_.keys) {
      if (k.kid == Str(*kid)) candidates.push_back(&k);
    }
    if (candidates.empty()) return Refuse("unknown kid " + Shown(Str(*kid)));
    for (const JwtKey* k : candidates) {
      if (k->key->type() != want) {
        return Refuse("alg " + std::string(Str(*alg)) + " does not fit key '" + k->kid + "' (" + k->key->Describe() + ")");
      }
    }
  } else {
    for (const JwtKey& k : options_.keys) {
      if (k.key->type() == want) candidates.push_back(&k);
    }
    if (candidates.empty()) return Refuse("no configured key for alg " + std::string(Str(*alg)));
  }
  const std::string_view signing_input = token.substr(0, dot2);
  bool verified = false;
  for (const JwtKey* k : candidates) {
    if (k->key->Verify(signing_input, *signature)) {
      verified = true;
      break;
    }
  }
  if (!verified) return Refuse("bad signature (" + std::string(Str(*alg)) + ")");

  // Signed by a trusted key from here on; the claims still have to hold.
  TYTO_ASSIGN_OR_RETURN(rapidjson::Document payload, ParseObject(*payload_json, "payload"));
  const double now = static_cast<double>(clock_->NowMillis()) / 1000.0;
  const double leeway = static_cast<double>(options_.leeway.count());
  TYTO_ASSIGN_OR_RETURN(std::optional<double> exp, NumericDate(payload, "exp"));
  if (!exp) return Refuse("has no exp (expiry) claim");
  if (now >= *exp + leeway) return Refuse("expired at " + FormatSeconds(*exp));
  TYTO_ASSIGN_OR_RETURN(std::optional<double> nbf, NumericDate(payload, "nbf"));
  if (nbf && now + leeway < *nbf) return Refuse("not valid before " + FormatSeconds(*nbf));
  TYTO_ASSIGN_OR_RETURN(std::optional<double> iat, NumericDate(payload, "iat"));
  if (iat && *iat > now + leeway) return Refuse("issued in the future, at " + FormatSeconds(*iat));

  if (!options_.issuer.empty()) {
    const rapidjson::Value* iss = Member(payload, "iss");
    if (iss == nullptr || !iss->IsString()) return Refuse("has no issuer (iss), expected '" + options_.issuer + "'");
    if (Str(*iss) != options_.issuer) {
      return Refuse("wrong issuer " + Shown(Str(*iss)) + ", expected '" + options_.issuer + "'");
    }
  }
  if (!options_.audience.empty()) {
    const rapidjson::Value* aud = Member(payload, "aud");
    bool found = false;
    if (aud != nullptr && aud->IsString()) {
      found = Str(*aud) == options_.audience;
    } else if (aud != nullptr && aud->IsArray()) {
      for (const auto& a : aud->GetArray()) found = found || (a.IsString() && Str(a) == options_.audience);
    } else {
      return Refuse("has no audience (aud), expected '" + options_.audience + "'");
    }
    if (!found) return Refuse("wrong audience, expected '" + options_.audience + "'");
  }

  // Who.
  const rapidjson::Value* name = Member(payload, options_.name_claim);
  if (name == nullptr || !name->IsString() || name->GetStringLength() == 0) {
    return Refuse("has no claim '" + options_.name_claim + "' (a non-empty string naming the caller)");
  }
  if (name->GetStringLength() > 256) return Refuse("claim '" + options_.name_claim + "' is over 256 bytes");
  for (char c : Str(*name)) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return Refuse("claim '" + options_.name_claim + "' holds control characters");
    }
  }

  // What for: as a static token's grants.
  Token grant;
  grant.name = std::string(Str(*name));
  if (const rapidjson::Value* t = Member(payload, options_.tenant_claim)) {
    const std::string bad = "claim '" + options_.tenant_claim + "' is not a tenant or a list of tenants";
    if (t->IsString()) {
      grant.tenants.emplace_back(Str(*t));
    } else if (t->IsArray() && !t->Empty()) {
      for (const auto& e : t->GetArray()) {
        if (!e.IsString()) return Refuse(bad);
        grant.tenants.emplace_back(Str(e));
      }
    } else {
      return Refuse(bad);
    }
    for (const std::string& tenant : grant.tenants) {
      TYTO_RETURN_IF_ERROR(CheckTenant(options_.tenant_claim, tenant, options_.allow_any_tenant));
    }
  }
  std::string role_name;
  if (const rapidjson::Value* r = Member(payload, options_.role_claim)) {
    if (r->IsString()) {
      auto bits = RoleScopes(Str(*r));
      if (!bits.ok()) return Refuse("claim '" + options_.role_claim + "': unknown role " + Shown(Str(*r)));
      grant.scopes |= *bits;
      role_name = std::string(Str(*r));
    } else if (r->IsObject()) {
      for (rapidjson::SizeType i = 0; i < r->MemberCount(); ++i) {
        const auto& m = r->MemberBegin()[i];
        TYTO_RETURN_IF_ERROR(CheckTenant(options_.role_claim, Str(m.name), options_.allow_any_tenant));
        auto bits = m.value.IsString() ? RoleScopes(Str(m.value)) : Result<uint32_t>(InvalidArgument(""));
        if (!bits.ok()) {
          return Refuse("claim '" + options_.role_claim + "': tenant '" + std::string(Str(m.name)) +
                        "' has no known role (viewer, editor, operator or admin)");
        }
        grant.tenant_scopes.emplace_back(std::string(Str(m.name)), *bits);
      }
    } else {
      return Refuse("claim '" + options_.role_claim + "' is neither a role nor an object of roles per tenant");
    }
  }
  if (!options_.scopes_claim.empty()) {
    if (const rapidjson::Value* s = Member(payload, options_.scopes_claim)) {
      std::vector<Scope> scopes;
      auto add = [&scopes](std::string_view word) {
        if (auto sc = ParseScope(word); sc.ok()) scopes.push_back(*sc);  // others are the provider's own
      };
      if (s->IsString()) {
        std::string_view rest = Str(*s);
        while (!rest.empty()) {
          size_t sp = rest.find(' ');
          add(rest.substr(0, sp));
          rest = sp == std::string_view::npos ? std::string_view() : rest.substr(sp + 1);
        }
      } else if (s->IsArray()) {
        for (const auto& e : s->GetArray()) {
          if (e.IsString()) add(Str(e));
        }
      } else {
        return Refuse("claim '" + options_.scopes_claim + "' is neither a space-separated string nor a list");
      }
      grant.scopes |= EffectiveScopes(scopes);
    }
  }
  http::Principal p{grant.name, 0};
  p.grants = Grants(grant);
  if (p.grants.empty()) {
    return Refuse("grants nothing: no role in claim '" + options_.role_claim + "'" +
                  (options_.scopes_claim.empty() ? "" : " and no scope in claim '" + options_.scopes_claim + "'"));
  }
  p.role = role_name;
  return p;
}

}  // namespace tyto::auth
