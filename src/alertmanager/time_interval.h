// Alertmanager's time intervals (`time_intervals:` and the older `mute_time_intervals:`), used
// by routes to mute notifications or to send them only at certain times.
//
// A TimeInterval is one entry of a named interval's list; each field, when given, restricts the
// instants it contains and an empty field leaves its dimension unrestricted. An instant is
// inside a named interval when it is inside any of its entries. Instants are Unix milliseconds;
// the civil date and time are read in the entry's `location` (UTC when absent), from the system
// time-zone database (/usr/share/zoneinfo, TZif files). Transitions are taken from the file's
// table, which Debian's "fat" files fill to 2037; later instants keep the last known offset.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/yaml.h"
#include "tyto/env.h"
#include "tyto/status.h"

namespace tyto::alertmanager {

inline constexpr const char* kZoneinfoDir = "/usr/share/zoneinfo";

// A time zone's UTC offsets over time. Immutable; thread-safe.
class TimeZone {
 public:
  static std::shared_ptr<const TimeZone> Utc();
  // "UTC" (or ""), "Local" (/etc/localtime) or an IANA name such as "Europe/Amsterdam", read
  // from `zoneinfo_dir`. Fails with kNotFound for an unknown zone, kInvalidArgument for a name
  // that tries to leave the directory, kCorruption for a file that is not TZif.
  static Result<std::shared_ptr<const TimeZone>> Load(std::string_view name, Env* env,
                                                      const std::string& zoneinfo_dir = kZoneinfoDir);
  // Parses TZif data (RFC 8536, versions 1 to 4).
  static Result<std::shared_ptr<const TimeZone>> FromTzif(std::string name, std::string_view data);

  const std::string& name() const { return name_; }
  // Seconds east of UTC in effect at the instant.
  int32_t OffsetAt(int64_t unix_seconds) const;

 private:
  std::string name_;
  std::vector<int64_t> transitions_;  // ascending, Unix seconds
  std::vector<int32_t> offsets_;      // offsets_[i] applies from transitions_[i]
  int32_t initial_offset_ = 0;        // before the first transition
};

// An inclusive range of integers [begin, end].
struct InclusiveRange {
  int begin = 0;
  int end = 0;
  friend bool operator==(const InclusiveRange&, const InclusiveRange&) = default;
};

// Minutes since midnight, [start_minute, end_minute): "09:00" to "17:00" is 540 to 1020.
struct TimeOfDayRange {
  int start_minute = 0;
  int end_minute = 0;
  friend bool operator==(const TimeOfDayRange&, const TimeOfDayRange&) = default;
};

struct TimeInterval {
  std::vector<TimeOfDayRange> times;
  std::vector<InclusiveRange> weekdays;       // 0 = Sunday ... 6 = Saturday
  std::vector<InclusiveRange> days_of_month;  // 1..31 or -31..-1 (-1 = the month's last day)
  std::vector<InclusiveRange> months;         // 1 = January ... 12
  std::vector<InclusiveRange> years;
  std::string location;                       // as written; "" = UTC
  std::shared_ptr<const TimeZone> zone;       // never null once parsed

  // Whether the instant (Unix milliseconds) is inside this entry. Instants outside the years
  // 1 to 9999 (UTC) are inside nothing.
  bool Contains(int64_t unix_millis) const;
};

// A named interval: `- name: offhours\n  time_intervals: [...]`.
struct NamedTimeInterval {
  std::string name;
  std::vector<TimeInterval> intervals;
  config::Position position;

  // Inside any entry. An interval with no entries contains nothing.
  bool Contains(int64_t unix_millis) const;
};

// Parses one entry (a mapping with times, weekdays, days_of_month, months, years, location).
// Errors name file:line:column.
// Locations are read through `env` from `zoneinfo_dir`.
Result<TimeInterval> ParseTimeInterval(const config::Node& node, Env* env,
                                       const std::string& zoneinfo_dir = kZoneinfoDir);

}  // namespace tyto::alertmanager
