// API keys and tokens of well-known shapes, and the values of key/value pairs whose key names a
// secret.
#include <string.h>  // memmem

#include <array>

#include "redact/scan.h"

namespace tyto::redact {

namespace {

constexpr bool IsTokenChar(char c) { return IsWord(c) || c == '-'; }
bool IsUpperOrDigit(char c) { return (c >= 'A' && c <= 'Z') || IsDigit(c); }
bool IsAlnumOrDash(char c) { return IsAlnum(c) || c == '-'; }
bool IsBlank(char c) { return c == ' ' || c == '\t'; }
// RFC 6750's b64token.
bool IsBearerChar(char c) { return IsAlnum(c) || OneOf(c, "-._~+/="); }
bool IsPemLabelChar(char c) { return (c >= 'A' && c <= 'Z') || IsDigit(c) || c == ' '; }
// A key starts a token only when it does not continue one (base64 included). A table: this is
// asked of nearly every byte of a text.
constexpr std::array<bool, 256> kContinuesToken = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c) t[c] = IsTokenChar(static_cast<char>(c)) || c == '+' || c == '/';
  return t;
}();
bool ContinuesToken(char c) { return kContinuesToken[static_cast<unsigned char>(c)]; }

bool Has(std::string_view text, size_t i, std::string_view s) { return text.substr(i, s.size()) == s; }

// The first occurrence of `s` at or after `from`, or text.size(). memmem, unlike
// string_view::find, does not stop at every occurrence of the first byte ('-' is common).
size_t Find(std::string_view text, size_t from, std::string_view s) {
  if (from >= text.size()) return text.size();
  const void* hit = memmem(text.data() + from, text.size() - from, s.data(), s.size());
  return hit == nullptr ? text.size() : static_cast<size_t>(static_cast<const char*>(hit) - text.data());
}

bool HasIgnoringCase(std::string_view text, size_t i, std::string_view lower) {
  if (text.size() - i < lower.size()) return false;
  for (size_t k = 0; k < lower.size(); ++k) {
    char c = text[i + k];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[k]) return false;
  }
  return true;
}

// The end of the key of a known shape starting at i, or i when none starts there.
size_t KeyEnd(std::string_view text, size_t i) {
  const size_t n = text.size();
  // A prefix, then a body of at least `min` bytes for which `pred` holds, not followed by a byte
  // that would make it a longer word.
  auto body = [&](size_t prefix, auto pred, size_t min) -> size_t {
    const size_t e = RunEnd(text, i + prefix, pred);
    if (e - i - prefix < min || (e < n && IsTokenChar(text[e]))) return i;
    return e;
  };
  switch (text[i]) {
    case 's':  // OpenAI sk-..., sk-proj-...; Anthropic sk-ant-...
      if (Has(text, i, "sk-")) return body(3, IsTokenChar, 20);
      break;
    case 'A':  // AWS access key ids (long-term AKIA, temporary ASIA); Google API keys
      if (Has(text, i, "AKIA") || Has(text, i, "ASIA")) {
        const size_t e = RunEnd(text, i + 4, IsUpperOrDigit);
        return e - i == 20 && !(e < n && IsTokenChar(text[e])) ? e : i;
      }
      if (Has(text, i, "AIza")) return body(4, IsTokenChar, 30);
      break;
    case 'g':  // GitHub tokens
      if (Has(text, i, "github_pat_")) return body(11, IsWord, 22);
      if (Has(text, i, "gh") && i + 3 < n && OneOf(text[i + 2], "pousr") && text[i + 3] == '_') {
        return body(4, IsAlnum, 30);
      }
      break;
    case 'x':  // Slack xoxb-, xoxp-, xoxa-, xoxs-, xoxr-
      if (Has(text, i, "xox") && i + 4 < n && OneOf(text[i + 3], "bpasr") && text[i + 4] == '-') {
        return body(5, IsAlnumOrDash, 10);
      }
      break;
    case 'h':  // Hugging Face
      if (Has(text, i, "hf_")) return body(3, IsAlnum, 30);
      break;
    case 'e': {  // a JWT: base64url header and payload (both JSON objects, so "eyJ"), signature
      if (!Has(text, i, "eyJ")) break;
      const size_t h = RunEnd(text, i, IsTokenChar);
      if (h - i < 10 || h >= n || text[h] != '.' || !Has(text, h + 1, "eyJ")) break;
      const size_t p = RunEnd(text, h + 1, IsTokenChar);
      if (p - h - 1 < 10 || p >= n || text[p] != '.') break;
      return RunEnd(text, p + 1, IsTokenChar);
    }
    default:
      break;
  }
  return i;
}

// A PEM private key from "-----BEGIN ... PRIVATE KEY-----" to the next "-----END ...-----" (or
// to the end of the text when it was cut off), whatever the lines between hold.
class PrivateKeys {
 public:
  explicit PrivateKeys(std::string_view text) : text_(text) {}

  // The end of the block starting at i, or i when no block starts there.
  size_t BlockEnd(size_t i) {
    if (!Has(text_, i, "-----BEGIN ")) return i;
    const size_t label = i + 11;
    const size_t label_end = RunEnd(text_, label, IsPemLabelChar);
    std::string_view l = text_.substr(label, label_end - label);
    if (l.size() > 64 || !(l.ends_with("PRIVATE KEY") || l.ends_with("PRIVATE KEY BLOCK")) ||
        !Has(text_, label_end, "-----")) {
      return i;
    }
    const size_t header_end = label_end + 5;
    // The first "-----END " at or after the header; blocks start in increasing order, so a
    // marker found for an earlier block is this one's too unless it lies before this header.
    if (!end_known_ || end_ < header_end) {
      end_ = Find(text_, header_end, "-----END ");
      end_known_ = true;
    }
    if (end_ == text_.size()) return text_.size();
    size_t e = RunEnd(text_, end_ + 9, IsPemLabelChar);
    if (Has(text_, e, "-----")) e += 5;
    return e;
  }

 private:
  std::string_view text_;
  bool end_known_ = false;
  size_t end_ = 0;
};

// ---- secret ----

// Keys naming a secret, lowercase, with '-' and '.' read as '_': a key ending in one of these
// ("DB_PASSWORD", "client_secret", "x-api-key", "accessToken") names a secret.
constexpr std::array<std::string_view, 16> kSecretWords = {
    "password",   "passwd",    "passphrase", "secret",     "token",     "api_key",    "apikey",      "access_key",
    "accesskey", "private_key", "privatekey", "secret_key", "secretkey", "credential", "credentials", "authorization"};

char KeyChar(char c) {
  if (c >= 'A' && c <= 'Z') return static_cast<char>(c - 'A' + 'a');
  if (c == '-' || c == '.') return '_';
  return IsWord(c) ? c : '\0';
}

// The length of the longest secret word the bytes before `u` end with, or 0.
size_t SecretWordBefore(std::string_view text, size_t u) {
  if (u == 0 || !OneOf(KeyChar(text[u - 1]), "dtynlse")) return 0;  // no word ends otherwise
  size_t best = 0;
  for (std::string_view w : kSecretWords) {
    if (w.size() > u || w.size() <= best) continue;
    bool match = true;
    for (size_t k = 0; k < w.size() && match; ++k) match = KeyChar(text[u - w.size() + k]) == w[k];
    if (match) best = w.size();
  }
  return best;
}

// The first position at or after p where `is_target(text, i)` holds, or text.size(). Queries
// come in increasing order during a scan, so each byte is examined about once.
template <typename Target>
class NextFinder {
 public:
  NextFinder(std::string_view text, Target is_target) : text_(text), is_target_(is_target) {}

  size_t From(size_t p) {
    if (p >= from_ && p <= found_) return found_;  // nothing in [from_, found_), a target at found_
    size_t i = p;
    while (i < text_.size() && !is_target_(text_, i)) ++i;
    from_ = p;
    found_ = i;
    return i;
  }

 private:
  std::string_view text_;
  Target is_target_;
  size_t from_ = 1;
  size_t found_ = 0;
};

bool Unescaped(std::string_view text, size_t i) {
  size_t backslashes = 0;
  while (backslashes < i && text[i - 1 - backslashes] == '\\') ++backslashes;
  return backslashes % 2 == 0;
}

// What ends a value written without quotes.
bool EndsBareValue(char c) { return OneOf(c, " \t\r\n,;&\"'`)]}|\\"); }

// Values that are no secret: placeholders and literals.
bool IsPlaceholder(std::string_view v) {
  static constexpr std::array<std::string_view, 9> kWords = {"null",     "none",     "nil",      "true",     "false",
                                                             "undefined", "<secret>", "<redacted>", "redacted"};
  for (std::string_view w : kWords) {
    if (v.size() == w.size() && HasIgnoringCase(v, 0, w)) return true;
  }
  return v.find_first_not_of('*') == std::string_view::npos;
}

}  // namespace

void ScanApiKey(std::string_view text, std::vector<Candidate>* out) {
  const size_t n = text.size();
  PrivateKeys pem(text);
  for (size_t i = Find(text, 0, "-----BEGIN "); i < n; i = Find(text, i + 1, "-----BEGIN ")) {
    const size_t e = pem.BlockEnd(i);
    if (e > i) out->push_back(MakeCandidate(text, BuiltinRule::kApiKey, i, e, i, e + 5));
  }
  // A key starts where a run of token characters starts, never inside one.
  for (size_t i = 0; i < n;) {
    if (!ContinuesToken(text[i])) {
      ++i;
      continue;
    }
    const size_t run_end = RunEnd(text, i, ContinuesToken);
    if ((text[i] == 'B' || text[i] == 'b') && HasIgnoringCase(text, i, "bearer")) {
      // "Bearer <token>": the token goes, the scheme stays. Tokens are long and not all letters,
      // so that prose ("a Bearer authentication scheme") is left alone.
      const size_t token = RunEnd(text, i + 6, IsBlank);
      const size_t e = RunEnd(text, token, IsBearerChar);
      bool digit = false;
      for (size_t k = token; k < e && !digit; ++k) digit = IsDigit(text[k]);
      if (token > i + 6 && e - token >= 16 && digit) {
        out->push_back(MakeCandidate(text, BuiltinRule::kApiKey, token, e, i > 0 ? i - 1 : 0, e + 1));
      }
    } else if (const size_t e = KeyEnd(text, i); e > i) {
      out->push_back(MakeCandidate(text, BuiltinRule::kApiKey, i, e, i > 0 ? i - 1 : 0, e + 1));
    }
    i = run_end;
  }
}

void ScanSecret(std::string_view text, std::vector<Candidate>* out) {
  const size_t n = text.size();
  NextFinder newline(text, [](std::string_view t, size_t i) { return t[i] == '\n'; });
  NextFinder bare_end(text, [](std::string_view t, size_t i) { return EndsBareValue(t[i]); });
  NextFinder double_quote(text, [](std::string_view t, size_t i) { return t[i] == '"' && Unescaped(t, i); });
  NextFinder single_quote(text, [](std::string_view t, size_t i) { return t[i] == '\'' && Unescaped(t, i); });
  NextFinder escaped_quote(text, [](std::string_view t, size_t i) { return t[i] == '\\' && i + 1 < t.size() && t[i + 1] == '"'; });
  auto may_hold_separator = [](uint64_t w) { return HasByte(w, ':') || HasByte(w, '='); };
  auto is_separator = [](char c) { return c == ':' || c == '='; };
  for (size_t p = FindNext(text, 0, may_hold_separator, is_separator); p < n;
       p = FindNext(text, p + 1, may_hold_separator, is_separator)) {
    const char sep = text[p];
    // The key: `password: x`, `"password": "x"`, `'password' => 'x'`, `\"password\": \"x\"`.
    size_t u = p;
    while (u > 0 && IsBlank(text[u - 1])) --u;
    if (u > 0 && text[u - 1] == '"') {
      --u;
      if (u > 0 && text[u - 1] == '\\') --u;
    } else if (u > 0 && text[u - 1] == '\'') {
      --u;
    }
    const size_t word = SecretWordBefore(text, u);
    if (word == 0) continue;
    // The separator: ':', '=', ":=" or "=>"; "::" and "==" are not assignments.
    size_t v = p + 1;
    if (v < n && (text[v] == '=' || (sep == '=' && text[v] == '>'))) {
      if (sep == '=' && text[v] == '=') continue;
      ++v;
    } else if (v < n && sep == ':' && text[v] == ':') {
      continue;
    }
    v = RunEnd(text, v, IsBlank);
    if (v >= n) continue;
    const bool authorization = word == std::string_view("authorization").size();
    size_t begin;
    size_t end;
    if (text[v] == '"' || text[v] == '\'' || (text[v] == '\\' && v + 1 < n && text[v + 1] == '"')) {
      if (text[v] == '\\') {
        begin = v + 2;
        end = std::min(escaped_quote.From(begin), newline.From(begin));
      } else {
        begin = v + 1;
        end = std::min(text[v] == '"' ? double_quote.From(begin) : single_quote.From(begin), newline.From(begin));
      }
      if (authorization) {
        // "Basic dXNlcjpwYXNz": the credentials follow the scheme.
        const size_t scheme = RunEnd(text, begin, IsAlpha);
        const size_t credentials = RunEnd(text, scheme, IsBlank);
        if (scheme > begin && credentials > scheme && credentials < end) begin = credentials;
      }
    } else {
      begin = v;
      end = bare_end.From(begin);
      if (authorization && end < n && IsBlank(text[end])) {
        const size_t credentials = RunEnd(text, end, IsBlank);
        if (credentials < n && !EndsBareValue(text[credentials])) {
          begin = credentials;
          end = bare_end.From(begin);
        }
      }
    }
    if (begin >= end || IsPlaceholder(text.substr(begin, end - begin))) continue;
    out->push_back(MakeCandidate(text, BuiltinRule::kSecret, begin, end, u - word, end + 2));
  }
}

}  // namespace tyto::redact
