#include "api/json.h"

#include <charconv>
#include <cmath>

#include "common/units.h"

namespace tyto::api {
namespace {

std::string NonFinite(double v) {
  if (std::isnan(v)) return "NaN";
  return v > 0 ? "+Inf" : "-Inf";
}

}  // namespace

std::string FormatFloat(double v) {
  if (!std::isfinite(v)) return NonFinite(v);
  char buf[400];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed);
  return std::string(buf, ec == std::errc() ? end : buf);
}

std::string FormatFloatExponent(double v) {
  if (!std::isfinite(v)) return NonFinite(v);
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  return std::string(buf, ec == std::errc() ? end : buf);
}

void GoNumber(JsonWriter& w, double v) {
  if (!std::isfinite(v)) {
    w.Null();
    return;
  }
  // encoding/json: decimal for 1e-6 <= |v| < 1e21 (and 0), the exponent form otherwise, with
  // an exponent of one digit written without a leading zero ("1e-7", not "1e-07").
  const double a = std::fabs(v);
  std::string s;
  if (a == 0 || (a >= 1e-6 && a < 1e21)) {
    s = FormatFloat(v);
  } else {
    s = FormatFloatExponent(v);
    const size_t e = s.find('e');
    if (e != std::string::npos && s.size() - e == 4 && s[e + 2] == '0') s.erase(e + 2, 1);
  }
  w.RawValue(s.data(), s.size(), rapidjson::kNumberType);
}

void Timestamp(JsonWriter& w, int64_t unix_millis) {
  std::string s;
  // Negated as unsigned: INT64_MIN has no positive int64.
  uint64_t ms = static_cast<uint64_t>(unix_millis);
  if (unix_millis < 0) {
    s.push_back('-');
    ms = 0 - ms;
  }
  s += std::to_string(ms / 1000);
  if (const uint64_t frac = ms % 1000; frac != 0) {
    s.push_back('.');
    if (frac < 100) s.push_back('0');
    if (frac < 10) s.push_back('0');
    s += std::to_string(frac);
  }
  w.RawValue(s.data(), s.size(), rapidjson::kNumberType);
}

http::Response StatusError(const Status& st) {
  switch (st.code()) {
    case StatusCode::kInvalidArgument:
      return http::Response::Error(400, "bad_data", st.message());
    case StatusCode::kNotFound:
      return http::Response::Error(404, "not_found", st.message());
    case StatusCode::kFailedPrecondition:
    case StatusCode::kAlreadyExists:
      return http::Response::Error(409, "conflict", st.message());
    default:
      return http::Response::Error(503, "unavailable", st.message());
  }
}

}  // namespace tyto::api
