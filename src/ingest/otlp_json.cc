// ExportMetricsServiceRequest from OTLP's JSON mapping (the proto3 JSON mapping with OTLP's
// exceptions: trace and span ids in hex, which Tyto does not read, and enums as integers), and
// the JSON response bodies. RapidJSON stays in this file.
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <limits>
#include <string>

#include "ingest/otlp_metrics.h"
#include "ingest/otlp_names.h"

namespace tyto::ingest::otlp {
namespace {

using rapidjson::Value;

std::string Index(const std::string& path, std::string_view name, size_t i) {
  return path + (path.empty() ? "" : ".") + std::string(name) + "[" + std::to_string(i) + "]";
}
std::string Field(const std::string& path, std::string_view name) {
  return path + (path.empty() ? "" : ".") + std::string(name);
}

// The member named `camel` (OTLP's JSON) or `snake` (the proto name, which proto3 JSON parsers
// also accept); nullptr when absent or null.
const Value* Member(const Value& obj, const char* camel, const char* snake = nullptr) {
  auto it = obj.FindMember(camel);
  if (it == obj.MemberEnd() && snake != nullptr) it = obj.FindMember(snake);
  if (it == obj.MemberEnd() || it->value.IsNull()) return nullptr;
  return &it->value;
}

std::string_view View(const Value& v) { return {v.GetString(), v.GetStringLength()}; }

class Decoder {
 public:
  Status Request(const Value& root, MetricsRequest* out) {
    if (!root.IsObject()) return Bad("", "the body is not a JSON object");
    const Value* rms = Member(root, "resourceMetrics", "resource_metrics");
    if (rms == nullptr) return Status::Ok();
    if (!rms->IsArray()) return Bad("resourceMetrics", "expected an array");
    for (rapidjson::SizeType i = 0; i < rms->Size(); ++i) {
      out->resources.emplace_back();
      TYTO_RETURN_IF_ERROR(Resource((*rms)[i], Index("", "resourceMetrics", i), &out->resources.back()));
    }
    return Status::Ok();
  }

 private:
  static Status Bad(const std::string& where, std::string_view what) {
    return InvalidArgument((where.empty() ? "ExportMetricsServiceRequest" : where) + ": " + std::string(what));
  }
  static Status Object(const Value& v, const std::string& where) {
    return v.IsObject() ? Status::Ok() : Bad(where, "expected an object");
  }
  // An array member (absent is empty); *out is nullptr when absent.
  static Status Array(const Value& obj, const char* camel, const char* snake, const std::string& where,
                      const Value** out) {
    *out = Member(obj, camel, snake);
    if (*out != nullptr && !(*out)->IsArray()) return Bad(Field(where, camel), "expected an array");
    return Status::Ok();
  }
  static Status String(const Value& obj, const char* camel, const char* snake, const std::string& where,
                       std::string* out) {
    const Value* v = Member(obj, camel, snake);
    if (v == nullptr) return Status::Ok();
    if (!v->IsString()) return Bad(Field(where, camel), "expected a string");
    out->assign(v->GetString(), v->GetStringLength());
    return Status::Ok();
  }
  // A 64-bit integer: a JSON number, or a string of decimal digits (proto3 JSON writes 64-bit
  // integers as strings). `is_signed` admits a leading '-'.
  static Status Int64(const Value& obj, const char* camel, const char* snake, const std::string& where,
                      bool is_signed, uint64_t* out) {
    const Value* v = Member(obj, camel, snake);
    if (v == nullptr) return Status::Ok();
    if (v->IsUint64()) {
      *out = v->GetUint64();
      if (!is_signed || *out <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return Status::Ok();
    } else if (v->IsInt64() && is_signed) {
      *out = static_cast<uint64_t>(v->GetInt64());
      return Status::Ok();
    } else if (v->IsString()) {
      std::string_view s = View(*v);
      if (is_signed && !s.empty() && s[0] == '-') {
        int64_t x = 0;
        auto r = std::from_chars(s.data(), s.data() + s.size(), x);
        if (r.ec == std::errc() && r.ptr == s.data() + s.size()) {
          *out = static_cast<uint64_t>(x);
          return Status::Ok();
        }
      } else {
        uint64_t x = 0;
        auto r = std::from_chars(s.data(), s.data() + s.size(), x);
        if (r.ec == std::errc() && r.ptr == s.data() + s.size() && !s.empty() &&
            (!is_signed || x <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))) {
          *out = x;
          return Status::Ok();
        }
      }
    }
    return Bad(Field(where, camel), is_signed ? "expected a signed 64-bit integer (a number or a string of digits)"
                                              : "expected an unsigned 64-bit integer (a number or a string of digits)");
  }
  static Status Uint64(const Value& obj, const char* camel, const char* snake, const std::string& where,
                       uint64_t* out) {
    return Int64(obj, camel, snake, where, false, out);
  }
  static Status Int32(const Value& obj, const char* camel, const char* snake, const std::string& where, int32_t* out) {
    const Value* v = Member(obj, camel, snake);
    if (v == nullptr) return Status::Ok();
    if (v->IsInt()) {
      *out = v->GetInt();
      return Status::Ok();
    }
    if (v->IsString()) {
      std::string_view s = View(*v);
      int32_t x = 0;
      auto r = std::from_chars(s.data(), s.data() + s.size(), x);
      if (r.ec == std::errc() && r.ptr == s.data() + s.size() && !s.empty()) {
        *out = x;
        return Status::Ok();
      }
    }
    return Bad(Field(where, camel), "expected a 32-bit integer");
  }
  // A double: a number, or "NaN", "Infinity", "-Infinity" or a number in a string.
  static Status DoubleValue(const Value& v, const std::string& where, double* out) {
    if (v.IsNumber()) {
      *out = v.GetDouble();
      return Status::Ok();
    }
    if (v.IsString()) {
      std::string_view s = View(v);
      if (s == "NaN") *out = std::numeric_limits<double>::quiet_NaN();
      else if (s == "Infinity") *out = std::numeric_limits<double>::infinity();
      else if (s == "-Infinity") *out = -std::numeric_limits<double>::infinity();
      else {
        auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
        if (r.ec != std::errc() || r.ptr != s.data() + s.size() || s.empty()) {
          return Bad(where, "expected a number, \"NaN\", \"Infinity\" or \"-Infinity\"");
        }
      }
      return Status::Ok();
    }
    return Bad(where, "expected a number");
  }
  static Status Double(const Value& obj, const char* camel, const char* snake, const std::string& where, double* out,
                       bool* present = nullptr) {
    const Value* v = Member(obj, camel, snake);
    if (v == nullptr) return Status::Ok();
    if (present != nullptr) *present = true;
    return DoubleValue(*v, Field(where, camel), out);
  }
  static Status Uint32(const Value& obj, const char* camel, const char* snake, const std::string& where,
                       uint32_t* out) {
    uint64_t v = 0;
    TYTO_RETURN_IF_ERROR(Uint64(obj, camel, snake, where, &v));
    if (v > std::numeric_limits<uint32_t>::max()) return Bad(Field(where, camel), "expected a 32-bit unsigned integer");
    *out = static_cast<uint32_t>(v);
    return Status::Ok();
  }

  // AnyValue as a string (as_json false) or as a JSON value inside an array or map (true).
  Status AnyValue(const Value& v, const std::string& where, int depth, bool as_json, std::string* out) {
    if (depth > kMaxAnyValueDepth) {
      return Bad(where, "attribute value nested deeper than " + std::to_string(kMaxAnyValueDepth));
    }
    TYTO_RETURN_IF_ERROR(Object(v, where));
    if (const Value* s = Member(v, "stringValue", "string_value")) {
      if (!s->IsString()) return Bad(Field(where, "stringValue"), "expected a string");
      if (as_json) AppendJsonString(out, View(*s));
      else out->append(View(*s));
    } else if (const Value* b = Member(v, "boolValue", "bool_value")) {
      if (!b->IsBool()) return Bad(Field(where, "boolValue"), "expected true or false");
      *out += b->GetBool() ? "true" : "false";
    } else if (Member(v, "intValue", "int_value") != nullptr) {
      uint64_t i = 0;
      TYTO_RETURN_IF_ERROR(Int64(v, "intValue", "int_value", where, true, &i));
      *out += std::to_string(static_cast<int64_t>(i));
    } else if (const Value* d = Member(v, "doubleValue", "double_value")) {
      double x = 0;
      TYTO_RETURN_IF_ERROR(DoubleValue(*d, Field(where, "doubleValue"), &x));
      if (as_json && !std::isfinite(x)) AppendJsonString(out, FormatAttributeDouble(x));
      else *out += FormatAttributeDouble(x);
    } else if (const Value* bytes = Member(v, "bytesValue", "bytes_value")) {
      // Already base64 in proto3 JSON: the protobuf path writes bytes as base64 too.
      if (!bytes->IsString()) return Bad(Field(where, "bytesValue"), "expected a base64 string");
      if (as_json) AppendJsonString(out, View(*bytes));
      else out->append(View(*bytes));
    } else if (const Value* arr = Member(v, "arrayValue", "array_value")) {
      const std::string at = Field(where, "arrayValue");
      TYTO_RETURN_IF_ERROR(Object(*arr, at));
      const Value* values = nullptr;
      TYTO_RETURN_IF_ERROR(Array(*arr, "values", nullptr, at, &values));
      out->push_back('[');
      for (rapidjson::SizeType i = 0; values != nullptr && i < values->Size(); ++i) {
        if (i > 0) out->push_back(',');
        TYTO_RETURN_IF_ERROR(AnyValue((*values)[i], Index(at, "values", i), depth + 1, true, out));
      }
      out->push_back(']');
    } else if (const Value* kvl = Member(v, "kvlistValue", "kvlist_value")) {
      const std::string at = Field(where, "kvlistValue");
      TYTO_RETURN_IF_ERROR(Object(*kvl, at));
      const Value* values = nullptr;
      TYTO_RETURN_IF_ERROR(Array(*kvl, "values", nullptr, at, &values));
      out->push_back('{');
      for (rapidjson::SizeType i = 0; values != nullptr && i < values->Size(); ++i) {
        if (i > 0) out->push_back(',');
        const std::string kv_at = Index(at, "values", i);
        const Value& kv = (*values)[i];
        TYTO_RETURN_IF_ERROR(Object(kv, kv_at));
        std::string key;
        TYTO_RETURN_IF_ERROR(String(kv, "key", nullptr, kv_at, &key));
        AppendJsonString(out, key);
        out->push_back(':');
        if (const Value* val = Member(kv, "value")) {
          TYTO_RETURN_IF_ERROR(AnyValue(*val, Field(kv_at, "value"), depth + 1, true, out));
        } else {
          *out += "null";
        }
      }
      out->push_back('}');
    } else if (as_json) {
      *out += "null";
    }
    return Status::Ok();
  }

  Status Attributes(const Value& obj, const char* camel, const std::string& where, std::vector<Attribute>* out) {
    const Value* attrs = nullptr;
    TYTO_RETURN_IF_ERROR(Array(obj, camel, nullptr, where, &attrs));
    for (rapidjson::SizeType i = 0; attrs != nullptr && i < attrs->Size(); ++i) {
      const std::string at = Index(where, camel, i);
      const Value& kv = (*attrs)[i];
      TYTO_RETURN_IF_ERROR(Object(kv, at));
      Attribute a;
      TYTO_RETURN_IF_ERROR(String(kv, "key", nullptr, at, &a.key));
      if (const Value* val = Member(kv, "value")) {
        TYTO_RETURN_IF_ERROR(AnyValue(*val, Field(at, "value"), 0, false, &a.value));
      }
      out->push_back(std::move(a));
    }
    return Status::Ok();
  }

  Status Resource(const Value& v, const std::string& where, ResourceMetrics* out) {
    TYTO_RETURN_IF_ERROR(Object(v, where));
    if (const Value* res = Member(v, "resource")) {
      TYTO_RETURN_IF_ERROR(Object(*res, Field(where, "resource")));
      TYTO_RETURN_IF_ERROR(Attributes(*res, "attributes", Field(where, "resource"), &out->attributes));
    }
    const Value* scopes = nullptr;
    TYTO_RETURN_IF_ERROR(Array(v, "scopeMetrics", "scope_metrics", where, &scopes));
    for (rapidjson::SizeType i = 0; scopes != nullptr && i < scopes->Size(); ++i) {
      out->scopes.emplace_back();
      TYTO_RETURN_IF_ERROR(Scope((*scopes)[i], Index(where, "scopeMetrics", i), &out->scopes.back()));
    }
    return Status::Ok();
  }

  Status Scope(const Value& v, const std::string& where, ScopeMetrics* out) {
    TYTO_RETURN_IF_ERROR(Object(v, where));
    if (const Value* scope = Member(v, "scope")) {
      const std::string at = Field(where, "scope");
      TYTO_RETURN_IF_ERROR(Object(*scope, at));
      TYTO_RETURN_IF_ERROR(String(*scope, "name", nullptr, at, &out->name));
      TYTO_RETURN_IF_ERROR(String(*scope, "version", nullptr, at, &out->version));
    }
    const Value* metrics = nullptr;
    TYTO_RETURN_IF_ERROR(Array(v, "metrics", nullptr, where, &metrics));
    for (rapidjson::SizeType i = 0; metrics != nullptr && i < metrics->Size(); ++i) {
      out->metrics.emplace_back();
      TYTO_RETURN_IF_ERROR(MetricValue((*metrics)[i], Index(where, "metrics", i), &out->metrics.back()));
    }
    return Status::Ok();
  }

  Status MetricValue(const Value& v, const std::string& where, Metric* out) {
    TYTO_RETURN_IF_ERROR(Object(v, where));
    TYTO_RETURN_IF_ERROR(String(v, "name", nullptr, where, &out->name));
    TYTO_RETURN_IF_ERROR(String(v, "unit", nullptr, where, &out->unit));
    static constexpr struct {
      const char* camel;
      const char* snake;
      MetricType type;
    } kKinds[] = {{"gauge", nullptr, MetricType::kGauge},
                  {"sum", nullptr, MetricType::kSum},
                  {"histogram", nullptr, MetricType::kHistogram},
                  {"exponentialHistogram", "exponential_histogram", MetricType::kExponentialHistogram},
                  {"summary", nullptr, MetricType::kSummary}};
    for (const auto& kind : kKinds) {
      const Value* data = Member(v, kind.camel, kind.snake);
      if (data == nullptr) continue;
      if (out->type != MetricType::kNone) return Bad(where, "more than one of gauge, sum, histogram, exponentialHistogram, summary");
      out->type = kind.type;
      const std::string at = Field(where, kind.camel);
      TYTO_RETURN_IF_ERROR(Object(*data, at));
      if (kind.type != MetricType::kGauge && kind.type != MetricType::kSummary) {
        TYTO_RETURN_IF_ERROR(TemporalityValue(*data, at, &out->temporality));
      }
      if (kind.type == MetricType::kSum) {
        if (const Value* mono = Member(*data, "isMonotonic", "is_monotonic")) {
          if (!mono->IsBool()) return Bad(Field(at, "isMonotonic"), "expected true or false");
          out->monotonic = mono->GetBool();
        }
      }
      const Value* points = nullptr;
      TYTO_RETURN_IF_ERROR(Array(*data, "dataPoints", "data_points", at, &points));
      for (rapidjson::SizeType i = 0; points != nullptr && i < points->Size(); ++i) {
        out->points.emplace_back();
        TYTO_RETURN_IF_ERROR(Point((*points)[i], Index(at, "dataPoints", i), kind.type, &out->points.back()));
      }
    }
    return Status::Ok();
  }

  static Status TemporalityValue(const Value& data, const std::string& where, Temporality* out) {
    const Value* t = Member(data, "aggregationTemporality", "aggregation_temporality");
    if (t == nullptr) return Status::Ok();
    if (t->IsInt()) {
      const int v = t->GetInt();
      *out = v == 1 ? Temporality::kDelta : v == 2 ? Temporality::kCumulative : Temporality::kUnspecified;
      return Status::Ok();
    }
    if (t->IsString()) {
      const std::string_view s = View(*t);
      if (s == "AGGREGATION_TEMPORALITY_DELTA") *out = Temporality::kDelta;
      else if (s == "AGGREGATION_TEMPORALITY_CUMULATIVE") *out = Temporality::kCumulative;
      else if (s == "AGGREGATION_TEMPORALITY_UNSPECIFIED") *out = Temporality::kUnspecified;
      else return Bad(Field(where, "aggregationTemporality"), "unknown value \"" + std::string(s.substr(0, 64)) + "\"");
      return Status::Ok();
    }
    return Bad(Field(where, "aggregationTemporality"), "expected an integer (1 delta, 2 cumulative)");
  }

  static Status Counts(const Value& obj, const char* camel, const char* snake, const std::string& where,
                       std::vector<uint64_t>* out) {
    const Value* arr = nullptr;
    TYTO_RETURN_IF_ERROR(Array(obj, camel, snake, where, &arr));
    for (rapidjson::SizeType i = 0; arr != nullptr && i < arr->Size(); ++i) {
      // Each element through the same rules as a single field: wrap it in a one-member view.
      const Value& e = (*arr)[i];
      uint64_t v = 0;
      if (e.IsUint64()) {
        v = e.GetUint64();
      } else if (e.IsString()) {
        std::string_view s = View(e);
        auto r = std::from_chars(s.data(), s.data() + s.size(), v);
        if (r.ec != std::errc() || r.ptr != s.data() + s.size() || s.empty()) {
          return Bad(Index(where, camel, i), "expected an unsigned 64-bit integer (a number or a string of digits)");
        }
      } else {
        return Bad(Index(where, camel, i), "expected an unsigned 64-bit integer (a number or a string of digits)");
      }
      out->push_back(v);
    }
    return Status::Ok();
  }

  Status Point(const Value& v, const std::string& where, MetricType type, DataPoint* p) {
    TYTO_RETURN_IF_ERROR(Object(v, where));
    TYTO_RETURN_IF_ERROR(Attributes(v, "attributes", where, &p->attributes));
    TYTO_RETURN_IF_ERROR(Uint64(v, "startTimeUnixNano", "start_time_unix_nano", where, &p->start_time_unix_nano));
    TYTO_RETURN_IF_ERROR(Uint64(v, "timeUnixNano", "time_unix_nano", where, &p->time_unix_nano));
    TYTO_RETURN_IF_ERROR(Uint32(v, "flags", nullptr, where, &p->flags));
    switch (type) {
      case MetricType::kGauge:
      case MetricType::kSum:
        if (Member(v, "asInt", "as_int") != nullptr) {
          uint64_t i = 0;
          TYTO_RETURN_IF_ERROR(Int64(v, "asInt", "as_int", where, true, &i));
          p->value = static_cast<double>(static_cast<int64_t>(i));
        } else {
          TYTO_RETURN_IF_ERROR(Double(v, "asDouble", "as_double", where, &p->value));
        }
        break;
      case MetricType::kHistogram: {
        TYTO_RETURN_IF_ERROR(Uint64(v, "count", nullptr, where, &p->count));
        TYTO_RETURN_IF_ERROR(Double(v, "sum", nullptr, where, &p->sum, &p->has_sum));
        TYTO_RETURN_IF_ERROR(Counts(v, "bucketCounts", "bucket_counts", where, &p->bucket_counts));
        const Value* bounds = nullptr;
        TYTO_RETURN_IF_ERROR(Array(v, "explicitBounds", "explicit_bounds", where, &bounds));
        for (rapidjson::SizeType i = 0; bounds != nullptr && i < bounds->Size(); ++i) {
          double b = 0;
          TYTO_RETURN_IF_ERROR(DoubleValue((*bounds)[i], Index(where, "explicitBounds", i), &b));
          p->explicit_bounds.push_back(b);
        }
        break;
      }
      case MetricType::kExponentialHistogram:
        TYTO_RETURN_IF_ERROR(Uint64(v, "count", nullptr, where, &p->count));
        TYTO_RETURN_IF_ERROR(Double(v, "sum", nullptr, where, &p->sum, &p->has_sum));
        TYTO_RETURN_IF_ERROR(Int32(v, "scale", nullptr, where, &p->scale));
        TYTO_RETURN_IF_ERROR(Uint64(v, "zeroCount", "zero_count", where, &p->zero_count));
        TYTO_RETURN_IF_ERROR(Double(v, "zeroThreshold", "zero_threshold", where, &p->zero_threshold));
        for (const bool pos : {true, false}) {
          const char* name = pos ? "positive" : "negative";
          const Value* b = Member(v, name);
          if (b == nullptr) continue;
          const std::string at = Field(where, name);
          TYTO_RETURN_IF_ERROR(Object(*b, at));
          TYTO_RETURN_IF_ERROR(Int32(*b, "offset", nullptr, at, pos ? &p->positive_offset : &p->negative_offset));
          TYTO_RETURN_IF_ERROR(Counts(*b, "bucketCounts", "bucket_counts", at, pos ? &p->positive : &p->negative));
        }
        break;
      case MetricType::kSummary: {
        TYTO_RETURN_IF_ERROR(Uint64(v, "count", nullptr, where, &p->count));
        TYTO_RETURN_IF_ERROR(Double(v, "sum", nullptr, where, &p->sum, &p->has_sum));
        const Value* qs = nullptr;
        TYTO_RETURN_IF_ERROR(Array(v, "quantileValues", "quantile_values", where, &qs));
        for (rapidjson::SizeType i = 0; qs != nullptr && i < qs->Size(); ++i) {
          const std::string at = Index(where, "quantileValues", i);
          TYTO_RETURN_IF_ERROR(Object((*qs)[i], at));
          std::pair<double, double> q{0, 0};
          TYTO_RETURN_IF_ERROR(Double((*qs)[i], "quantile", nullptr, at, &q.first));
          TYTO_RETURN_IF_ERROR(Double((*qs)[i], "value", nullptr, at, &q.second));
          p->quantiles.push_back(q);
        }
        break;
      }
      case MetricType::kNone: break;
    }
    return Status::Ok();
  }
};

std::string WriteJson(const std::function<void(rapidjson::Writer<rapidjson::StringBuffer>&)>& fill) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  fill(w);
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace

Status DecodeJson(std::string_view body, MetricsRequest* out) {
  *out = MetricsRequest();
  rapidjson::Document doc;
  // Iterative: a deeply nested body cannot exhaust the stack. Encoding validated: label values
  // must be UTF-8.
  constexpr unsigned kFlags = rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;
  doc.Parse<kFlags>(body.data(), body.size());
  if (doc.HasParseError()) {
    return InvalidArgument("invalid JSON at byte " + std::to_string(doc.GetErrorOffset()) + ": " +
                           rapidjson::GetParseError_En(doc.GetParseError()));
  }
  Decoder d;
  return d.Request(doc, out);
}

std::string EncodeResponseJson(int64_t rejected_data_points, std::string_view error_message) {
  return WriteJson([&](rapidjson::Writer<rapidjson::StringBuffer>& w) {
    w.StartObject();
    if (rejected_data_points > 0 || !error_message.empty()) {
      w.Key("partialSuccess");
      w.StartObject();
      w.Key("rejectedDataPoints");
      w.String(std::to_string(rejected_data_points).c_str());  // int64: a string in proto3 JSON
      w.Key("errorMessage");
      w.String(error_message.data(), static_cast<rapidjson::SizeType>(error_message.size()));
      w.EndObject();
    }
    w.EndObject();
  });
}

std::string EncodeStatusJson(int32_t grpc_code, std::string_view message) {
  return WriteJson([&](rapidjson::Writer<rapidjson::StringBuffer>& w) {
    w.StartObject();
    w.Key("code");
    w.Int(grpc_code);
    w.Key("message");
    w.String(message.data(), static_cast<rapidjson::SizeType>(message.size()));
    w.EndObject();
  });
}

}  // namespace tyto::ingest::otlp
