#include "clickhouse/sql.h"

#include <array>

#include "eventstore/codec.h"
#include "eventstore/text_query.h"

namespace tyto::clickhouse {

namespace {

using eventstore::HexId;
using eventstore::HexValue;

// Lower-case letters with diacritics that unicode61's remove_diacritics folds to an ASCII
// letter, per base letter (Latin-1 Supplement and Latin Extended-A).
struct Folding {
  char base;
  const char* variants;  // UTF-8, lower case
};
constexpr std::array<Folding, 19> kFoldings = {{
    {'a', "àáâãäåāăą"}, {'c', "çćĉċč"},       {'d', "ďđ"},         {'e', "èéêëēĕėęě"}, {'g', "ĝğġģ"},
    {'h', "ĥħ"},        {'i', "ìíîïĩīĭįı"},   {'j', "ĵ"},          {'k', "ķ"},         {'l', "ĺļľŀł"},
    {'n', "ñńņňŉ"},     {'o', "òóôõöøōŏő"},   {'r', "ŕŗř"},        {'s', "śŝşš"},      {'t', "ţťŧ"},
    {'u', "ùúûüũūŭůűų"}, {'w', "ŵ"},           {'y', "ýÿŷ"},        {'z', "źżž"},
}};

// Decodes the UTF-8 code point at s[*i], advancing *i; -1 (and one byte) for a malformed one.
int32_t NextCodePoint(std::string_view s, size_t* i) {
  const auto b0 = static_cast<uint8_t>(s[*i]);
  if (b0 < 0x80) {
    ++*i;
    return b0;
  }
  size_t len = 0;
  int32_t cp = 0;
  if ((b0 & 0xe0) == 0xc0) {
    len = 2;
    cp = b0 & 0x1f;
  } else if ((b0 & 0xf0) == 0xe0) {
    len = 3;
    cp = b0 & 0x0f;
  } else if ((b0 & 0xf8) == 0xf0) {
    len = 4;
    cp = b0 & 0x07;
  } else {
    ++*i;
    return -1;
  }
  if (*i + len > s.size()) {
    ++*i;
    return -1;
  }
  for (size_t k = 1; k < len; ++k) {
    const auto b = static_cast<uint8_t>(s[*i + k]);
    if ((b & 0xc0) != 0x80) {
      ++*i;
      return -1;
    }
    cp = (cp << 6) | (b & 0x3f);
  }
  const bool overlong = (len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
  if (overlong || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
    ++*i;
    return -1;
  }
  *i += len;
  return cp;
}

void AppendUtf8(int32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out->push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

// The lower-case form of a code point, for ASCII, Latin-1 and Latin Extended-A (others as they are).
int32_t Lower(int32_t cp) {
  if (cp >= 'A' && cp <= 'Z') return cp + 32;
  if (cp >= 0xc0 && cp <= 0xde && cp != 0xd7) return cp + 0x20;
  if (cp == 0x178) return 0xff;
  if ((cp >= 0x100 && cp <= 0x137) || (cp >= 0x14a && cp <= 0x177)) return (cp % 2 == 0) ? cp + 1 : cp;
  if ((cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17e)) return (cp % 2 == 1) ? cp + 1 : cp;
  return cp;
}

// The ASCII letter a lower-case code point folds to, or 0.
char BaseLetter(int32_t lower) {
  if (lower >= 'a' && lower <= 'z') return static_cast<char>(lower);
  std::string utf8;
  AppendUtf8(lower, &utf8);
  for (const Folding& f : kFoldings) {
    if (std::string_view(f.variants).find(utf8) != std::string_view::npos) return f.base;
  }
  return 0;
}

bool IsWordCodePoint(int32_t cp) {
  return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || cp >= 0x80;
}

constexpr const char* kNotWord = "[^\\pL\\pN]";

// Reads FTS5 expressions as TranslateSearchText writes them: "quoted" strings ("" for a quote),
// a following " *" for a prefix, AND, OR, NOT and parentheses.
class Fts5Reader {
 public:
  Fts5Reader(std::string_view expr, std::string_view column) : s_(expr), column_(column) {}

  Result<std::string> Parse() {
    TYTO_ASSIGN_OR_RETURN(std::string e, ParseNot());
    SkipSpaces();
    if (i_ != s_.size()) return Error();
    return e;
  }

 private:
  Status Error() const {
    return Internal("search text: unexpected translation at byte " + std::to_string(i_) + ": " + std::string(s_));
  }
  void SkipSpaces() {
    while (i_ < s_.size() && s_[i_] == ' ') ++i_;
  }
  bool Keyword(std::string_view k) {
    SkipSpaces();
    if (s_.substr(i_, k.size()) != k) return false;
    i_ += k.size();
    return true;
  }
  Result<std::string> ParseNot() {
    TYTO_ASSIGN_OR_RETURN(std::string a, ParseAnd());
    if (!Keyword("NOT")) return a;
    TYTO_ASSIGN_OR_RETURN(std::string b, ParseAnd());
    return "(" + a + " AND NOT " + b + ")";
  }
  Result<std::string> ParseAnd() {
    TYTO_ASSIGN_OR_RETURN(std::string a, ParseOr());
    while (Keyword("AND")) {
      TYTO_ASSIGN_OR_RETURN(std::string b, ParseOr());
      a = "(" + a + " AND " + b + ")";
    }
    return a;
  }
  Result<std::string> ParseOr() {
    TYTO_ASSIGN_OR_RETURN(std::string a, ParsePrimary());
    while (Keyword("OR")) {
      TYTO_ASSIGN_OR_RETURN(std::string b, ParsePrimary());
      a = "(" + a + " OR " + b + ")";
    }
    return a;
  }
  Result<std::string> ParsePrimary() {
    if (++depth_ > 8) return Error();
    SkipSpaces();
    if (i_ < s_.size() && s_[i_] == '(') {
      ++i_;
      TYTO_ASSIGN_OR_RETURN(std::string e, ParseNot());
      if (!Keyword(")")) return Error();
      --depth_;
      return e;
    }
    if (i_ >= s_.size() || s_[i_] != '"') return Error();
    std::string term;
    ++i_;
    while (true) {
      if (i_ >= s_.size()) return Error();
      if (s_[i_] == '"') {
        if (i_ + 1 < s_.size() && s_[i_ + 1] == '"') {
          term.push_back('"');
          i_ += 2;
          continue;
        }
        ++i_;
        break;
      }
      term.push_back(s_[i_++]);
    }
    bool prefix = false;
    if (s_.substr(i_, 2) == " *") {
      prefix = true;
      i_ += 2;
    }
    --depth_;
    const std::string re = TermRegex(term, prefix);
    if (re.empty()) return std::string("0");  // no word to find (only malformed UTF-8)
    return "match(lowerUTF8(" + std::string(column_) + "), " + QuoteString(re) + ")";
  }

  std::string_view s_;
  std::string_view column_;
  size_t i_ = 0;
  int depth_ = 0;
};

}  // namespace

std::string QuoteString(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('\'');
  for (char c : s) {
    const auto u = static_cast<uint8_t>(c);
    if (c == '\\' || c == '\'') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20 || u == 0x7f) {
      out += "\\x";
      out += HexId(std::string_view(&c, 1));
    } else {
      out.push_back(c);
    }
  }
  out.push_back('\'');
  return out;
}

Result<std::string> UnquoteString(std::string_view sql, std::string_view* rest) {
  if (sql.empty() || sql[0] != '\'') return InvalidArgument("a string literal must start with a quote");
  std::string out;
  size_t i = 1;
  while (true) {
    if (i >= sql.size()) return InvalidArgument("a string literal is not closed");
    const char c = sql[i];
    if (c == '\'') {
      *rest = sql.substr(i + 1);
      return out;
    }
    if (c != '\\') {
      out.push_back(c);
      ++i;
      continue;
    }
    if (i + 1 >= sql.size()) return InvalidArgument("a string literal ends in a backslash");
    const char e = sql[i + 1];
    if (e == '\\' || e == '\'') {
      out.push_back(e);
      i += 2;
    } else if (e == 'x' && i + 3 < sql.size() && HexValue(sql[i + 2]) >= 0 && HexValue(sql[i + 3]) >= 0) {
      out.push_back(static_cast<char>(HexValue(sql[i + 2]) * 16 + HexValue(sql[i + 3])));
      i += 4;
    } else {
      return InvalidArgument("a string literal has an unknown escape at byte " + std::to_string(i));
    }
  }
}

bool IsPlainIdentifier(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

std::string QuoteIdentifier(std::string_view name) { return "`" + std::string(name) + "`"; }

std::string HexLiteral(std::string_view bytes) {
  return "unhex('" + HexId(bytes) + "')";
}

std::string TermRegex(std::string_view term, bool prefix) {
  std::vector<std::string> words;
  std::string word;
  for (size_t i = 0; i < term.size();) {
    const int32_t cp = NextCodePoint(term, &i);
    if (cp < 0 || !IsWordCodePoint(cp)) {
      if (!word.empty()) words.push_back(std::move(word));
      word.clear();
      continue;
    }
    const int32_t lower = Lower(cp);
    const char base = BaseLetter(lower);
    if (base == 0) {
      AppendUtf8(lower, &word);
      continue;
    }
    const Folding* f = nullptr;
    for (const Folding& x : kFoldings) {
      if (x.base == base) f = &x;
    }
    if (f == nullptr) {
      word.push_back(base);
    } else {
      word += "[";
      word.push_back(base);
      word += f->variants;
      word += "]";
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  if (words.empty()) return std::string();
  std::string re = "(^|";
  re += kNotWord;
  re += ")";
  for (size_t k = 0; k < words.size(); ++k) {
    if (k > 0) {
      re += kNotWord;
      re += "+";
    }
    re += words[k];
  }
  if (!prefix) {
    re += "($|";
    re += kNotWord;
    re += ")";
  }
  return re;
}

Result<std::string> SearchTextCondition(std::string_view column, std::string_view text) {
  TYTO_ASSIGN_OR_RETURN(std::string fts, eventstore::TranslateSearchText(text));
  return Fts5Reader(fts, column).Parse();
}

}  // namespace tyto::clickhouse
