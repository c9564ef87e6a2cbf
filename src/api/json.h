// JSON helpers shared by the API handlers (private to src/api): Prometheus's success envelope
// and small writers. RapidJSON stays inside src/api.
#pragma once

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/units.h"
#include "http/message.h"
#include "tyto/labels.h"
#include "tyto/status.h"

namespace tyto::api {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// {"status":"success","data":...[,"warnings":[...]]} with `fill` writing the data value,
// whatever its kind.
inline http::Response SuccessValue(const std::function<void(JsonWriter&)>& fill,
                                   const std::vector<std::string>& warnings = {}) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("status");
  w.String("success");
  w.Key("data");
  fill(w);
  if (!warnings.empty()) {
    w.Key("warnings");
    w.StartArray();
    for (const std::string& s : warnings) w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    w.EndArray();
  }
  w.EndObject();
  return http::Response::Json(200, std::string(buf.GetString(), buf.GetSize()));
}

// {"status":"success","data":{...}} with `fill` writing the data object's members.
inline http::Response Success(const std::function<void(JsonWriter&)>& fill) {
  return SuccessValue([&fill](JsonWriter& w) {
    w.StartObject();
    fill(w);
    w.EndObject();
  });
}

inline void Key(JsonWriter& w, std::string_view key) { w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size())); }

inline void String(JsonWriter& w, std::string_view key, std::string_view value) {
  Key(w, key);
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

// A label set as a JSON object: {"name":"value",...}.
inline void LabelsObject(JsonWriter& w, const Labels& labels) {
  w.StartObject();
  for (const Label& l : labels) String(w, l.name, l.value);
  w.EndObject();
}

// A string map (an alert's labels or annotations) as a JSON object: {"name":"value",...}.
inline void StringMapObject(JsonWriter& w, const std::map<std::string, std::string>& m) {
  w.StartObject();
  for (const auto& [k, v] : m) String(w, k, v);
  w.EndObject();
}

// "key": {"name":"value",...}.
inline void StringMap(JsonWriter& w, std::string_view key, const std::map<std::string, std::string>& m) {
  Key(w, key);
  StringMapObject(w, m);
}

// The error envelope for a failed call by its status code: kInvalidArgument 400 bad_data,
// kNotFound 404 not_found, kFailedPrecondition and kAlreadyExists 409 conflict, anything else
// 503 unavailable.
http::Response StatusError(const Status& st);

// Go's strconv.FormatFloat(v, 'f', -1, 64): the shortest decimal that reads back as v, never
// with an exponent; "+Inf", "-Inf", "NaN". How Prometheus writes sample values.
std::string FormatFloat(double v);

// Go's strconv.FormatFloat(v, 'e', -1, 64): "1e+00", "2.5e-07". How Prometheus writes an
// alert's value.
std::string FormatFloatExponent(double v);

// A float64 as Go's encoding/json writes it: "0", "1.5", "1e+21", "1e-7" (not RapidJSON's
// "0.0"). NaN and infinities, which JSON cannot hold, are written as null.
void GoNumber(JsonWriter& w, double v);

// Prometheus's jsonutil.MarshalTimestamp, for sample and exemplar times: Unix seconds, then '.'
// and three digits of milliseconds when there are any ("1700000000", "1699999998.500").
void Timestamp(JsonWriter& w, int64_t unix_millis);

// GoTime (a time as Go's encoding/json writes it) is common/units.h's, included above.

}  // namespace tyto::api
