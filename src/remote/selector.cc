#include "remote/selector.h"

#include <algorithm>
#include <cstdio>

#include "promql/lex.h"

namespace tyto::remote {
namespace {

void AppendMatcher(const Matcher& m, std::string* out) {
  static constexpr std::string_view kOps[] = {"=", "!=", "=~", "!~"};
  if (promql::IsLegacyLabelName(m.name())) {
    out->append(m.name());
  } else {
    out->append(promql::GoQuote(m.name()));
  }
  out->append(kOps[static_cast<int>(m.type())]);
  out->append(promql::GoQuote(m.value()));
}

bool IsAsciiAlnum(uint32_t c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

// Decodes the UTF-8 rune at *i into *cp and moves *i past it; false (and *i past one byte) for
// a byte that does not start a valid, shortest-form rune.
bool NextRune(std::string_view s, size_t* i, uint32_t* cp) {
  const auto b0 = static_cast<unsigned char>(s[*i]);
  size_t n = 0;
  uint32_t min = 0;
  if (b0 < 0x80) {
    *cp = b0;
    ++*i;
    return true;
  }
  if ((b0 & 0xE0) == 0xC0) {
    n = 2, *cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    n = 3, *cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    n = 4, *cp = b0 & 0x07, min = 0x10000;
  } else {
    ++*i;
    return false;
  }
  if (*i + n > s.size()) {
    ++*i;
    return false;
  }
  for (size_t k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(s[*i + k]);
    if ((b & 0xC0) != 0x80) {
      ++*i;
      return false;
    }
    *cp = (*cp << 6) | (b & 0x3F);
  }
  if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF)) {
    ++*i;
    return false;
  }
  *i += n;
  return true;
}

}  // namespace

std::string SelectorText(const std::vector<Matcher>& matchers) {
  std::string out = "{";
  for (size_t i = 0; i < matchers.size(); ++i) {
    if (i > 0) out += ',';
    AppendMatcher(matchers[i], &out);
  }
  out += '}';
  return out;
}

std::string RangeQueryText(const std::vector<Matcher>& matchers, int64_t mint, int64_t maxt) {
  // maxt - mint fits in 64 unsigned bits (mint <= maxt) but maybe not in a signed int64.
  const uint64_t diff = static_cast<uint64_t>(maxt) - static_cast<uint64_t>(mint);
  const int64_t range = diff >= static_cast<uint64_t>(kMaxRangeMs) ? kMaxRangeMs : static_cast<int64_t>(diff) + 1;
  return SelectorText(matchers) + "[" + std::to_string(range) + "ms]";
}

std::string FormatSeconds(int64_t ms) {
  const bool negative = ms < 0;
  // Magnitude as unsigned, so INT64_MIN is no overflow.
  const uint64_t m = negative ? 0 - static_cast<uint64_t>(ms) : static_cast<uint64_t>(ms);
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%s%llu.%03llu", negative ? "-" : "", static_cast<unsigned long long>(m / 1000),
                static_cast<unsigned long long>(m % 1000));
  return buf;
}

std::string LabelNamePathSegment(std::string_view name) {
  if (promql::IsLegacyLabelName(name)) return std::string(name);
  std::string out = "U__";
  char buf[16];
  for (size_t i = 0; i < name.size();) {
    const size_t start = i;
    uint32_t cp = 0;
    if (!NextRune(name, &i, &cp)) {
      out += "_FFFD_";  // as Prometheus writes a byte that is not UTF-8
      continue;
    }
    if (cp == '_') {
      out += "__";
    } else if (IsAsciiAlnum(cp) || cp == ':') {
      if (start == 0 && cp >= '0' && cp <= '9') {
        std::snprintf(buf, sizeof(buf), "_%x_", cp);
        out += buf;
      } else {
        out += static_cast<char>(cp);
      }
    } else {
      std::snprintf(buf, sizeof(buf), "_%x_", cp);
      out += buf;
    }
  }
  return out;
}

}  // namespace tyto::remote
