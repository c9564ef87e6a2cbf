// Executing templates: values, the walk over the tree, and the functions templates may call
// (Go's builtins and Prometheus's). Output formats follow Go's fmt and Prometheus's
// template/template.go, so the same template gives the same text in Tyto and in Prometheus.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

#include <re2/re2.h>

#include "common/units.h"
#include "rules/template.h"
#include "rules/template_internal.h"

namespace tyto::rules {
namespace template_internal {
namespace {

using StringMap = std::map<std::string, std::string>;

struct Value;
using ValueList = std::vector<Value>;

// A value during execution: Go's types as templates see them.
struct Value {
  enum class Kind { kNil, kBool, kInt, kFloat, kString, kMap, kList, kSample, kData };
  Kind kind = Kind::kNil;
  bool b = false;
  int64_t i = 0;
  double f = 0;  // kFloat, and a kSample's value
  std::string s;
  std::shared_ptr<const StringMap> map;   // kMap, and a kSample's labels
  std::shared_ptr<const ValueList> list;  // kList

  static Value Bool(bool v) { Value x; x.kind = Kind::kBool; x.b = v; return x; }
  static Value Int(int64_t v) { Value x; x.kind = Kind::kInt; x.i = v; return x; }
  static Value Float(double v) { Value x; x.kind = Kind::kFloat; x.f = v; return x; }
  static Value String(std::string v) { Value x; x.kind = Kind::kString; x.s = std::move(v); return x; }
  static Value Map(std::shared_ptr<const StringMap> m) { Value x; x.kind = Kind::kMap; x.map = std::move(m); return x; }
};

// Go's name for the type, as its error messages print it.
std::string TypeName(const Value& v) {
  switch (v.kind) {
    case Value::Kind::kNil: return "<nil>";
    case Value::Kind::kBool: return "bool";
    case Value::Kind::kInt: return "int";
    case Value::Kind::kFloat: return "float64";
    case Value::Kind::kString: return "string";
    case Value::Kind::kMap: return "map[string]string";
    case Value::Kind::kList: return "[]interface {}";
    case Value::Kind::kSample: return "*template.sample";
    case Value::Kind::kData: return "template.Data";
  }
  return "?";
}

bool Truth(const Value& v) {
  switch (v.kind) {
    case Value::Kind::kNil: return false;
    case Value::Kind::kBool: return v.b;
    case Value::Kind::kInt: return v.i != 0;
    case Value::Kind::kFloat: return v.f != 0;
    case Value::Kind::kString: return !v.s.empty();
    case Value::Kind::kMap: return !v.map->empty();
    case Value::Kind::kList: return !v.list->empty();
    case Value::Kind::kSample:
    case Value::Kind::kData: return true;
  }
  return false;
}

// Go's formatting of NaN and infinities, which C's printf spells differently.
bool NonFinite(double v, std::string* out) {
  if (std::isnan(v)) {
    *out = "NaN";
  } else if (std::isinf(v)) {
    *out = v > 0 ? "+Inf" : "-Inf";
  } else {
    return false;
  }
  return true;
}

// fmt.Sprintf with one float and a C format ("%.4g"); Go's and C's agree for finite values.
std::string FormatFloat(const char* format, double v) {
  std::string out;
  if (NonFinite(v, &out)) return out;
  char buf[128];
  int n = std::snprintf(buf, sizeof buf, format, v);
  if (n <= 0) return std::string();
  if (static_cast<size_t>(n) < sizeof buf) return std::string(buf, static_cast<size_t>(n));
  std::string big(static_cast<size_t>(n) + 1, '\0');
  std::snprintf(big.data(), big.size(), format, v);
  big.resize(static_cast<size_t>(n));
  return big;
}

// Go's %v of a float64: the shortest digits that read back, with an exponent when the decimal
// exponent is below -4 or at least 6 (strconv's 'g' with the shortest precision): 1e+06.
std::string FormatFloatV(double v) {
  std::string out;
  if (NonFinite(v, &out)) return out;
  char buf[64];
  auto sci = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string s(buf, sci.ptr);
  size_t e = s.find('e');
  int exp = std::atoi(s.c_str() + e + 1);
  if (exp < -4 || exp >= 6) return s;
  auto fixed = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  return std::string(buf, fixed.ptr);
}

std::string Print(const Value& v) {
  switch (v.kind) {
    case Value::Kind::kNil: return "<no value>";
    case Value::Kind::kBool: return v.b ? "true" : "false";
    case Value::Kind::kInt: return std::to_string(v.i);
    case Value::Kind::kFloat: return FormatFloatV(v.f);
    case Value::Kind::kString: return v.s;
    case Value::Kind::kMap: {
      std::string out = "map[";
      bool first = true;
      for (const auto& [k, val] : *v.map) {
        if (!first) out += ' ';
        first = false;
        out += k + ":" + val;
      }
      return out + "]";
    }
    case Value::Kind::kList: {
      std::string out = "[";
      for (size_t i = 0; i < v.list->size(); ++i) {
        if (i > 0) out += ' ';
        out += Print((*v.list)[i]);
      }
      return out + "]";
    }
    case Value::Kind::kSample: {
      Value labels = Value::Map(v.map);
      return "{" + Print(labels) + " " + FormatFloatV(v.f) + "}";
    }
    case Value::Kind::kData: return "{...}";
  }
  return "";
}

// Prometheus's convertToFloat: numbers as they are, strings parsed as Go's ParseFloat would.
Result<double> ToFloat(const Value& v) {
  switch (v.kind) {
    case Value::Kind::kFloat: return v.f;
    case Value::Kind::kInt: return static_cast<double>(v.i);
    case Value::Kind::kString: {
      const std::string& s = v.s;
      std::string lower;
      for (char c : s) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string body = lower;
      if (!body.empty() && (body[0] == '+' || body[0] == '-')) body = body.substr(1);
      if (body == "inf" || body == "infinity") {
        return lower[0] == '-' ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
      }
      if (body == "nan") return std::numeric_limits<double>::quiet_NaN();
      bool ok = !body.empty() && body.find_first_not_of("0123456789.e+-_x") == std::string::npos &&
                body.find("0x") == std::string::npos;
      if (ok) {
        char* end = nullptr;
        double d = std::strtod(s.c_str(), &end);
        if (end == s.c_str() + s.size()) return d;
      }
      return InvalidArgument("strconv.ParseFloat: parsing \"" + s + "\": invalid syntax");
    }
    default:
      return InvalidArgument("can't convert " + TypeName(v) + " to float");
  }
}

int64_t ClampToInt64(double v) {
  if (v >= 9.2233720368547758e18) return std::numeric_limits<int64_t>::max();
  if (v <= -9.2233720368547758e18) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(v);
}

// ---- Prometheus's functions (template/template.go) ----

std::string Humanize(double v) {
  if (v == 0 || std::isnan(v) || std::isinf(v)) return FormatFloat("%.4g", v);
  static constexpr const char* kBig[] = {"k", "M", "G", "T", "P", "E", "Z", "Y"};
  static constexpr const char* kSmall[] = {"m", "u", "n", "p", "f", "a", "z", "y"};
  std::string prefix;
  if (std::fabs(v) >= 1) {
    for (const char* p : kBig) {
      if (std::fabs(v) < 1000) break;
      prefix = p;
      v /= 1000;
    }
  } else {
    for (const char* p : kSmall) {
      if (std::fabs(v) >= 1) break;
      prefix = p;
      v *= 1000;
    }
  }
  return FormatFloat("%.4g", v) + prefix;
}

std::string Humanize1024(double v) {
  if (std::fabs(v) <= 1 || std::isnan(v) || std::isinf(v)) return FormatFloat("%.4g", v);
  static constexpr const char* kPrefixes[] = {"ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"};
  std::string prefix;
  for (const char* p : kPrefixes) {
    if (std::fabs(v) < 1024) break;
    prefix = p;
    v /= 1024;
  }
  return FormatFloat("%.4g", v) + prefix;
}

std::string HumanizeDuration(double v) {
  if (std::isnan(v) || std::isinf(v)) return FormatFloat("%.4g", v);
  if (v == 0) return FormatFloat("%.4g", v) + "s";
  if (std::fabs(v) >= 1) {
    std::string sign;
    if (v < 0) {
      sign = "-";
      v = -v;
    }
    int64_t duration = ClampToInt64(v);
    int64_t seconds = duration % 60;
    int64_t minutes = (duration / 60) % 60;
    int64_t hours = (duration / 60 / 60) % 24;
    int64_t days = duration / 60 / 60 / 24;
    auto s = [](int64_t x) { return std::to_string(x); };
    if (days != 0) return sign + s(days) + "d " + s(hours) + "h " + s(minutes) + "m " + s(seconds) + "s";
    if (hours != 0) return sign + s(hours) + "h " + s(minutes) + "m " + s(seconds) + "s";
    if (minutes != 0) return sign + s(minutes) + "m " + s(seconds) + "s";
    return sign + FormatFloat("%.4g", v) + "s";
  }
  static constexpr const char* kSmall[] = {"m", "u", "n", "p", "f", "a", "z", "y"};
  std::string prefix;
  for (const char* p : kSmall) {
    if (std::fabs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return FormatFloat("%.4g", v) + prefix + "s";
}

// Days since 1970-01-01 to a civil date (proleptic Gregorian).
void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2 ? 1 : 0);
}

// Go's time.Time.String() of a UTC time in milliseconds: "2015-06-23 13:19:44.128 +0000 UTC".
Result<std::string> HumanizeTimestamp(double v) {
  if (std::isnan(v) || std::isinf(v)) return FormatFloat("%.4g", v);
  double nanos = v * 1e9;
  if (nanos >= 9.2233720368547758e18 || nanos < -9.2233720368547758e18) {
    return InvalidArgument(FormatFloatV(v) + " cannot be represented as a nanoseconds timestamp since it overflows int64");
  }
  int64_t ms = static_cast<int64_t>(nanos) / 1000000;  // Prometheus keeps milliseconds
  int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
  int64_t frac = ms - secs * 1000;
  int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
  int64_t rem = secs - days * 86400;
  int64_t year = 0;
  unsigned month = 0, day = 0;
  CivilFromDays(days, &year, &month, &day);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u %02lld:%02lld:%02lld", static_cast<long long>(year), month, day,
                static_cast<long long>(rem / 3600), static_cast<long long>(rem / 60 % 60),
                static_cast<long long>(rem % 60));
  std::string out = buf;
  if (frac != 0) {
    std::snprintf(buf, sizeof buf, ".%03lld", static_cast<long long>(frac));
    std::string f = buf;
    while (f.back() == '0') f.pop_back();
    out += f;
  }
  return out + " +0000 UTC";
}

bool IsWordChar(unsigned char c) { return std::isalnum(c) != 0 || c == '_' || c >= 0x80; }

std::string Title(std::string s) {
  bool start = true;
  for (char& c : s) {
    auto u = static_cast<unsigned char>(c);
    if (start && u < 0x80) c = static_cast<char>(std::toupper(u));
    start = !IsWordChar(u);
  }
  return s;
}

// Go's net.SplitHostPort host part, or the input when it has no port.
std::string StripPort(const std::string& s) {
  if (!s.empty() && s[0] == '[') {
    size_t close = s.find(']');
    if (close == std::string::npos || close + 1 >= s.size() || s[close + 1] != ':') return s;
    if (s.find(']', close + 1) != std::string::npos || s.find('[', 1) != std::string::npos) return s;
    return s.substr(1, close - 1);
  }
  size_t colon = s.rfind(':');
  if (colon == std::string::npos) return s;
  std::string host = s.substr(0, colon);
  if (host.find(':') != std::string::npos || host.find_first_of("[]") != std::string::npos) return s;
  if (s.find(']', colon) != std::string::npos) return s;
  return host;
}

Result<std::unique_ptr<RE2>> CompileRegexp(const std::string& pattern) {
  RE2::Options options;
  options.set_log_errors(false);
  auto re = std::make_unique<RE2>(pattern, options);
  if (!re->ok()) return InvalidArgument("error parsing regexp: " + re->error());
  return re;
}

// Go's Regexp.ReplaceAllString: $1, ${1}, $name and ${name} in `repl` expand to submatches.
Result<std::string> ReReplaceAll(const RE2& re, const std::string& repl, const std::string& text) {
  const int groups = re.NumberOfCapturingGroups();
  std::vector<re2::StringPiece> m(static_cast<size_t>(groups) + 1);
  const std::map<std::string, int>& names = re.NamedCapturingGroups();
  auto expand = [&](std::string* out) {
    for (size_t i = 0; i < repl.size(); ++i) {
      if (repl[i] != '$' || i + 1 >= repl.size()) {
        *out += repl[i];
        continue;
      }
      if (repl[i + 1] == '$') {
        *out += '$';
        ++i;
        continue;
      }
      bool braced = repl[i + 1] == '{';
      size_t start = i + (braced ? 2 : 1);
      size_t end = start;
      while (end < repl.size() && IsWordChar(static_cast<unsigned char>(repl[end])) &&
             static_cast<unsigned char>(repl[end]) < 0x80) {
        ++end;
      }
      if (end == start || (braced && (end >= repl.size() || repl[end] != '}'))) {
        *out += '$';
        continue;
      }
      std::string name = repl.substr(start, end - start);
      int index = -1;
      if (name.find_first_not_of("0123456789") == std::string::npos) {
        index = name.size() > 9 ? -1 : std::atoi(name.c_str());
      } else if (auto it = names.find(name); it != names.end()) {
        index = it->second;
      }
      if (index >= 0 && index <= groups && m[static_cast<size_t>(index)].data() != nullptr) {
        out->append(m[static_cast<size_t>(index)].data(), m[static_cast<size_t>(index)].size());
      }
      i = braced ? end : end - 1;
    }
  };
  std::string out;
  size_t last_end = 0;
  size_t search = 0;
  while (search <= text.size()) {
    if (!re.Match(text, search, text.size(), RE2::UNANCHORED, m.data(), groups + 1)) break;
    size_t a0 = static_cast<size_t>(m[0].data() - text.data());
    size_t a1 = a0 + m[0].size();
    out.append(text, last_end, a0 - last_end);
    if (a1 > last_end || a0 == 0) expand(&out);
    last_end = a1;
    size_t width = 1;
    if (search < text.size()) {
      auto c = static_cast<unsigned char>(text[search]);
      width = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
      width = std::min(width, text.size() - search);
    }
    if (search + width > a1) {
      search += width;
    } else if (search + 1 > a1) {
      ++search;
    } else {
      search = a1;
    }
    if (out.size() > Template::kMaxOutputBytes) return ResourceExhausted("reReplaceAll: result too large");
  }
  out.append(text, std::min(last_end, text.size()), std::string::npos);
  return out;
}

// Go's strconv.Quote for %q: escapes quotes, backslashes and control bytes.
std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (u < 0x20 || u == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", u);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

// Go's fmt.Sprintf for the verbs %s %d %f %e %g %v %q %x %%, with flags, width and precision.
std::string Sprintf(const std::string& format, const std::vector<Value>& args) {
  std::string out;
  size_t next_arg = 0;
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%') {
      out += format[i];
      continue;
    }
    size_t start = i++;
    std::string flags;
    while (i < format.size() && std::string_view("-+ 0#").find(format[i]) != std::string_view::npos) flags += format[i++];
    int width = -1, precision = -1;
    while (i < format.size() && std::isdigit(static_cast<unsigned char>(format[i])) && width < 10000) {
      width = (width < 0 ? 0 : width * 10) + (format[i++] - '0');
    }
    if (i < format.size() && format[i] == '.') {
      ++i;
      precision = 0;
      while (i < format.size() && std::isdigit(static_cast<unsigned char>(format[i])) && precision < 10000) {
        precision = precision * 10 + (format[i++] - '0');
      }
    }
    if (i >= format.size()) {
      out += "%!(NOVERB)";
      break;
    }
    char verb = format[i];
    if (verb == '%') {
      out += '%';
      continue;
    }
    if (next_arg >= args.size()) {
      out += std::string("%!") + verb + "(MISSING)";
      continue;
    }
    const Value& v = args[next_arg++];
    auto bad = [&]() { return std::string("%!") + verb + "(" + TypeName(v) + "=" + Print(v) + ")"; };
    std::string s;
    bool numeric = false;
    std::string cflags = flags;
    std::string cformat = "%" + cflags + (width >= 0 ? std::to_string(width) : "") +
                          (precision >= 0 ? "." + std::to_string(precision) : "");
    switch (verb) {
      case 'v':
        s = v.kind == Value::Kind::kFloat && precision >= 0 ? FormatFloat((cformat + "g").c_str(), v.f) : Print(v);
        break;
      case 's':
        if (v.kind == Value::Kind::kString || v.kind == Value::Kind::kMap || v.kind == Value::Kind::kList) {
          s = Print(v);
          if (precision >= 0 && s.size() > static_cast<size_t>(precision)) s.resize(static_cast<size_t>(precision));
        } else {
          s = bad();
        }
        break;
      case 'q':
        s = v.kind == Value::Kind::kString ? Quote(v.s) : bad();
        break;
      case 'd':
        if (v.kind == Value::Kind::kInt) {
          s = std::to_string(v.i);
          numeric = true;
        } else {
          s = bad();
        }
        break;
      case 'x':
      case 'X':
        if (v.kind == Value::Kind::kInt) {
          char buf[32];
          std::snprintf(buf, sizeof buf, verb == 'x' ? "%llx" : "%llX", static_cast<long long>(v.i));
          s = buf;
        } else if (v.kind == Value::Kind::kString) {
          for (char c : v.s) {
            char buf[4];
            std::snprintf(buf, sizeof buf, verb == 'x' ? "%02x" : "%02X", static_cast<unsigned char>(c));
            s += buf;
          }
        } else {
          s = bad();
        }
        break;
      case 'f':
      case 'F':
      case 'e':
      case 'E':
      case 'g':
      case 'G':
        if (v.kind == Value::Kind::kFloat) {
          if (precision < 0 && (verb == 'g' || verb == 'G')) {
            s = FormatFloatV(v.f);
          } else {
            std::string f = "%" + std::string(flags.find('+') != std::string::npos ? "+" : "") +
                            (precision >= 0 ? "." + std::to_string(precision) : "") + verb;
            s = FormatFloat(f.c_str(), v.f);
          }
          numeric = true;
        } else {
          s = bad();
        }
        break;
      default:
        s = std::string("%!") + verb + "(" + TypeName(v) + "=" + Print(v) + ")";
    }
    if (width > 0 && s.size() < static_cast<size_t>(width)) {
      size_t pad = static_cast<size_t>(width) - s.size();
      if (flags.find('-') != std::string::npos) {
        s += std::string(pad, ' ');
      } else if (numeric && flags.find('0') != std::string::npos) {
        size_t sign = !s.empty() && (s[0] == '-' || s[0] == '+') ? 1 : 0;
        s.insert(sign, std::string(pad, '0'));
      } else {
        s.insert(0, std::string(pad, ' '));
      }
    }
    (void)start;
    out += s;
    if (out.size() > Template::kMaxOutputBytes) break;
  }
  if (next_arg < args.size()) {
    out += "%!(EXTRA ";
    for (size_t a = next_arg; a < args.size(); ++a) {
      if (a > next_arg) out += ", ";
      out += TypeName(args[a]) + "=" + Print(args[a]);
    }
    out += ")";
  }
  return out;
}

// Go's eq/lt comparison of basic values; int and float do not compare (as in Go).
Result<int> Compare(const Value& a, const Value& b, bool ordered) {
  auto basic = [](const Value& v) {
    return v.kind == Value::Kind::kBool || v.kind == Value::Kind::kInt || v.kind == Value::Kind::kFloat ||
           v.kind == Value::Kind::kString;
  };
  if (!basic(a) || !basic(b)) {
    // Go's eq: nil equals only nil, and compares with anything without an error.
    if (!ordered && (a.kind == Value::Kind::kNil || b.kind == Value::Kind::kNil)) return a.kind == b.kind ? 0 : 1;
    return InvalidArgument(ordered ? "invalid type for comparison" : "non-comparable type " + TypeName(basic(a) ? b : a));
  }
  if (a.kind != b.kind) return InvalidArgument("incompatible types for comparison");
  switch (a.kind) {
    case Value::Kind::kBool:
      if (ordered) return InvalidArgument("invalid type for comparison");
      return a.b == b.b ? 0 : 1;
    case Value::Kind::kInt: return a.i < b.i ? -1 : a.i > b.i ? 1 : 0;
    case Value::Kind::kFloat:
      if (std::isnan(a.f) || std::isnan(b.f)) return 2;  // unordered: every comparison false
      return a.f < b.f ? -1 : a.f > b.f ? 1 : 0;
    default: return a.s < b.s ? -1 : a.s > b.s ? 1 : 0;
  }
}

constexpr std::string_view kFunctions[] = {
    "and", "or", "not", "eq", "ne", "lt", "le", "gt", "ge", "len", "index", "print", "printf", "println",
    "urlquery", "humanize", "humanize1024", "humanizeDuration", "humanizePercentage", "humanizeTimestamp",
    "title", "toUpper", "toLower", "reReplaceAll", "match", "stripPort", "safeHtml", "first", "label",
    "value", "query", "parseDuration", "strvalue"};

enum class Flow { kNormal, kBreak, kContinue };

class Executor {
 public:
  Executor(const std::string& text, const TemplateData& data) : text_(text), data_(data) {
    Value root;
    root.kind = Value::Kind::kData;
    labels_ = Value::Map(std::make_shared<const StringMap>(data.labels));
    external_labels_ = Value::Map(std::make_shared<const StringMap>(data.external_labels));
    vars_ = {{"$", root},
             {"$labels", labels_},
             {"$externalLabels", external_labels_},
             {"$externalURL", Value::String(data.external_url)},
             {"$value", Value::Float(data.value)}};
  }

  Result<Flow> Walk(const Node& n, const Value& dot) {
    switch (n.kind) {
      case Node::Kind::kList: return WalkList(n.list, dot);
      case Node::Kind::kText: return Write(n.pos, n.text);
      case Node::Kind::kBreak: return Flow::kBreak;
      case Node::Kind::kContinue: return Flow::kContinue;
      case Node::Kind::kAction: {
        TYTO_ASSIGN_OR_RETURN(Value v, EvalPipeline(*n.pipeline, dot, true));
        if (!n.pipeline->decl.empty()) return Flow::kNormal;
        return Write(n.pos, Print(v));
      }
      case Node::Kind::kIf:
      case Node::Kind::kWith: {
        size_t mark = vars_.size();
        TYTO_ASSIGN_OR_RETURN(Value v, EvalPipeline(*n.pipeline, dot, true));
        Result<Flow> flow = Flow::kNormal;
        if (Truth(v)) {
          flow = WalkList(n.list, n.kind == Node::Kind::kWith ? v : dot);
        } else {
          flow = WalkList(n.else_list, dot);
        }
        vars_.resize(mark);
        return flow;
      }
      case Node::Kind::kRange: return WalkRange(n, dot);
    }
    return Flow::kNormal;
  }

  std::string TakeOutput() { return std::move(out_); }

 private:
  Status Error(size_t pos, std::string_view what) const {
    return InvalidArgument("template: " + LineColumn(text_, pos) + ": " + std::string(what));
  }

  Result<Flow> Write(size_t pos, const std::string& s) {
    if (out_.size() + s.size() > Template::kMaxOutputBytes) {
      return Status(StatusCode::kResourceExhausted,
                    "template: " + LineColumn(text_, pos) + ": output is larger than " +
                        std::to_string(Template::kMaxOutputBytes) + " bytes");
    }
    out_ += s;
    return Flow::kNormal;
  }

  Result<Flow> WalkList(const std::vector<Node>& list, const Value& dot) {
    size_t mark = vars_.size();
    for (const Node& child : list) {
      Result<Flow> flow = Walk(child, dot);
      if (!flow.ok() || *flow != Flow::kNormal) {
        vars_.resize(mark);
        return flow;
      }
    }
    vars_.resize(mark);
    return Flow::kNormal;
  }

  Result<Flow> WalkRange(const Node& n, const Value& dot) {
    size_t mark = vars_.size();
    const Pipeline& pipe = *n.pipeline;
    Pipeline bare = pipe;
    bare.decl.clear();
    TYTO_ASSIGN_OR_RETURN(Value v, EvalPipeline(bare, dot, true));
    std::vector<std::pair<Value, Value>> items;  // key, element
    if (v.kind == Value::Kind::kMap) {
      for (const auto& [k, val] : *v.map) items.emplace_back(Value::String(k), Value::String(val));
    } else if (v.kind == Value::Kind::kList) {
      for (size_t i = 0; i < v.list->size(); ++i) items.emplace_back(Value::Int(static_cast<int64_t>(i)), (*v.list)[i]);
    } else if (v.kind == Value::Kind::kInt) {
      if (v.i > static_cast<int64_t>(Template::kMaxRangeIterations)) {
        return Error(n.pos, "range over " + std::to_string(v.i) + " is too long");
      }
      for (int64_t i = 0; i < v.i; ++i) items.emplace_back(Value::Int(i), Value::Int(i));
    } else if (v.kind != Value::Kind::kNil) {
      return Error(n.pos, "range can't iterate over " + Print(v));
    }
    if (items.empty()) {
      Result<Flow> flow = WalkList(n.else_list, dot);
      if (!flow.ok()) return flow;
      return Flow::kNormal;
    }
    for (const auto& [key, element] : items) {
      if (++range_iterations_ > Template::kMaxRangeIterations) {
        return Error(n.pos, "range ran more than " + std::to_string(Template::kMaxRangeIterations) + " iterations");
      }
      vars_.resize(mark);
      if (pipe.decl.size() == 1) vars_.emplace_back(pipe.decl[0], element);
      if (pipe.decl.size() == 2) {
        vars_.emplace_back(pipe.decl[0], key);
        vars_.emplace_back(pipe.decl[1], element);
      }
      TYTO_ASSIGN_OR_RETURN(Flow flow, WalkList(n.list, element));
      if (flow == Flow::kBreak) break;
    }
    vars_.resize(mark);
    return Flow::kNormal;
  }

  Result<Value> EvalPipeline(const Pipeline& pipe, const Value& dot, bool /*top*/) {
    Value v;
    bool have = false;
    for (const Command& cmd : pipe.commands) {
      TYTO_ASSIGN_OR_RETURN(v, EvalCommand(cmd, dot, have ? &v : nullptr));
      have = true;
    }
    for (const std::string& name : pipe.decl) {
      if (pipe.assign) {
        bool found = false;
        for (auto it = vars_.rbegin(); it != vars_.rend(); ++it) {
          if (it->first == name) {
            it->second = v;
            found = true;
            break;
          }
        }
        if (!found) return Error(pipe.pos, "undefined variable: " + name);
      } else {
        vars_.emplace_back(name, v);
      }
    }
    return v;
  }

  Result<Value> Field(const Value& v, const std::string& name, size_t pos) {
    switch (v.kind) {
      case Value::Kind::kData:
        if (name == "Labels") return labels_;
        if (name == "ExternalLabels") return external_labels_;
        if (name == "ExternalURL") return Value::String(data_.external_url);
        if (name == "Value") return Value::Float(data_.value);
        break;
      case Value::Kind::kMap: {
        auto it = v.map->find(name);
        return Value::String(it == v.map->end() ? "" : it->second);  // missingkey=zero
      }
      case Value::Kind::kSample:
        if (name == "Labels") return Value::Map(v.map);
        if (name == "Value") return Value::Float(v.f);
        break;
      default:
        break;
    }
    return Error(pos, "can't evaluate field " + name + " in type " + TypeName(v));
  }

  Result<Value> EvalArg(const Arg& arg, const Value& dot) {
    Value v;
    switch (arg.kind) {
      case Arg::Kind::kDot: v = dot; break;
      case Arg::Kind::kVariable: {
        bool found = false;
        for (auto it = vars_.rbegin(); it != vars_.rend(); ++it) {
          if (it->first == arg.name) {
            v = it->second;
            found = true;
            break;
          }
        }
        if (!found) return Error(arg.pos, "undefined variable: " + arg.name);
        break;
      }
      case Arg::Kind::kString: v = Value::String(arg.name); break;
      case Arg::Kind::kInt: v = Value::Int(arg.int_value); break;
      case Arg::Kind::kFloat: v = Value::Float(arg.float_value); break;
      case Arg::Kind::kBool: v = Value::Bool(arg.bool_value); break;
      case Arg::Kind::kNil: break;
      case Arg::Kind::kPipeline: {
        TYTO_ASSIGN_OR_RETURN(v, EvalPipeline(*arg.pipeline, dot, false));
        break;
      }
      case Arg::Kind::kFunction: {
        Command call;
        call.pos = arg.pos;
        call.args.push_back(arg);
        TYTO_ASSIGN_OR_RETURN(v, CallFunction(call, dot, nullptr));
        break;
      }
    }
    for (const std::string& f : arg.fields) {
      TYTO_ASSIGN_OR_RETURN(v, Field(v, f, arg.pos));
    }
    return v;
  }

  Result<Value> EvalCommand(const Command& cmd, const Value& dot, const Value* final_value) {
    const Arg& first = cmd.args[0];
    if (first.kind == Arg::Kind::kFunction && first.fields.empty()) return CallFunction(cmd, dot, final_value);
    if (cmd.args.size() > 1 || final_value != nullptr) {
      return Error(cmd.pos, "can't give argument to non-function");
    }
    return EvalArg(first, dot);
  }

  // Every function's result is bounded like the output, so a template cannot grow a value
  // without end (say, by doubling a variable with printf in a range).
  Result<Value> CallFunction(const Command& cmd, const Value& dot, const Value* final_value) {
    TYTO_ASSIGN_OR_RETURN(Value v, CallFunctionUnbounded(cmd, dot, final_value));
    if (v.kind == Value::Kind::kString && v.s.size() > Template::kMaxOutputBytes) {
      return Status(StatusCode::kResourceExhausted,
                    "template: " + LineColumn(text_, cmd.args[0].pos) + ": result of " + cmd.args[0].name +
                        " is larger than " + std::to_string(Template::kMaxOutputBytes) + " bytes");
    }
    return v;
  }

  // The regular expressions of match and reReplaceAll, compiled once per execution.
  Result<const RE2*> Regexp(const std::string& pattern) {
    auto it = regexps_.find(pattern);
    if (it != regexps_.end()) return it->second.get();
    TYTO_ASSIGN_OR_RETURN(std::unique_ptr<RE2> re, CompileRegexp(pattern));
    if (regexps_.size() >= 64) regexps_.clear();
    const RE2* raw = re.get();
    regexps_.emplace(pattern, std::move(re));
    return raw;
  }

  Result<Value> CallFunctionUnbounded(const Command& cmd, const Value& dot, const Value* final_value) {
    const std::string& name = cmd.args[0].name;
    size_t pos = cmd.args[0].pos;
    auto fail = [&](const Status& s) { return Error(pos, "error calling " + name + ": " + s.message()); };
    // and/or evaluate their arguments lazily and return the deciding one, as Go does.
    if (name == "and" || name == "or") {
      size_t n = cmd.args.size() - 1 + (final_value ? 1 : 0);
      if (n < 1) return Error(pos, "wrong number of args for " + name + ": want at least 1 got 0");
      Value v;
      for (size_t i = 1; i <= n; ++i) {
        if (i < cmd.args.size()) {
          TYTO_ASSIGN_OR_RETURN(v, EvalArg(cmd.args[i], dot));
        } else {
          v = *final_value;
        }
        if (Truth(v) == (name == "or")) return v;
      }
      return v;
    }
    std::vector<Value> args;
    for (size_t i = 1; i < cmd.args.size(); ++i) {
      TYTO_ASSIGN_OR_RETURN(Value v, EvalArg(cmd.args[i], dot));
      args.push_back(std::move(v));
    }
    if (final_value) args.push_back(*final_value);
    auto want = [&](size_t n) -> Status {
      if (args.size() == n) return Status::Ok();
      return Error(pos, "wrong number of args for " + name + ": want " + std::to_string(n) + " got " +
                            std::to_string(args.size()));
    };
    auto string_arg = [&](size_t i) -> Result<std::string> {
      if (args[i].kind != Value::Kind::kString) {
        return Error(pos, "error calling " + name + ": wrong type for value; expected string; got " + TypeName(args[i]));
      }
      return args[i].s;
    };

    if (name == "not") {
      TYTO_RETURN_IF_ERROR(want(1));
      return Value::Bool(!Truth(args[0]));
    }
    if (name == "eq" || name == "ne") {
      if (args.size() < 2) return Error(pos, "missing argument for comparison");
      bool equal = false;
      for (size_t i = 1; i < args.size() && !equal; ++i) {
        Result<int> c = Compare(args[0], args[i], false);
        if (!c.ok()) return fail(c.status());
        equal = *c == 0;
        if (name == "ne") break;
      }
      if (name == "ne") TYTO_RETURN_IF_ERROR(want(2));
      return Value::Bool(name == "eq" ? equal : !equal);
    }
    if (name == "lt" || name == "le" || name == "gt" || name == "ge") {
      TYTO_RETURN_IF_ERROR(want(2));
      Result<int> c = Compare(args[0], args[1], true);
      if (!c.ok()) return fail(c.status());
      if (*c == 2) return Value::Bool(false);
      if (name == "lt") return Value::Bool(*c < 0);
      if (name == "le") return Value::Bool(*c <= 0);
      if (name == "gt") return Value::Bool(*c > 0);
      return Value::Bool(*c >= 0);
    }
    if (name == "len") {
      TYTO_RETURN_IF_ERROR(want(1));
      const Value& v = args[0];
      if (v.kind == Value::Kind::kString) return Value::Int(static_cast<int64_t>(v.s.size()));
      if (v.kind == Value::Kind::kMap) return Value::Int(static_cast<int64_t>(v.map->size()));
      if (v.kind == Value::Kind::kList) return Value::Int(static_cast<int64_t>(v.list->size()));
      return fail(InvalidArgument("len of type " + TypeName(v)));
    }
    if (name == "index") {
      if (args.empty()) return Error(pos, "wrong number of args for index: want at least 1 got 0");
      Value v = args[0];
      for (size_t i = 1; i < args.size(); ++i) {
        const Value& key = args[i];
        if (v.kind == Value::Kind::kMap && key.kind == Value::Kind::kString) {
          auto it = v.map->find(key.s);
          v = Value::String(it == v.map->end() ? "" : it->second);
        } else if (v.kind == Value::Kind::kList && key.kind == Value::Kind::kInt) {
          if (key.i < 0 || static_cast<size_t>(key.i) >= v.list->size()) {
            return fail(InvalidArgument("index out of range: " + std::to_string(key.i)));
          }
          Value element = (*v.list)[static_cast<size_t>(key.i)];
          v = element;
        } else {
          return fail(InvalidArgument("can't index item of type " + TypeName(v) + " with " + TypeName(key)));
        }
      }
      return v;
    }
    if (name == "print" || name == "println") {
      std::string out;
      for (size_t i = 0; i < args.size(); ++i) {
        bool space = name == "println" ||
                     (i > 0 && args[i].kind != Value::Kind::kString && args[i - 1].kind != Value::Kind::kString);
        if (i > 0 && space) out += ' ';
        out += Print(args[i]);
      }
      if (name == "println") out += '\n';
      return Value::String(std::move(out));
    }
    if (name == "printf") {
      if (args.empty()) return Error(pos, "wrong number of args for printf: want at least 1 got 0");
      TYTO_ASSIGN_OR_RETURN(std::string format, string_arg(0));
      return Value::String(Sprintf(format, std::vector<Value>(args.begin() + 1, args.end())));
    }
    if (name == "urlquery") {
      std::string in;
      for (const Value& v : args) in += Print(v);
      std::string out;
      for (char c : in) {
        auto u = static_cast<unsigned char>(c);
        if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~') {
          out += c;
        } else if (c == ' ') {
          out += '+';
        } else {
          char buf[4];
          std::snprintf(buf, sizeof buf, "%%%02X", u);
          out += buf;
        }
      }
      return Value::String(std::move(out));
    }
    if (name == "humanize" || name == "humanize1024" || name == "humanizeDuration" ||
        name == "humanizePercentage" || name == "humanizeTimestamp") {
      TYTO_RETURN_IF_ERROR(want(1));
      Result<double> f = ToFloat(args[0]);
      if (!f.ok()) return fail(f.status());
      if (name == "humanize") return Value::String(Humanize(*f));
      if (name == "humanize1024") return Value::String(Humanize1024(*f));
      if (name == "humanizeDuration") return Value::String(HumanizeDuration(*f));
      if (name == "humanizePercentage") return Value::String(FormatFloat("%.4g", *f * 100) + "%");
      Result<std::string> t = HumanizeTimestamp(*f);
      if (!t.ok()) return fail(t.status());
      return Value::String(std::move(*t));
    }
    if (name == "title" || name == "toUpper" || name == "toLower" || name == "safeHtml" || name == "stripPort") {
      TYTO_RETURN_IF_ERROR(want(1));
      TYTO_ASSIGN_OR_RETURN(std::string s, string_arg(0));
      if (name == "title") return Value::String(Title(std::move(s)));
      if (name == "stripPort") return Value::String(StripPort(s));
      if (name == "toUpper" || name == "toLower") {
        for (char& c : s) {
          auto u = static_cast<unsigned char>(c);
          c = static_cast<char>(name == "toUpper" ? std::toupper(u) : std::tolower(u));
        }
      }
      return Value::String(std::move(s));
    }
    if (name == "match") {
      TYTO_RETURN_IF_ERROR(want(2));
      TYTO_ASSIGN_OR_RETURN(std::string pattern, string_arg(0));
      TYTO_ASSIGN_OR_RETURN(std::string s, string_arg(1));
      Result<const RE2*> re = Regexp(pattern);
      if (!re.ok()) return fail(re.status());
      return Value::Bool(RE2::PartialMatch(s, **re));
    }
    if (name == "reReplaceAll") {
      TYTO_RETURN_IF_ERROR(want(3));
      TYTO_ASSIGN_OR_RETURN(std::string pattern, string_arg(0));
      TYTO_ASSIGN_OR_RETURN(std::string repl, string_arg(1));
      TYTO_ASSIGN_OR_RETURN(std::string s, string_arg(2));
      Result<const RE2*> re = Regexp(pattern);
      if (!re.ok()) return fail(re.status());
      Result<std::string> out = ReReplaceAll(**re, repl, s);
      if (!out.ok()) return fail(out.status());
      return Value::String(std::move(*out));
    }
    if (name == "parseDuration") {
      TYTO_RETURN_IF_ERROR(want(1));
      TYTO_ASSIGN_OR_RETURN(std::string s, string_arg(0));
      Result<std::chrono::milliseconds> d = ParseDuration(s);
      if (!d.ok()) return fail(d.status());
      return Value::Float(static_cast<double>(d->count()) / 1000.0);
    }
    if (name == "query") {
      TYTO_RETURN_IF_ERROR(want(1));
      TYTO_ASSIGN_OR_RETURN(std::string q, string_arg(0));
      if (!data_.query) return fail(Status(StatusCode::kUnimplemented, "query is not supported yet"));
      Result<std::vector<TemplateSample>> samples = data_.query(q);
      if (!samples.ok()) return fail(samples.status());
      auto list = std::make_shared<ValueList>();
      for (const TemplateSample& s : *samples) {
        Value v;
        v.kind = Value::Kind::kSample;
        v.map = std::make_shared<const StringMap>(s.labels);
        v.f = s.value;
        list->push_back(std::move(v));
      }
      Value out;
      out.kind = Value::Kind::kList;
      out.list = std::move(list);
      return out;
    }
    if (name == "first") {
      TYTO_RETURN_IF_ERROR(want(1));
      if (args[0].kind != Value::Kind::kList) return fail(InvalidArgument("first of type " + TypeName(args[0])));
      if (args[0].list->empty()) return fail(InvalidArgument("first() called on vector with no elements"));
      Value element = args[0].list->front();
      return element;
    }
    if (name == "label" || name == "value" || name == "strvalue") {
      TYTO_RETURN_IF_ERROR(want(name == "label" ? 2 : 1));
      const Value& s = args.back();
      if (s.kind != Value::Kind::kSample) return fail(InvalidArgument("wrong type for value; expected sample; got " + TypeName(s)));
      if (name == "value") return Value::Float(s.f);
      if (name == "strvalue") {
        auto it = s.map->find("__value__");
        return Value::String(it == s.map->end() ? "" : it->second);
      }
      TYTO_ASSIGN_OR_RETURN(std::string label, string_arg(0));
      auto it = s.map->find(label);
      return Value::String(it == s.map->end() ? "" : it->second);
    }
    return Error(pos, "function \"" + name + "\" not defined");
  }

  const std::string& text_;
  const TemplateData& data_;
  Value labels_;
  Value external_labels_;
  std::vector<std::pair<std::string, Value>> vars_;
  std::string out_;
  size_t range_iterations_ = 0;
  std::map<std::string, std::unique_ptr<RE2>> regexps_;
};

}  // namespace

bool IsFunction(std::string_view name) {
  return std::find(std::begin(kFunctions), std::end(kFunctions), name) != std::end(kFunctions);
}

}  // namespace template_internal

Result<std::string> Template::Execute(const TemplateData& data) const {
  if (!root_) return std::string();
  template_internal::Executor exec(*text_, data);
  template_internal::Value dot;
  dot.kind = template_internal::Value::Kind::kData;
  Result<template_internal::Flow> flow = exec.Walk(*root_, dot);
  if (!flow.ok()) return flow.status();
  return exec.TakeOutput();
}

}  // namespace tyto::rules
