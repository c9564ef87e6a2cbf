#include "alertmanager/time_interval.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>

namespace tyto::alertmanager {
namespace {

using config::Node;

Status ErrorAt(const Node& node, const std::string& what) {
  return InvalidArgument(node.position().ToString() + ": " + what);
}

uint32_t Be32(std::string_view d, size_t at) {
  return (static_cast<uint32_t>(static_cast<unsigned char>(d[at])) << 24) |
         (static_cast<uint32_t>(static_cast<unsigned char>(d[at + 1])) << 16) |
         (static_cast<uint32_t>(static_cast<unsigned char>(d[at + 2])) << 8) |
         static_cast<uint32_t>(static_cast<unsigned char>(d[at + 3]));
}

int64_t Be64(std::string_view d, size_t at) {
  return static_cast<int64_t>((static_cast<uint64_t>(Be32(d, at)) << 32) | Be32(d, at + 4));
}

std::optional<int> ParseInt(std::string_view s) {
  int v = 0;
  if (s.empty()) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

constexpr std::array<std::string_view, 7> kWeekdays = {"sunday",   "monday", "tuesday", "wednesday",
                                                       "thursday", "friday", "saturday"};
constexpr std::array<std::string_view, 12> kMonths = {"january", "february", "march",     "april",
                                                      "may",     "june",     "july",      "august",
                                                      "september", "october", "november", "december"};

// One element of a range list: "a" or "a:b", each side read by `one`.
template <typename ReadOne>
Result<InclusiveRange> ReadRange(const Node& item, ReadOne one) {
  if (!item.IsScalar()) return ErrorAt(item, "expected a string, got " + std::string(item.KindName()));
  std::string_view text = item.scalar();
  size_t colon = text.find(':');
  std::string_view a = text.substr(0, colon);
  std::string_view b = colon == std::string_view::npos ? a : text.substr(colon + 1);
  auto begin = one(a);
  auto end = one(b);
  if (!begin || !end) return ErrorAt(item, "invalid range '" + std::string(text) + "'");
  return InclusiveRange{*begin, *end};
}

template <typename ReadOne, typename Check>
Result<std::vector<InclusiveRange>> ReadRanges(const Node& node, ReadOne one, Check check) {
  std::vector<InclusiveRange> out;
  if (node.IsNull()) return out;
  if (!node.IsSequence()) return ErrorAt(node, "expected a list, got " + std::string(node.KindName()));
  for (const Node& item : node.items()) {
    TYTO_ASSIGN_OR_RETURN(InclusiveRange r, ReadRange(item, one));
    std::string problem = check(r);
    if (!problem.empty()) return ErrorAt(item, problem);
    out.push_back(r);
  }
  return out;
}

std::optional<int> NamedOrNumber(std::string_view s, const auto& names, int first_number) {
  std::string lower = Lower(s);
  for (size_t i = 0; i < names.size(); ++i) {
    if (lower == names[i]) return static_cast<int>(i) + first_number;
  }
  if (first_number == 1) return ParseInt(s);  // months may be numbers
  return std::nullopt;
}

// "HH:MM", 00:00 to 24:00.
std::optional<int> ParseClock(std::string_view s) {
  if (s.size() != 5 || s[2] != ':') return std::nullopt;
  auto h = ParseInt(s.substr(0, 2));
  auto m = ParseInt(s.substr(3, 2));
  if (!h || !m || *h < 0 || *m < 0 || *m > 59 || *h > 24 || (*h == 24 && *m != 0)) return std::nullopt;
  return *h * 60 + *m;
}

bool InRanges(const std::vector<InclusiveRange>& ranges, int v) {
  if (ranges.empty()) return true;
  for (const auto& r : ranges) {
    if (v >= r.begin && v <= r.end) return true;
  }
  return false;
}

}  // namespace

std::shared_ptr<const TimeZone> TimeZone::Utc() {
  static const std::shared_ptr<const TimeZone> utc = [] {
    auto z = std::make_shared<TimeZone>();
    z->name_ = "UTC";
    return z;
  }();
  return utc;
}

Result<std::shared_ptr<const TimeZone>> TimeZone::Load(std::string_view name, Env* env,
                                                        const std::string& zoneinfo_dir) {
  if (name.empty() || name == "UTC") return Utc();
  std::string path;
  if (name == "Local") {
    path = "/etc/localtime";
  } else {
    bool ok = name.front() != '/' && name.find("..") == std::string_view::npos;
    for (char c : name) {
      ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' ||
                  c == '_' || c == '-' || c == '+');
    }
    if (!ok) return InvalidArgument("invalid time zone name '" + std::string(name) + "'");
    path = zoneinfo_dir + "/" + std::string(name);
  }
  auto data = env->ReadFile(path);
  if (!data.ok()) {
    return Status(StatusCode::kNotFound, "unknown time zone '" + std::string(name) + "' (" + path +
                                             ": " + data.status().message() + ")");
  }
  return FromTzif(std::string(name), *data);
}

Result<std::shared_ptr<const TimeZone>> TimeZone::FromTzif(std::string name, std::string_view d) {
  auto bad = [&](const char* what) {
    return Corruption("time zone '" + name + "': not a TZif file (" + what + ")");
  };
  constexpr size_t kHeader = 44;
  if (d.size() < kHeader || d.substr(0, 4) != "TZif") return bad("no TZif header");
  char version = d[4];
  size_t at = 0;
  int time_size = 4;
  auto counts = [&](size_t h, uint32_t* c) {
    for (int i = 0; i < 6; ++i) c[i] = Be32(d, h + 20 + 4 * static_cast<size_t>(i));
  };
  uint32_t c[6];  // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
  counts(0, c);
  auto block_size = [&](int tsize) {
    return static_cast<uint64_t>(c[3]) * static_cast<uint64_t>(tsize) + c[3] + uint64_t{c[4]} * 6 + c[5] +
           uint64_t{c[2]} * static_cast<uint64_t>(tsize + 4) + c[1] + c[0];
  };
  if (version >= '2') {
    uint64_t skip = kHeader + block_size(4);
    if (skip + kHeader > d.size()) return bad("truncated");
    at = static_cast<size_t>(skip);
    if (d.substr(at, 4) != "TZif") return bad("no second header");
    counts(at, c);
    time_size = 8;
  }
  at += kHeader;
  if (c[4] == 0) return bad("no local time types");
  if (at + block_size(time_size) > d.size()) return bad("truncated");
  auto zone = std::make_shared<TimeZone>();
  zone->name_ = std::move(name);
  size_t types_at = at + size_t{c[3]} * static_cast<size_t>(time_size);
  size_t info_at = types_at + c[3];
  auto offset_of = [&](uint32_t type) { return static_cast<int32_t>(Be32(d, info_at + 6 * size_t{type})); };
  int64_t last = INT64_MIN;
  for (uint32_t i = 0; i < c[3]; ++i) {
    int64_t t = time_size == 8 ? Be64(d, at + 8 * size_t{i}) : static_cast<int32_t>(Be32(d, at + 4 * size_t{i}));
    auto type = static_cast<unsigned char>(d[types_at + i]);
    if (type >= c[4]) return bad("transition to an unknown type");
    if (t <= last) return bad("transitions out of order");
    last = t;
    zone->transitions_.push_back(t);
    zone->offsets_.push_back(offset_of(type));
  }
  zone->initial_offset_ = offset_of(0);
  return std::shared_ptr<const TimeZone>(std::move(zone));
}

int32_t TimeZone::OffsetAt(int64_t unix_seconds) const {
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), unix_seconds);
  if (it == transitions_.begin()) return initial_offset_;
  return offsets_[static_cast<size_t>(it - transitions_.begin() - 1)];
}

bool TimeInterval::Contains(int64_t unix_millis) const {
  using namespace std::chrono;
  // Years 1 to 9999 only: the calendar arithmetic below is exact there, and alerts have no
  // business outside.
  constexpr int64_t kFirst = -62'135'596'800'000, kLast = 253'402'300'799'999;
  if (unix_millis < kFirst || unix_millis > kLast) return false;
  int64_t secs = unix_millis >= 0 ? unix_millis / 1000 : -((-unix_millis + 999) / 1000);
  const TimeZone& tz = zone != nullptr ? *zone : *TimeZone::Utc();
  int64_t local = secs + tz.OffsetAt(secs);
  int64_t days = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
  int minute = static_cast<int>((local - days * 86400) / 60);
  sys_days day{std::chrono::days{days}};
  year_month_day ymd{day};
  if (!times.empty()) {
    bool in = false;
    for (const auto& t : times) in = in || (minute >= t.start_minute && minute < t.end_minute);
    if (!in) return false;
  }
  if (!InRanges(weekdays, static_cast<int>(weekday{day}.c_encoding()))) return false;
  if (!InRanges(months, static_cast<int>(static_cast<unsigned>(ymd.month())))) return false;
  if (!InRanges(years, static_cast<int>(ymd.year()))) return false;
  if (!days_of_month.empty()) {
    int dom = static_cast<int>(static_cast<unsigned>(ymd.day()));
    int in_month = static_cast<int>(static_cast<unsigned>(year_month_day_last{ymd.year(), month_day_last{ymd.month()}}.day()));
    bool in = false;
    for (const auto& r : days_of_month) {
      // Negative days count back from the month's end: -1 is its last day.
      int begin = r.begin < 0 ? in_month + r.begin + 1 : r.begin;
      int end = r.end < 0 ? in_month + r.end + 1 : r.end;
      in = in || (dom >= begin && dom <= end);
    }
    if (!in) return false;
  }
  return true;
}

bool NamedTimeInterval::Contains(int64_t unix_millis) const {
  return std::any_of(intervals.begin(), intervals.end(),
                     [&](const TimeInterval& t) { return t.Contains(unix_millis); });
}

Result<TimeInterval> ParseTimeInterval(const Node& node, Env* env, const std::string& zoneinfo_dir) {
  TimeInterval out;
  out.zone = TimeZone::Utc();
  if (node.IsNull()) return out;
  if (!node.IsMap()) return ErrorAt(node, "expected a mapping, got " + std::string(node.KindName()));
  auto ordered = [](const char* what) {
    return [what](const InclusiveRange& r) -> std::string {
      return r.begin <= r.end ? "" : std::string("start ") + what + " cannot be after end " + what;
    };
  };
  for (const auto& [key, value] : node.entries()) {
    const std::string& k = key.scalar();
    if (k == "times") {
      if (value.IsNull()) continue;
      if (!value.IsSequence()) return ErrorAt(value, "expected a list, got " + std::string(value.KindName()));
      for (const Node& item : value.items()) {
        if (!item.IsMap()) return ErrorAt(item, "expected a mapping with start_time and end_time");
        std::optional<int> start, end;
        for (const auto& [tk, tv] : item.entries()) {
          if (tk.scalar() != "start_time" && tk.scalar() != "end_time") {
            return ErrorAt(tk, "unknown key '" + tk.scalar() + "' in times");
          }
          auto m = tv.IsScalar() ? ParseClock(tv.scalar()) : std::nullopt;
          if (!m) return ErrorAt(tv, "invalid time '" + tv.scalar() + "', expected HH:MM between 00:00 and 24:00");
          (tk.scalar() == "start_time" ? start : end) = m;
        }
        if (!start || !end) return ErrorAt(item, "times need both start_time and end_time");
        if (*start >= *end) return ErrorAt(item, "start_time must be before end_time");
        out.times.push_back({*start, *end});
      }
    } else if (k == "weekdays") {
      TYTO_ASSIGN_OR_RETURN(out.weekdays,
                            ReadRanges(value, [](std::string_view s) { return NamedOrNumber(s, kWeekdays, 0); },
                                       ordered("day")));
    } else if (k == "days_of_month") {
      TYTO_ASSIGN_OR_RETURN(
          out.days_of_month,
          ReadRanges(value, ParseInt, [](const InclusiveRange& r) -> std::string {
            auto valid = [](int v) { return v != 0 && v >= -31 && v <= 31; };
            if (!valid(r.begin) || !valid(r.end)) return "days of month must be between 1 and 31 or -31 and -1";
            // Negative days read as in a 31-day month, so "-3:5" (29th to 5th) is refused while
            // "1:-1" (the whole month) is not.
            auto in_long_month = [](int v) { return v < 0 ? 32 + v : v; };
            if (in_long_month(r.begin) > in_long_month(r.end)) return "start day cannot be after end day";
            return "";
          }));
    } else if (k == "months") {
      TYTO_ASSIGN_OR_RETURN(
          out.months, ReadRanges(value, [](std::string_view s) { return NamedOrNumber(s, kMonths, 1); },
                                 [&](const InclusiveRange& r) -> std::string {
                                   if (r.begin < 1 || r.end > 12) return "months must be between 1 and 12";
                                   return ordered("month")(r);
                                 }));
    } else if (k == "years") {
      TYTO_ASSIGN_OR_RETURN(out.years, ReadRanges(value, ParseInt, [&](const InclusiveRange& r) -> std::string {
                              if (r.begin < 1) return "years must be positive";
                              return ordered("year")(r);
                            }));
    } else if (k == "location") {
      if (!value.IsScalar()) return ErrorAt(value, "expected a time zone name");
      auto zone = TimeZone::Load(value.scalar(), env, zoneinfo_dir);
      if (!zone.ok()) return ErrorAt(value, zone.status().message());
      out.location = value.scalar();
      out.zone = *zone;
    } else {
      return ErrorAt(key, "unknown key '" + k + "' in a time interval");
    }
  }
  return out;
}

}  // namespace tyto::alertmanager
