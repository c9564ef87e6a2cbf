#include "common/units.h"

#include <array>
#include <cstdio>
#include <ctime>
#include <limits>

namespace tyto {
namespace {

struct Unit {
  std::string_view name;
  int64_t millis;
};
// Descending order, as the syntax requires.
constexpr std::array<Unit, 7> kDurationUnits = {{
    {"y", 365LL * 24 * 3600 * 1000},
    {"w", 7LL * 24 * 3600 * 1000},
    {"d", 24LL * 3600 * 1000},
    {"h", 3600LL * 1000},
    {"m", 60LL * 1000},
    {"s", 1000},
    {"ms", 1},
}};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

Status BadDuration(std::string_view text, std::string_view why) {
  return InvalidArgument("invalid duration '" + std::string(text) + "': " + std::string(why) +
                         " (expected e.g. 30s, 5m, 1h30m, 2d, 500ms)");
}

}  // namespace

Result<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  if (text.empty()) return BadDuration(text, "empty");
  if (text == "0") return std::chrono::milliseconds(0);
  int64_t total = 0;
  size_t next_unit = 0;  // index into kDurationUnits of the smallest unit still allowed
  size_t i = 0;
  while (i < text.size()) {
    if (!IsDigit(text[i])) return BadDuration(text, "expected a number at position " + std::to_string(i + 1));
    int64_t n = 0;
    while (i < text.size() && IsDigit(text[i])) {
      int64_t digit = text[i] - '0';
      if (n > (std::numeric_limits<int64_t>::max() - digit) / 10) return BadDuration(text, "too large");
      n = n * 10 + digit;
      ++i;
    }
    size_t start = i;
    while (i < text.size() && !IsDigit(text[i])) ++i;
    std::string_view unit = text.substr(start, i - start);
    if (unit.empty()) return BadDuration(text, "missing unit");
    size_t u = next_unit;
    while (u < kDurationUnits.size() && kDurationUnits[u].name != unit) ++u;
    if (u == kDurationUnits.size()) {
      for (const Unit& known : kDurationUnits) {
        if (known.name == unit) return BadDuration(text, "units must go from largest to smallest, each once");
      }
      return BadDuration(text, "unknown unit '" + std::string(unit) + "'");
    }
    next_unit = u + 1;
    if (n > std::numeric_limits<int64_t>::max() / kDurationUnits[u].millis ||
        total > std::numeric_limits<int64_t>::max() - n * kDurationUnits[u].millis) {
      return BadDuration(text, "too large");
    }
    total += n * kDurationUnits[u].millis;
  }
  return std::chrono::milliseconds(total);
}

std::string FormatDuration(std::chrono::milliseconds d) {
  int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  for (const Unit& u : kDurationUnits) {
    // Like Prometheus, years and weeks are only used when they divide the whole value.
    if ((u.name == "y" || u.name == "w") && ms % u.millis != 0) continue;
    if (ms >= u.millis) {
      out += std::to_string(ms / u.millis);
      out += u.name;
      ms %= u.millis;
    }
  }
  return out;
}

Result<uint64_t> ParseByteSize(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return InvalidArgument("invalid size '" + std::string(text) + "': " + std::string(why) +
                           " (expected e.g. 512MiB, 10GB, 4096B)");
  };
  size_t i = 0;
  uint64_t n = 0;
  if (text.empty() || !IsDigit(text[0])) return bad("expected a number");
  while (i < text.size() && IsDigit(text[i])) {
    uint64_t digit = static_cast<uint64_t>(text[i] - '0');
    if (n > (std::numeric_limits<uint64_t>::max() - digit) / 10) return bad("too large");
    n = n * 10 + digit;
    ++i;
  }
  std::string_view unit = text.substr(i);
  int shift = -1;
  if (unit.empty() || unit == "B") shift = 0;
  else if (unit == "KiB" || unit == "KB") shift = 10;
  else if (unit == "MiB" || unit == "MB") shift = 20;
  else if (unit == "GiB" || unit == "GB") shift = 30;
  else if (unit == "TiB" || unit == "TB") shift = 40;
  else if (unit == "PiB" || unit == "PB") shift = 50;
  if (shift < 0) return bad("unknown unit '" + std::string(unit) + "'");
  if (shift > 0 && n > (std::numeric_limits<uint64_t>::max() >> shift)) return bad("too large");
  return n << shift;
}

std::string FormatByteSize(uint64_t bytes) {
  static constexpr std::array<std::string_view, 6> kUnits = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  size_t u = 0;
  while (u + 1 < kUnits.size() && bytes != 0 && bytes % 1024 == 0) {
    bytes /= 1024;
    ++u;
  }
  return std::to_string(bytes) + std::string(kUnits[u]);
}

std::string FormatTimestamp(int64_t unix_millis) {
  const auto secs = static_cast<time_t>(unix_millis / 1000);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char buf[64];
  size_t n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf + n, sizeof(buf) - n, ".%03dZ", static_cast<int>(unix_millis % 1000));
  return buf;
}

std::string GoTime(int64_t unix_millis) {
  if (unix_millis == 0) return "0001-01-01T00:00:00Z";
  std::string s = FormatTimestamp(unix_millis);  // "...:SS.mmmZ"
  const size_t dot = s.rfind('.');
  if (dot == std::string::npos) return s;
  size_t end = s.size() - 1;  // the 'Z'
  while (end > dot + 1 && s[end - 1] == '0') --end;
  if (end == dot + 1) end = dot;
  return s.substr(0, end) + "Z";
}

}  // namespace tyto
