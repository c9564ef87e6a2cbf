// ExportMetricsServiceRequest from OTLP's JSON mapping (the proto3 JSON mapping with OTLP's
// exceptions: trace and span ids in hex, which Tyto does not read, and enums as integers), and
// the JSON response bodies. RapidJSON stays in this file and otlp_anyvalue.cc (attribute values and
// the JSON mapping's scalars, shared with the traces and logs decoders).
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <charconv>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "ingest/otlp_anyvalue.h"
#include "ingest/otlp_metrics.h"

namespace tyto::ingest::otlp {
namespace {

using rapidjson::Value;

using json::Array;
using json::Double;
using json::DoubleValue;
using json::Field;
using json::Index;
using json::Int32;
using json::Int64;
using json::Member;
using json::Object;
using json::String;
using json::Uint32;
using json::Uint64;
using json::View;

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
        TYTO_RETURN_IF_ERROR(json::AppendAnyValue(*val, Field(at, "value"), &a.value));
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
