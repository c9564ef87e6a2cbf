#include "events/jsonl_common.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <utility>

#include "common/json_depth.h"
#include "events/ids.h"
#include "ingest/otlp_names.h"
#include "scrape/text_lexing.h"

namespace tyto::events {
namespace {

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

bool IsLeapYear(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

constexpr int64_t kNanosPerSecond = 1'000'000'000;
// The last second whose nanoseconds fit int64: 2262-04-11T23:47:16Z.
constexpr int64_t kMaxSeconds = std::numeric_limits<int64_t>::max() / kNanosPerSecond;

// Seconds (finite, >= 0, before 2262) to nanoseconds, keeping the fraction's precision.
bool SecondsToNanos(double seconds, int64_t* out) {
  if (!std::isfinite(seconds) || seconds < 0 || seconds >= static_cast<double>(kMaxSeconds)) return false;
  const double whole = std::floor(seconds);
  const auto frac = static_cast<int64_t>(std::llround((seconds - whole) * 1e9));
  *out = static_cast<int64_t>(whole) * kNanosPerSecond + frac;
  return true;
}

}  // namespace

Result<int64_t> ParseRfc3339Nanos(std::string_view s) {
  int y, mo, d, h, mi, sec;
  if (s.size() < 19 || !Digits(s, 0, 4, &y) || s[4] != '-' || !Digits(s, 5, 2, &mo) || s[7] != '-' ||
      !Digits(s, 8, 2, &d) || (s[10] != 'T' && s[10] != 't') || !Digits(s, 11, 2, &h) || s[13] != ':' ||
      !Digits(s, 14, 2, &mi) || s[16] != ':' || !Digits(s, 17, 2, &sec)) {
    return InvalidArgument("not an RFC 3339 time (2026-11-22T12:00:00Z)");
  }
  static constexpr int kDaysInMonth[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mo < 1 || mo > 12) return InvalidArgument("month " + std::to_string(mo) + " out of range");
  const int days = kDaysInMonth[mo - 1] + (mo == 2 && IsLeapYear(y) ? 1 : 0);
  if (d < 1 || d > days) return InvalidArgument("day " + std::to_string(d) + " out of range");
  if (h > 23 || mi > 59 || sec > 60) return InvalidArgument("time of day out of range");
  size_t pos = 19;
  int64_t frac_ns = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    const size_t start = pos;
    int64_t scale = 100'000'000;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      frac_ns += (s[pos] - '0') * scale;  // digits past the ninth add nothing
      scale /= 10;
      ++pos;
    }
    if (pos == start) return InvalidArgument("no digits after the decimal point");
  }
  int64_t offset_min = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!Digits(s, pos + 1, 2, &oh) || pos + 3 >= s.size() || s[pos + 3] != ':' || !Digits(s, pos + 4, 2, &om) ||
        oh > 23 || om > 59) {
      return InvalidArgument("not an RFC 3339 time zone offset (Z, +01:00)");
    }
    offset_min = (s[pos] == '+' ? 1 : -1) * (oh * 60 + om);
    pos += 6;
  } else {
    return InvalidArgument("no time zone (Z or an offset such as +01:00)");
  }
  if (pos != s.size()) return InvalidArgument("unexpected text after the time");
  const int64_t secs = DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset_min * 60;
  if (secs > kMaxSeconds || secs < -kMaxSeconds) return InvalidArgument("after the year 2262 or before 1677");
  const int64_t ns = secs * kNanosPerSecond;
  if (ns > std::numeric_limits<int64_t>::max() - frac_ns) return InvalidArgument("after the year 2262");
  return ns + frac_ns;
}

namespace jsonl {

using rapidjson::Value;

namespace {

// Arrays and objects a line may nest (features, prediction, attributes, free text as JSON).
constexpr size_t kMaxDepth = 32;

std::string Name(std::string_view name) { return std::string(name); }

std::string CompactJson(const Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace

Fields::Fields(const Value& object, const DecodeLimits& limits, DecodeStats* stats)
    : object_(object), limits_(limits), stats_(stats), known_(object.MemberCount(), false) {}

const Value* Fields::Get(std::string_view name) {
  const Value key(rapidjson::StringRef(name.data(), static_cast<rapidjson::SizeType>(name.size())));
  auto it = object_.FindMember(key);
  if (it == object_.MemberEnd()) return nullptr;
  known_[static_cast<size_t>(it - object_.MemberBegin())] = true;
  return it->value.IsNull() ? nullptr : &it->value;
}

Status Fields::Text(std::string_view name, std::string* out) {
  const Value* v = Get(name);
  if (v == nullptr) return Status::Ok();
  if (!v->IsString()) return InvalidArgument(Name(name) + ": expected a string");
  out->assign(v->GetString(), v->GetStringLength());
  LimitText(out, limits_, stats_);
  return Status::Ok();
}

Status Fields::Content(std::string_view name, std::string* out) {
  const Value* v = Get(name);
  if (v == nullptr) return Status::Ok();
  if (v->IsString())
    out->assign(v->GetString(), v->GetStringLength());
  else
    *out = CompactJson(*v);
  LimitContent(out, limits_, stats_);
  return Status::Ok();
}

Status Fields::Count(std::string_view name, int64_t* out) {
  const Value* v = Get(name);
  if (v == nullptr) return Status::Ok();
  if (!v->IsInt64() || v->GetInt64() < 0) return InvalidArgument(Name(name) + ": expected a whole number >= 0");
  *out = v->GetInt64();
  return Status::Ok();
}

Status Fields::Duration(std::string_view ms_name, std::string_view s_name, double* seconds) {
  const Value* ms = Get(ms_name);
  const Value* s = Get(s_name);
  if (ms != nullptr && s != nullptr) {
    return InvalidArgument(Name(ms_name) + " and " + Name(s_name) + ": give one, not both");
  }
  const Value* v = ms != nullptr ? ms : s;
  if (v == nullptr) return Status::Ok();
  const std::string_view name = ms != nullptr ? ms_name : s_name;
  if (!v->IsNumber() || !std::isfinite(v->GetDouble()) || v->GetDouble() < 0) {
    return InvalidArgument(Name(name) + ": expected a number >= 0");
  }
  *seconds = ms != nullptr ? v->GetDouble() / 1000 : v->GetDouble();
  return Status::Ok();
}

Status Fields::Timestamp(std::string_view name, int64_t* unix_nano, bool* present) {
  *present = false;
  const Value* v = Get(name);
  if (v == nullptr) return Status::Ok();
  const std::string expected = ": expected Unix seconds (a number >= 0) or an RFC 3339 time (2026-11-22T12:00:00Z)";
  double seconds = 0;
  bool is_seconds = false;
  if (v->IsNumber()) {
    seconds = v->GetDouble();
    is_seconds = true;
  } else if (v->IsString()) {
    const std::string_view s(v->GetString(), v->GetStringLength());
    const auto r = std::from_chars(s.data(), s.data() + s.size(), seconds);
    is_seconds = !s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size();
    if (!is_seconds) {
      Result<int64_t> t = ParseRfc3339Nanos(s);
      if (!t.ok())
        return InvalidArgument(Name(name) + ": \"" + scrape::Printable(s, 40) + "\": " + t.status().message());
      if (*t < 0) return InvalidArgument(Name(name) + ": \"" + scrape::Printable(s, 40) + "\" is before 1970");
      *unix_nano = *t;
      *present = true;
      return Status::Ok();
    }
  } else {
    return InvalidArgument(Name(name) + expected);
  }
  if (!SecondsToNanos(seconds, unix_nano)) {
    if (std::isfinite(seconds) && seconds >= static_cast<double>(kMaxSeconds)) {
      return InvalidArgument(Name(name) + ": " + ingest::otlp::FormatAttributeDouble(seconds) +
                             " is after the year 2262; Unix seconds are expected (not milliseconds)");
    }
    return InvalidArgument(Name(name) + expected);
  }
  *present = true;
  return Status::Ok();
}

Status Fields::Id(std::string_view name, size_t bytes, std::string* hex) {
  const Value* v = Get(name);
  if (v == nullptr) return Status::Ok();
  if (!v->IsString()) return InvalidArgument(Name(name) + ": expected a string of hex digits");
  const std::string_view text(v->GetString(), v->GetStringLength());
  if (text.empty()) return Status::Ok();
  const std::string what = HexIdFromText(text, bytes, hex);
  if (!what.empty()) return InvalidArgument(Name(name) + ": " + what);
  if (IsZeroHexId(*hex)) hex->clear();
  return Status::Ok();
}

void Fields::ForEachUnknown(const std::function<void(std::string_view, const Value&)>& fn) const {
  size_t i = 0;
  for (auto it = object_.MemberBegin(); it != object_.MemberEnd(); ++it, ++i) {
    if (!known_[i]) fn(std::string_view(it->name.GetString(), it->name.GetStringLength()), it->value);
  }
}

std::string AttributeValue(const Value& v) {
  if (v.IsString()) return std::string(v.GetString(), v.GetStringLength());
  if (v.IsBool()) return v.GetBool() ? "true" : "false";
  if (v.IsInt64()) return std::to_string(v.GetInt64());
  if (v.IsUint64()) return std::to_string(v.GetUint64());
  if (v.IsNumber()) return ingest::otlp::FormatAttributeDouble(v.GetDouble());
  if (v.IsNull()) return "";
  return CompactJson(v);
}

namespace {

// The first member name that appears twice, or nullptr.
const Value* DuplicateMember(const Value& obj) {
  if (obj.MemberCount() < 2) return nullptr;
  std::vector<const Value*> names;
  names.reserve(obj.MemberCount());
  for (auto it = obj.MemberBegin(); it != obj.MemberEnd(); ++it) names.push_back(&it->name);
  const auto view = [](const Value* n) { return std::string_view(n->GetString(), n->GetStringLength()); };
  std::sort(names.begin(), names.end(), [&](const Value* a, const Value* b) { return view(a) < view(b); });
  for (size_t i = 1; i < names.size(); ++i) {
    if (view(names[i]) == view(names[i - 1])) return names[i];
  }
  return nullptr;
}

void AddListed(std::vector<LineError>* list, size_t max, size_t line, std::string message) {
  if (list->size() < max) list->push_back({line, std::move(message)});
}

}  // namespace

void DecodeLines(std::string_view body, const DecodeLimits& limits, bool warn_unknown,
                 const std::function<Status(Fields&)>& decode, LineReport* report) {
  size_t line_number = 0;
  size_t pos = 0;
  const auto refuse = [&](std::string message) {
    ++report->rejected;
    AddListed(&report->errors, limits.max_listed_lines, line_number, std::move(message));
  };
  while (pos < body.size()) {
    size_t end = body.find('\n', pos);
    if (end == std::string_view::npos) end = body.size();
    std::string_view line = body.substr(pos, end - pos);
    pos = end + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    ++report->lines;
    if (line.size() > limits.max_line_bytes) {
      ++report->stats.lines_too_long;
      refuse("line is " + std::to_string(line.size()) + " bytes, more than the limit of " +
             std::to_string(limits.max_line_bytes));
      continue;
    }
    // Iterative: deep nesting cannot exhaust the stack. Encoding validated: text is UTF-8. A
    // document per line: a pool allocator reused across lines would only grow.
    constexpr unsigned kFlags = rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;
    rapidjson::Document doc;
    doc.Parse<kFlags>(line.data(), line.size());
    if (doc.HasParseError()) {
      refuse("invalid JSON at byte " + std::to_string(doc.GetErrorOffset()) + ": " +
             rapidjson::GetParseError_En(doc.GetParseError()));
      continue;
    }
    if (!doc.IsObject()) {
      refuse("expected a JSON object");
      continue;
    }
    if (NestedDeeperThan(doc, kMaxDepth)) {
      refuse("arrays and objects nested deeper than " + std::to_string(kMaxDepth));
      continue;
    }
    if (const Value* dup = DuplicateMember(doc)) {
      refuse("field \"" + scrape::Printable(std::string_view(dup->GetString(), dup->GetStringLength()), 64) +
             "\" given twice");
      continue;
    }
    DecodeStats stats;
    Fields fields(doc, limits, &stats);
    Status st = decode(fields);
    if (!st.ok()) {
      refuse(st.message());
      continue;
    }
    ++report->accepted;
    report->stats += stats;
    if (!warn_unknown) continue;
    fields.ForEachUnknown([&](std::string_view name, const Value&) {
      ++report->warnings_total;
      AddListed(&report->warnings, limits.max_listed_lines, line_number,
                "unknown field \"" + scrape::Printable(name, 64) + "\" ignored");
    });
  }
}

}  // namespace jsonl
}  // namespace tyto::events
