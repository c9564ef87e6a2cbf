#include "ingest/otlp_names.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <vector>

namespace tyto::ingest::otlp {
namespace {

bool IsAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
bool IsMetricChar(char c) { return IsAlnum(c) || c == ':'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::string_view MainUnit(std::string_view u) {
  static constexpr std::pair<std::string_view, std::string_view> kUnits[] = {
      {"d", "days"},         {"h", "hours"},         {"min", "minutes"},     {"s", "seconds"},
      {"ms", "milliseconds"}, {"us", "microseconds"}, {"ns", "nanoseconds"},  {"By", "bytes"},
      {"KiBy", "kibibytes"}, {"MiBy", "mebibytes"},  {"GiBy", "gibibytes"},  {"TiBy", "tibibytes"},
      {"KBy", "kilobytes"},  {"MBy", "megabytes"},   {"GBy", "gigabytes"},   {"TBy", "terabytes"},
      {"m", "meters"},       {"V", "volts"},         {"A", "amperes"},       {"J", "joules"},
      {"W", "watts"},        {"g", "grams"},         {"Cel", "celsius"},     {"Hz", "hertz"},
      {"1", ""},             {"%", "percent"},
  };
  for (const auto& [otel, prom] : kUnits) {
    if (u == otel) return prom;
  }
  return u;
}

std::string_view PerUnit(std::string_view u) {
  static constexpr std::pair<std::string_view, std::string_view> kUnits[] = {
      {"s", "second"}, {"m", "minute"}, {"h", "hour"}, {"d", "day"}, {"w", "week"}, {"mo", "month"}, {"y", "year"},
  };
  for (const auto& [otel, prom] : kUnits) {
    if (u == otel) return prom;
  }
  return u;
}

// Characters outside [a-zA-Z0-9:] become '_', runs of '_' collapse, a leading '_' goes.
std::string CleanUnit(std::string_view unit) {
  std::string out;
  for (char c : unit) {
    const char d = IsMetricChar(c) ? c : '_';
    if (d == '_' && !out.empty() && out.back() == '_') continue;
    out.push_back(d);
  }
  if (!out.empty() && out.front() == '_') out.erase(0, 1);
  return out;
}

// The main and "per_" unit words, cleaned.
std::pair<std::string, std::string> UnitWords(std::string_view unit) {
  std::string main, per;
  const size_t slash = unit.find('/');
  const std::string_view main_otel = TrimSpace(unit.substr(0, slash));
  if (!main_otel.empty() && main_otel.find_first_of("{}") == std::string_view::npos) {
    main = std::string(MainUnit(main_otel));
  }
  if (slash != std::string_view::npos && slash + 1 < unit.size()) {
    const std::string_view per_otel = TrimSpace(unit.substr(slash + 1));
    if (!per_otel.empty() && per_otel.find_first_of("{}") == std::string_view::npos) {
      per = std::string(PerUnit(per_otel));
    }
    if (!per.empty()) per = "per_" + per;
  }
  return {CleanUnit(main), CleanUnit(per)};
}

bool OnlyUnderscores(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == '_'; });
}

}  // namespace

std::string UnitSuffix(std::string_view unit) {
  auto [main, per] = UnitWords(unit);
  std::string u = main.empty() ? per : per.empty() ? main : main + "_" + per;
  if (!u.empty() && u.front() == '_') u.erase(0, 1);
  if (!u.empty() && u.back() == '_') u.pop_back();
  return u;
}

Result<std::string> MetricName(std::string_view name, std::string_view unit, MetricType type, bool monotonic) {
  std::vector<std::string> words;
  for (size_t i = 0; i < name.size();) {
    if (!IsMetricChar(name[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < name.size() && IsMetricChar(name[j])) ++j;
    words.emplace_back(name.substr(i, j - i));
    i = j;
  }
  const auto has = [&](const std::string& w) { return std::find(words.begin(), words.end(), w) != words.end(); };
  auto [main, per] = UnitWords(unit);
  if (has(main)) main.clear();
  if (per == "per_") {
    per.clear();
  } else {
    if (!per.empty() && per.back() == '_') per.pop_back();
    if (has(per)) per.clear();
  }
  if (!per.empty() && !main.empty() && main.back() == '_') main.pop_back();
  if (!main.empty()) words.push_back(main);
  if (!per.empty()) words.push_back(per);
  const auto move_to_end = [&](const std::string& w) {
    words.erase(std::remove(words.begin(), words.end(), w), words.end());
    words.push_back(w);
  };
  if (type == MetricType::kSum && monotonic) move_to_end("total");
  if (unit == "1" && type == MetricType::kGauge) move_to_end("ratio");
  std::string out;
  for (const std::string& w : words) {
    if (!out.empty()) out.push_back('_');
    out += w;
  }
  if (!out.empty() && IsDigit(out.front())) out.insert(0, "_");
  if (out.empty()) {
    return InvalidArgument("metric name \"" + std::string(name.substr(0, 64)) + "\" has no character of [a-zA-Z0-9:]");
  }
  return out;
}

Result<std::string> LabelName(std::string_view key) {
  if (key.empty()) return InvalidArgument("empty attribute key");
  std::string_view inner = key;
  const bool reserved = key.size() >= 4 && key.substr(0, 2) == "__" && key.substr(key.size() - 2) == "__";
  if (reserved) inner = key.substr(2, key.size() - 4);
  std::string out;
  bool prev_underscore = false;
  for (char c : inner) {
    if (IsAlnum(c)) {
      out.push_back(c);
      prev_underscore = false;
    } else if (!prev_underscore) {
      out.push_back('_');
      prev_underscore = true;
    }
  }
  if (reserved) out = "__" + out + "__";
  if (out.empty() || OnlyUnderscores(out)) {
    return InvalidArgument("attribute key \"" + std::string(key.substr(0, 64)) + "\" has no character of [a-zA-Z0-9]");
  }
  if (IsDigit(out.front())) out.insert(0, "key_");
  return out;
}

std::string FormatBound(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[400];  // the longest fixed form of a double is about 330 characters
  const auto r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed);
  return std::string(buf, r.ptr);
}

std::string FormatAttributeDouble(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  const double a = std::fabs(v);
  if (a == 0 || (a >= 1e-6 && a < 1e21)) return FormatBound(v);
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  std::string s(buf, r.ptr);  // "1e+21", "1.5e-07": drop the exponent's leading zero as JavaScript does
  const size_t e = s.find('e');
  if (e != std::string::npos && e + 2 < s.size() && s[e + 2] == '0' && e + 3 < s.size()) s.erase(e + 2, 1);
  return s;
}

std::string Base64(std::string_view bytes) {
  static constexpr char kChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t n = (static_cast<uint8_t>(bytes[i]) << 16) | (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                       static_cast<uint8_t>(bytes[i + 2]);
    out += {kChars[n >> 18], kChars[(n >> 12) & 63], kChars[(n >> 6) & 63], kChars[n & 63]};
  }
  if (i + 1 == bytes.size()) {
    const uint32_t n = static_cast<uint8_t>(bytes[i]) << 16;
    out += {kChars[n >> 18], kChars[(n >> 12) & 63], '=', '='};
  } else if (i + 2 == bytes.size()) {
    const uint32_t n = (static_cast<uint8_t>(bytes[i]) << 16) | (static_cast<uint8_t>(bytes[i + 1]) << 8);
    out += {kChars[n >> 18], kChars[(n >> 12) & 63], kChars[(n >> 6) & 63], '='};
  }
  return out;
}

void AppendJsonString(std::string* out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (char c : s) {
    switch (c) {
      case '"': *out += "\\\""; break;
      case '\\': *out += "\\\\"; break;
      case '\n': *out += "\\n"; break;
      case '\r': *out += "\\r"; break;
      case '\t': *out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          *out += "\\u00";
          out->push_back(kHex[(c >> 4) & 15]);
          out->push_back(kHex[c & 15]);
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

}  // namespace tyto::ingest::otlp
