#include "promql/lex.h"

#include <array>
#include <cstdint>
#include <cstdio>

namespace tyto::promql {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsAlnum(char c) { return IsAlpha(c) || IsDigit(c); }
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
int HexValue(char c) {
  if (IsDigit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

struct Keyword {
  std::string_view word;
  TokenType type;
};

constexpr std::array<Keyword, 38> kKeywords = {{
    {"and", TokenType::kAnd}, {"or", TokenType::kOr}, {"unless", TokenType::kUnless},
    {"atan2", TokenType::kAtan2},
    {"sum", TokenType::kSum}, {"avg", TokenType::kAvg}, {"count", TokenType::kCount},
    {"min", TokenType::kMin}, {"max", TokenType::kMax}, {"group", TokenType::kGroup},
    {"stddev", TokenType::kStddev}, {"stdvar", TokenType::kStdvar}, {"topk", TokenType::kTopk},
    {"bottomk", TokenType::kBottomk}, {"quantile", TokenType::kQuantile},
    {"count_values", TokenType::kCountValues}, {"limitk", TokenType::kLimitk},
    {"limit_ratio", TokenType::kLimitRatio},
    {"bool", TokenType::kBool}, {"by", TokenType::kBy}, {"without", TokenType::kWithout},
    {"on", TokenType::kOn}, {"ignoring", TokenType::kIgnoring}, {"group_left", TokenType::kGroupLeft},
    {"group_right", TokenType::kGroupRight}, {"offset", TokenType::kOffset}, {"start", TokenType::kStart},
    {"end", TokenType::kEnd}, {"step", TokenType::kStep}, {"range", TokenType::kRange},
    {"anchored", TokenType::kAnchored}, {"smoothed", TokenType::kSmoothed}, {"fill", TokenType::kFill},
    {"fill_left", TokenType::kFillLeft}, {"fill_right", TokenType::kFillRight},
    {"min_of", TokenType::kMinOf}, {"max_of", TokenType::kMaxOf},
    {"", TokenType::kEOF},
}};

TokenType KeywordType(std::string_view word) {
  if (word.size() > 12) return TokenType::kIdentifier;
  char lower[16];
  for (size_t i = 0; i < word.size(); ++i) {
    char c = word[i];
    lower[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  std::string_view w(lower, word.size());
  for (const Keyword& k : kKeywords) {
    if (!k.word.empty() && k.word == w) return k.type;
  }
  return TokenType::kIdentifier;
}

// Decodes one UTF-8 sequence at s[i]; returns its length (0 if invalid) and the code point.
size_t DecodeUtf8(std::string_view s, size_t i, uint32_t* cp) {
  auto b = static_cast<unsigned char>(s[i]);
  if (b < 0x80) {
    *cp = b;
    return 1;
  }
  size_t n;
  uint32_t min;
  if ((b & 0xE0) == 0xC0) { n = 2; *cp = b & 0x1F; min = 0x80; }
  else if ((b & 0xF0) == 0xE0) { n = 3; *cp = b & 0x0F; min = 0x800; }
  else if ((b & 0xF8) == 0xF0) { n = 4; *cp = b & 0x07; min = 0x10000; }
  else return 0;
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    auto c = static_cast<unsigned char>(s[i + k]);
    if ((c & 0xC0) != 0x80) return 0;
    *cp = (*cp << 6) | (c & 0x3F);
  }
  if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF)) return 0;
  return n;
}

void AppendUtf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Go's %#U for the rune at s[i]: "U+0063 'c'".
std::string RuneDescription(std::string_view s, size_t i) {
  uint32_t cp = 0;
  size_t n = DecodeUtf8(s, i, &cp);
  if (n == 0) cp = 0xFFFD, n = 1;
  char buf[32];
  std::snprintf(buf, sizeof(buf), "U+%04X", cp);
  std::string out = buf;
  if (cp >= 0x20 && cp != 0x7F && !(cp >= 0x80 && cp < 0xA0)) {
    out += " '";
    AppendUtf8(cp, out);
    out += "'";
  }
  return out;
}

// Go's %q of one rune: '.'.
std::string QuoteRune(std::string_view s, size_t i) {
  uint32_t cp = 0;
  size_t n = DecodeUtf8(s, i, &cp);
  if (n == 0) return "'\\ufffd'";
  if (cp == '\'') return "'\\''";
  if (cp == '\\') return "'\\\\'";
  if (cp < 0x20 || cp == 0x7F) {
    switch (cp) {
      case '\n': return "'\\n'";
      case '\t': return "'\\t'";
      case '\r': return "'\\r'";
      default: {
        char buf[16];
        std::snprintf(buf, sizeof(buf), "'\\x%02x'", cp);
        return buf;
      }
    }
  }
  return "'" + std::string(s.substr(i, n)) + "'";
}

}  // namespace

bool IsAggregatorToken(TokenType t) { return t >= TokenType::kSum && t <= TokenType::kLimitRatio; }
bool IsKeywordToken(TokenType t) { return t >= TokenType::kBool && t <= TokenType::kMaxOf; }
bool IsOperatorToken(TokenType t) { return t >= TokenType::kAdd && t <= TokenType::kAtan2; }

std::string TokenDescription(const Token& t) {
  switch (t.type) {
    case TokenType::kEOF: return "end of input";
    case TokenType::kError: return std::string(t.text);
    case TokenType::kIdentifier: return "identifier " + GoQuote(t.text);
    case TokenType::kMetricIdentifier: return "metric identifier " + GoQuote(t.text);
    case TokenType::kNumber:
    case TokenType::kDuration:
    case TokenType::kString: {
      std::string kind = t.type == TokenType::kNumber ? "number " : t.type == TokenType::kDuration ? "duration " : "string ";
      if (t.text.size() > 10) {
        // Go's %.10q: the first ten characters, quoted.
        size_t i = 0;
        for (int runes = 0; i < t.text.size() && runes < 10; ++runes) {
          uint32_t cp;
          size_t n = DecodeUtf8(t.text, i, &cp);
          i += n == 0 ? 1 : n;
        }
        return kind + GoQuote(t.text.substr(0, i)) + "...";
      }
      return kind + GoQuote(t.text);
    }
    default: break;
  }
  if (IsOperatorToken(t.type)) return "<op:" + std::string(t.text) + ">";
  if (IsAggregatorToken(t.type)) return "<aggr:" + std::string(t.text) + ">";
  if (IsKeywordToken(t.type)) return "<" + std::string(t.text) + ">";
  return GoQuote(t.text);
}

Token Lexer::Make(TokenType t, size_t start) {
  return Token{t, in_.substr(start, pos_ - start), static_cast<int>(start)};
}

Token Lexer::Error(std::string msg, size_t at) {
  failed_ = true;
  error_ = std::move(msg);
  return Token{TokenType::kError, error_, static_cast<int>(at)};
}

Token Lexer::Next() {
  if (failed_) return Token{TokenType::kEOF, {}, static_cast<int>(in_.size())};
  if (brace_open_) return LexInsideBraces();
  for (;;) {
    while (pos_ < in_.size() && IsSpace(in_[pos_])) ++pos_;
    if (pos_ < in_.size() && in_[pos_] == '#') {
      while (pos_ < in_.size() && in_[pos_] != '\n') ++pos_;
      continue;
    }
    break;
  }
  size_t start = pos_;
  if (pos_ >= in_.size()) {
    if (paren_depth_ > 0) return Error("unclosed left parenthesis", pos_);
    if (bracket_open_) return Error("unclosed left bracket", pos_);
    return Token{TokenType::kEOF, {}, static_cast<int>(pos_)};
  }
  char c = in_[pos_++];
  auto peek = [&]() { return pos_ < in_.size() ? in_[pos_] : '\0'; };
  switch (c) {
    case ',': return Make(TokenType::kComma, start);
    case '*': return Make(TokenType::kMul, start);
    case '/': return Make(TokenType::kDiv, start);
    case '%': return Make(TokenType::kMod, start);
    case '+': return Make(TokenType::kAdd, start);
    case '-': return Make(TokenType::kSub, start);
    case '^': return Make(TokenType::kPow, start);
    case '@': return Make(TokenType::kAt, start);
    case ':':
      if (!bracket_open_) {
        // A metric name may start with ':'.
        --pos_;
        return LexWord(start);
      }
      return Make(TokenType::kColon, start);
    case '=':
      if (peek() == '=') {
        ++pos_;
        return Make(TokenType::kEqlc, start);
      }
      if (peek() == '~') return Error("unexpected character after '=': '~'", start);
      return Make(TokenType::kAssign, start);
    case '!':
      if (peek() == '=') {
        ++pos_;
        return Make(TokenType::kNeq, start);
      }
      if (pos_ >= in_.size()) return Error("unexpected end of input after '!'", start);
      return Error("unexpected character after '!': " + QuoteRune(in_, pos_), start);
    case '<':
      if (peek() == '=') {
        ++pos_;
        return Make(TokenType::kLte, start);
      }
      if (peek() == '/') {
        ++pos_;
        return Make(TokenType::kTrimUpper, start);
      }
      return Make(TokenType::kLss, start);
    case '>':
      if (peek() == '=') {
        ++pos_;
        return Make(TokenType::kGte, start);
      }
      if (peek() == '/') {
        ++pos_;
        return Make(TokenType::kTrimLower, start);
      }
      return Make(TokenType::kGtr, start);
    case '"':
    case '\'':
    case '`':
      return LexString(start);
    case '(':
      ++paren_depth_;
      return Make(TokenType::kLeftParen, start);
    case ')':
      if (paren_depth_ == 0) return Error("unexpected right parenthesis ')'", start);
      --paren_depth_;
      return Make(TokenType::kRightParen, start);
    case '{':
      brace_open_ = true;
      return Make(TokenType::kLeftBrace, start);
    case '}':
      return Error("unexpected right brace '}'", start);
    case '[':
      if (bracket_open_) return Error("unexpected left bracket '['", start);
      bracket_open_ = true;
      return Make(TokenType::kLeftBracket, start);
    case ']':
      if (!bracket_open_) return Error("unexpected right bracket ']'", start);
      bracket_open_ = false;
      return Make(TokenType::kRightBracket, start);
    default:
      break;
  }
  if (IsDigit(c) || (c == '.' && IsDigit(peek()))) {
    --pos_;
    return LexNumberOrDuration(start);
  }
  if (IsAlpha(c)) {
    --pos_;
    return LexWord(start);
  }
  --pos_;
  return Error("unexpected character: " + QuoteRune(in_, pos_), start);
}

Token Lexer::LexInsideBraces() {
  while (pos_ < in_.size() && IsSpace(in_[pos_])) ++pos_;
  size_t start = pos_;
  if (pos_ >= in_.size()) return Error("unexpected end of input inside braces", pos_);
  char c = in_[pos_++];
  auto peek = [&]() { return pos_ < in_.size() ? in_[pos_] : '\0'; };
  switch (c) {
    case ',': return Make(TokenType::kComma, start);
    case '"':
    case '\'':
    case '`':
      return LexString(start);
    case '=':
      if (peek() == '~') {
        ++pos_;
        return Make(TokenType::kEqlRegex, start);
      }
      return Make(TokenType::kAssign, start);
    case '!':
      if (peek() == '~') {
        ++pos_;
        return Make(TokenType::kNeqRegex, start);
      }
      if (peek() == '=') {
        ++pos_;
        return Make(TokenType::kNeq, start);
      }
      if (pos_ >= in_.size()) return Error("unexpected end of input inside braces", pos_);
      return Error("unexpected character after '!' inside braces: " + QuoteRune(in_, pos_), start);
    case '{':
      return Error("unexpected left brace '{'", start);
    case '}':
      brace_open_ = false;
      return Make(TokenType::kRightBrace, start);
    default:
      break;
  }
  if (IsAlpha(c)) {
    while (pos_ < in_.size() && IsAlnum(in_[pos_])) ++pos_;
    return Make(TokenType::kIdentifier, start);
  }
  --pos_;
  return Error("unexpected character inside braces: " + QuoteRune(in_, pos_), start);
}

bool Lexer::ScanNumber() {
  auto accept = [&](std::string_view set) {
    if (pos_ < in_.size() && set.find(in_[pos_]) != std::string_view::npos) {
      ++pos_;
      return true;
    }
    return false;
  };
  auto accept_run = [&](bool hex) {
    while (pos_ < in_.size() && (hex ? IsHex(in_[pos_]) : IsDigit(in_[pos_]))) ++pos_;
  };
  if (accept("0") && accept("xX")) {
    accept_run(true);
  } else {
    accept_run(false);
    if (accept(".")) accept_run(false);
    if (accept("eE")) {
      accept("+-");
      accept_run(false);
    }
  }
  return pos_ >= in_.size() || !(IsAlnum(in_[pos_]) || in_[pos_] == '.');
}

Token Lexer::LexNumberOrDuration(size_t start) {
  if (ScanNumber()) return Make(TokenType::kNumber, start);
  // A duration: digits and units (ms, s, m, h, d, w, y), repeated, then no letter or digit.
  pos_ = start;
  bool any = false;
  for (;;) {
    size_t digits = pos_;
    while (pos_ < in_.size() && IsDigit(in_[pos_])) ++pos_;
    if (pos_ == digits) break;
    if (pos_ + 1 < in_.size() && in_[pos_] == 'm' && in_[pos_ + 1] == 's') {
      pos_ += 2;
    } else if (pos_ < in_.size() && std::string_view("smhdwy").find(in_[pos_]) != std::string_view::npos) {
      ++pos_;
    } else {
      pos_ = digits;
      break;
    }
    any = true;
  }
  if (any && (pos_ >= in_.size() || !IsAlnum(in_[pos_]))) return Make(TokenType::kDuration, start);
  // Take the rest of the word for the message, as far as Prometheus would have read.
  size_t end = pos_;
  while (end < in_.size() && (IsAlnum(in_[end]) || in_[end] == '.')) ++end;
  if (end == pos_ && end < in_.size()) ++end;
  return Error("bad number or duration syntax: " + GoQuote(in_.substr(start, end - start)), start);
}

Token Lexer::LexString(size_t start) {
  char quote = in_[start];
  if (quote == '`') {
    while (pos_ < in_.size() && in_[pos_] != '`') ++pos_;
    if (pos_ >= in_.size()) return Error("unterminated raw string", start);
    ++pos_;
    return Make(TokenType::kString, start);
  }
  while (pos_ < in_.size()) {
    char c = in_[pos_++];
    if (c == quote) return Make(TokenType::kString, start);
    if (c == '\n') return Error("unterminated quoted string", start);
    if (c != '\\') continue;
    if (pos_ >= in_.size()) return Error("escape sequence not terminated", pos_);
    char e = in_[pos_];
    int n = 0;
    int base = 0;
    uint32_t max = 0;
    if (e == quote || e == 'a' || e == 'b' || e == 'f' || e == 'n' || e == 'r' || e == 't' || e == 'v' ||
        e == '\\') {
      ++pos_;
      continue;
    }
    if (e >= '0' && e <= '7') {
      n = 3, base = 8, max = 255;
    } else if (e == 'x') {
      ++pos_, n = 2, base = 16, max = 255;
    } else if (e == 'u') {
      ++pos_, n = 4, base = 16, max = 0x10FFFF;
    } else if (e == 'U') {
      ++pos_, n = 8, base = 16, max = 0x10FFFF;
    } else {
      return Error("unknown escape sequence " + RuneDescription(in_, pos_), pos_);
    }
    uint32_t x = 0;
    for (; n > 0; --n) {
      if (pos_ >= in_.size()) return Error("escape sequence not terminated", pos_);
      char d = in_[pos_];
      int v = base == 8 ? ((d >= '0' && d <= '7') ? d - '0' : -1) : (IsHex(d) ? HexValue(d) : -1);
      if (v < 0) return Error("illegal character " + RuneDescription(in_, pos_) + " in escape sequence", pos_);
      x = x * static_cast<uint32_t>(base) + static_cast<uint32_t>(v);
      ++pos_;
    }
    if (x > max || (base == 16 && max > 255 && x >= 0xD800 && x <= 0xDFFF)) {
      return Error("escape sequence is an invalid Unicode code point", pos_);
    }
  }
  return Error("unterminated quoted string", start);
}

Token Lexer::LexWord(size_t start) {
  while (pos_ < in_.size() && (IsAlnum(in_[pos_]) || in_[pos_] == ':')) ++pos_;
  std::string_view word = in_.substr(start, pos_ - start);
  if (word.find(':') != std::string_view::npos) return Make(TokenType::kMetricIdentifier, start);
  if (word.size() == 3) {
    std::string lower;
    for (char c : word) lower += static_cast<char>((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
    if (lower == "inf" || lower == "nan") return Make(TokenType::kNumber, start);
  }
  return Make(KeywordType(word), start);
}

bool IsLegacyLabelName(std::string_view s) {
  if (s.empty() || !IsAlpha(s[0])) return false;
  for (char c : s) {
    if (!IsAlnum(c)) return false;
  }
  return true;
}

bool IsLegacyMetricName(std::string_view s) {
  if (s.empty() || !(IsAlpha(s[0]) || s[0] == ':')) return false;
  for (char c : s) {
    if (!IsAlnum(c) && c != ':') return false;
  }
  return true;
}

std::string GoQuote(std::string_view s) {
  std::string out = "\"";
  char buf[16];
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = 0;
    size_t n = DecodeUtf8(s, i, &cp);
    if (n == 0) {
      std::snprintf(buf, sizeof(buf), "\\x%02x", static_cast<unsigned char>(s[i]));
      out += buf;
      ++i;
      continue;
    }
    switch (cp) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\a': out += "\\a"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\v': out += "\\v"; break;
      default:
        if (cp < 0x20 || cp == 0x7F) {
          std::snprintf(buf, sizeof(buf), "\\x%02x", cp);
          out += buf;
        } else if ((cp >= 0x80 && cp < 0xA0) || cp == 0xAD || cp == 0x2028 || cp == 0x2029 || cp == 0xFEFF) {
          std::snprintf(buf, sizeof(buf), "\\u%04x", cp);
          out += buf;
        } else {
          out.append(s.substr(i, n));
        }
    }
    i += n;
  }
  out += '"';
  return out;
}

std::string Unquote(std::string_view token) {
  if (token.size() < 2) return {};
  char quote = token[0];
  std::string_view body = token.substr(1, token.size() - 2);
  if (quote == '`') return std::string(body);
  std::string out;
  for (size_t i = 0; i < body.size();) {
    char c = body[i++];
    if (c != '\\' || i >= body.size()) {
      out += c;
      continue;
    }
    char e = body[i++];
    switch (e) {
      case 'a': out += '\a'; continue;
      case 'b': out += '\b'; continue;
      case 'f': out += '\f'; continue;
      case 'n': out += '\n'; continue;
      case 'r': out += '\r'; continue;
      case 't': out += '\t'; continue;
      case 'v': out += '\v'; continue;
      default: break;
    }
    int n = 0;
    int base = 16;
    if (e >= '0' && e <= '7') {
      n = 3, base = 8, --i;
    } else if (e == 'x') {
      n = 2;
    } else if (e == 'u') {
      n = 4;
    } else if (e == 'U') {
      n = 8;
    } else {
      out += e;  // \\, \" or \'
      continue;
    }
    uint32_t x = 0;
    for (; n > 0 && i < body.size(); --n, ++i) x = x * static_cast<uint32_t>(base) + static_cast<uint32_t>(HexValue(body[i]));
    if (e == 'x' || base == 8) {
      out += static_cast<char>(x);  // a byte, as Go's \x and octal escapes
    } else {
      AppendUtf8(x, out);
    }
  }
  return out;
}

}  // namespace tyto::promql
