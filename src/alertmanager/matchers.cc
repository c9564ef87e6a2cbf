#include "alertmanager/matchers.h"

#include <re2/re2.h>

#include <tuple>

namespace tyto::alertmanager {
namespace {

std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default: out += c;  // other bytes as they are, so the parser reads the text back
    }
  }
  out += '"';
  return out;
}

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == ':' || c == '.';
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// A cursor over matcher text; `pos` is 0-based, errors report it 1-based.
struct Lexer {
  std::string_view text;
  size_t pos = 0;

  void SkipSpace() {
    while (pos < text.size() && IsSpace(text[pos])) ++pos;
  }
  bool AtEnd() const { return pos >= text.size(); }
  Status Error(const std::string& what) const {
    return InvalidArgument("column " + std::to_string(pos + 1) + ": " + what);
  }
  std::string Near() const {
    if (AtEnd()) return "end of input";
    return "'" + std::string(text.substr(pos, 1)) + "'";
  }

  Result<std::string> Quoted() {
    ++pos;  // the opening quote
    std::string out;
    while (true) {
      if (AtEnd()) return Error("unterminated quoted string");
      char c = text[pos++];
      if (c == '"') return out;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (AtEnd()) return Error("unterminated quoted string");
      char e = text[pos++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        default:
          --pos;
          return Error("unknown escape '\\" + std::string(1, e) + "' in quoted string");
      }
    }
  }

  Result<std::string> Name() {
    SkipSpace();
    if (!AtEnd() && text[pos] == '"') {
      size_t start = pos;
      TYTO_ASSIGN_OR_RETURN(std::string name, Quoted());
      if (name.empty()) {
        pos = start;
        return Error("empty label name");
      }
      return name;
    }
    size_t start = pos;
    while (!AtEnd() && IsNameChar(text[pos])) ++pos;
    if (pos == start) return Error("expected a label name, got " + Near());
    return std::string(text.substr(start, pos - start));
  }

  Result<MatchType> Op() {
    SkipSpace();
    auto rest = text.substr(pos);
    if (rest.starts_with("=~")) { pos += 2; return MatchType::kRegexMatch; }
    if (rest.starts_with("!~")) { pos += 2; return MatchType::kRegexNoMatch; }
    if (rest.starts_with("!=")) { pos += 2; return MatchType::kNotEqual; }
    if (rest.starts_with("=")) { pos += 1; return MatchType::kEqual; }
    return Error("expected an operator (=, !=, =~, !~), got " + Near());
  }

  Result<std::string> Value() {
    SkipSpace();
    if (!AtEnd() && text[pos] == '"') return Quoted();
    size_t start = pos;
    while (!AtEnd() && text[pos] != ',' && text[pos] != '}' && text[pos] != '{' && text[pos] != '"') ++pos;
    std::string_view v = text.substr(start, pos - start);
    while (!v.empty() && IsSpace(v.back())) v.remove_suffix(1);
    return std::string(v);
  }

  Result<Matcher> One() {
    size_t start_name = pos;
    TYTO_ASSIGN_OR_RETURN(std::string name, Name());
    TYTO_ASSIGN_OR_RETURN(MatchType type, Op());
    SkipSpace();
    size_t value_pos = pos;
    TYTO_ASSIGN_OR_RETURN(std::string value, Value());
    auto m = Matcher::Make(type, std::move(name), std::move(value));
    if (!m.ok()) {
      pos = (type == MatchType::kRegexMatch || type == MatchType::kRegexNoMatch) ? value_pos : start_name;
      return Error(m.status().message());
    }
    return m;
  }
};

}  // namespace

std::string_view MatchTypeString(MatchType type) {
  switch (type) {
    case MatchType::kEqual: return "=";
    case MatchType::kNotEqual: return "!=";
    case MatchType::kRegexMatch: return "=~";
    case MatchType::kRegexNoMatch: return "!~";
  }
  return "?";
}

Result<Matcher> Matcher::Make(MatchType type, std::string name, std::string value) {
  if (name.empty()) return InvalidArgument("empty label name in matcher");
  Matcher m;
  m.type_ = type;
  m.name_ = std::move(name);
  m.value_ = std::move(value);
  if (type == MatchType::kRegexMatch || type == MatchType::kRegexNoMatch) {
    RE2::Options options;
    options.set_log_errors(false);
    // As Alertmanager (Go's regexp, without (?s)): '.' does not match a newline.
    auto re = std::make_shared<const RE2>("^(?:" + m.value_ + ")$", options);
    if (!re->ok()) {
      // The unanchored pattern's error quotes what the user wrote, not our wrapping.
      RE2 raw(m.value_, options);
      return InvalidArgument("invalid regular expression \"" + m.value_ +
                             "\": " + (raw.ok() ? re->error() : raw.error()));
    }
    m.regex_ = std::move(re);
  }
  return m;
}

bool Matcher::MatchesValue(std::string_view v) const {
  switch (type_) {
    case MatchType::kEqual: return v == value_;
    case MatchType::kNotEqual: return v != value_;
    case MatchType::kRegexMatch: return RE2::FullMatch(v, *regex_);
    case MatchType::kRegexNoMatch: return !RE2::FullMatch(v, *regex_);
  }
  return false;
}

bool Matcher::Matches(const LabelSet& labels) const {
  auto it = labels.find(name_);
  return MatchesValue(it == labels.end() ? std::string_view() : std::string_view(it->second));
}

std::string Matcher::ToString() const {
  bool plain = !name_.empty();
  for (char c : name_) plain = plain && IsNameChar(c) && c != '.';
  return (plain ? name_ : Quote(name_)) + std::string(MatchTypeString(type_)) + Quote(value_);
}

bool operator<(const Matcher& a, const Matcher& b) {
  return std::tie(a.name_, a.value_, a.type_) < std::tie(b.name_, b.value_, b.type_);
}

bool MatchesAll(const Matchers& matchers, const LabelSet& labels) {
  for (const auto& m : matchers) {
    if (!m.Matches(labels)) return false;
  }
  return true;
}

std::string MatchersToString(const Matchers& matchers) {
  std::string out = "{";
  for (size_t i = 0; i < matchers.size(); ++i) {
    if (i > 0) out += ',';
    out += matchers[i].ToString();
  }
  return out + "}";
}

Result<Matcher> ParseMatcher(std::string_view text) {
  Lexer lex{text};
  TYTO_ASSIGN_OR_RETURN(Matcher m, lex.One());
  lex.SkipSpace();
  if (!lex.AtEnd()) return lex.Error("unexpected " + lex.Near() + " after the matcher");
  return m;
}

Result<Matchers> ParseMatchers(std::string_view text) {
  Lexer lex{text};
  lex.SkipSpace();
  bool braces = !lex.AtEnd() && text[lex.pos] == '{';
  if (braces) ++lex.pos;
  Matchers out;
  while (true) {
    lex.SkipSpace();
    if (lex.AtEnd()) {
      if (braces) return lex.Error("missing closing '}'");
      break;
    }
    if (braces && text[lex.pos] == '}') {
      ++lex.pos;
      lex.SkipSpace();
      if (!lex.AtEnd()) return lex.Error("unexpected " + lex.Near() + " after '}'");
      break;
    }
    TYTO_ASSIGN_OR_RETURN(Matcher m, lex.One());
    out.push_back(std::move(m));
    lex.SkipSpace();
    if (lex.AtEnd() || text[lex.pos] == '}') continue;
    if (text[lex.pos] != ',') return lex.Error("expected ',' or the end, got " + lex.Near());
    ++lex.pos;
  }
  return out;
}

LabelSet ToLabelSet(const Labels& labels) {
  LabelSet out;
  for (const Label& l : labels) out.emplace(l.name, l.value);
  return out;
}

std::string LabelSetToString(const LabelSet& labels) {
  std::string out = "{";
  bool first = true;
  for (const auto& [name, value] : labels) {
    if (!first) out += ", ";
    first = false;
    out += name + "=" + Quote(value);
  }
  return out + "}";
}

}  // namespace tyto::alertmanager
