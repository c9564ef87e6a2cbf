// ExportMetricsServiceRequest from the protobuf wire format, read by hand (otlp_metrics.h lists
// the fields), and the response messages written by hand.
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "common/coding.h"
#include "ingest/otlp_anyvalue.h"
#include "ingest/otlp_metrics.h"
#include "ingest/protobuf_wire.h"

namespace tyto::ingest::otlp {
namespace {

class Decoder : public ProtoDecoder {
 public:
  Decoder() : ProtoDecoder("ExportMetricsServiceRequest") {}

  Status Decode(std::string_view body, MetricsRequest* out) {
    ProtoReader r(body);
    while (r.Next()) {
      if (r.field() != 1) continue;
      FieldPath::Scoped s(&path_, "resource_metrics", static_cast<int64_t>(out->resources.size()));
      ProtoReader sub("");
      if (!r.ReadMessage(&sub)) {
        Fail("", r.status());
        return status_;
      }
      out->resources.emplace_back();
      if (!ResourceMetricsMsg(sub, &out->resources.back())) return status_;
    }
    if (!r.ok()) Fail("", r.status());
    return status_;
  }

 private:
  bool Sint32(ProtoReader& r, std::string_view field, int32_t* v) {
    uint64_t raw = 0;
    if (!Varint(r, field, &raw)) return false;
    const int64_t x = coding::UnZigZag(raw);
    if (x < INT32_MIN || x > INT32_MAX) return FailAt(field, r, "sint32 value " + std::to_string(x) + " out of range");
    *v = static_cast<int32_t>(x);
    return true;
  }
  // A repeated fixed64 (or double) field, packed or not.
  bool Fixed64s(ProtoReader& r, std::string_view field, std::vector<uint64_t>* out) {
    if (r.wire_type() != WireType::kLengthDelimited) {
      uint64_t v = 0;
      if (!Fixed64(r, field, &v)) return false;
      out->push_back(v);
      return true;
    }
    std::string_view packed;
    if (!r.ReadBytes(&packed)) return Fail(field, r.status());
    if (packed.size() % 8 != 0) {
      return FailAt(field, r, "packed fixed64 values of " + std::to_string(packed.size()) + " bytes, not a multiple of 8");
    }
    for (size_t i = 0; i < packed.size(); i += 8) out->push_back(coding::DecodeFixed64(packed.data() + i));
    return true;
  }
  bool Doubles(ProtoReader& r, std::string_view field, std::vector<double>* out) {
    std::vector<uint64_t> bits;
    if (!Fixed64s(r, field, &bits)) return false;
    for (uint64_t b : bits) {
      double d = 0;
      std::memcpy(&d, &b, sizeof d);
      out->push_back(d);
    }
    return true;
  }
  // A repeated uint64 field (varints), packed or not.
  bool Varints(ProtoReader& r, std::string_view field, std::vector<uint64_t>* out) {
    if (r.wire_type() != WireType::kLengthDelimited) {
      uint64_t v = 0;
      if (!Varint(r, field, &v)) return false;
      out->push_back(v);
      return true;
    }
    std::string_view packed;
    if (!r.ReadBytes(&packed)) return Fail(field, r.status());
    const char* p = packed.data();
    const char* end = p + packed.size();
    while (p != end) {
      uint64_t v = 0;
      p = coding::GetVarint64(p, end, &v);
      if (p == nullptr) return FailAt(field, r, "truncated or over-long varint in packed values");
      out->push_back(v);
    }
    return true;
  }

  bool Attributes(ProtoReader& r, std::string_view field, std::vector<Attribute>* out) {
    return Message(r, field, static_cast<int64_t>(out->size()), [&](ProtoReader& kv) {
      Attribute a;
      while (kv.Next()) {
        if (kv.field() == 1) {
          if (!String(kv, "key", &a.key)) return false;
        } else if (kv.field() == 2) {
          a.value.clear();
          if (!Message(kv, "value", -1, [&](ProtoReader& v) { return AnyValue(v, &a.value); })) return false;
        }
      }
      out->push_back(std::move(a));
      return true;
    });
  }

  bool ResourceMetricsMsg(ProtoReader r, ResourceMetrics* out) {
    while (r.Next()) {
      if (r.field() == 1) {
        if (!Message(r, "resource", -1, [&](ProtoReader& res) {
              while (res.Next()) {
                if (res.field() == 1 && !Attributes(res, "attributes", &out->attributes)) return false;
              }
              return true;
            })) {
          return false;
        }
      } else if (r.field() == 2) {
        out->scopes.emplace_back();
        if (!Message(r, "scope_metrics", static_cast<int64_t>(out->scopes.size() - 1),
                     [&](ProtoReader& sm) { return ScopeMetricsMsg(sm, &out->scopes.back()); })) {
          return false;
        }
      }
    }
    return r.ok() || Fail("", r.status());
  }

  bool ScopeMetricsMsg(ProtoReader& r, ScopeMetrics* out) {
    while (r.Next()) {
      if (r.field() == 1) {
        if (!Message(r, "scope", -1, [&](ProtoReader& scope) {
              while (scope.Next()) {
                if (scope.field() == 1 && !String(scope, "name", &out->name)) return false;
                if (scope.field() == 2 && !String(scope, "version", &out->version)) return false;
              }
              return true;
            })) {
          return false;
        }
      } else if (r.field() == 2) {
        out->metrics.emplace_back();
        if (!Message(r, "metrics", static_cast<int64_t>(out->metrics.size() - 1),
                     [&](ProtoReader& m) { return MetricMsg(m, &out->metrics.back()); })) {
          return false;
        }
      }
    }
    return true;
  }

  bool MetricMsg(ProtoReader& r, Metric* out) {
    while (r.Next()) {
      switch (r.field()) {
        case 1:
          if (!String(r, "name", &out->name)) return false;
          break;
        case 3:
          if (!String(r, "unit", &out->unit)) return false;
          break;
        case 5:
          if (!Data(r, "gauge", MetricType::kGauge, out)) return false;
          break;
        case 7:
          if (!Data(r, "sum", MetricType::kSum, out)) return false;
          break;
        case 9:
          if (!Data(r, "histogram", MetricType::kHistogram, out)) return false;
          break;
        case 10:
          if (!Data(r, "exponential_histogram", MetricType::kExponentialHistogram, out)) return false;
          break;
        case 11:
          if (!Data(r, "summary", MetricType::kSummary, out)) return false;
          break;
        default: break;
      }
    }
    return true;
  }

  // Gauge, Sum, Histogram, ExponentialHistogram or Summary.
  bool Data(ProtoReader& r, std::string_view field, MetricType type, Metric* out) {
    out->type = type;
    out->points.clear();
    out->temporality = Temporality::kUnspecified;
    out->monotonic = false;
    return Message(r, field, -1, [&](ProtoReader& d) {
      while (d.Next()) {
        if (d.field() == 1) {
          out->points.emplace_back();
          DataPoint* p = &out->points.back();
          if (!Message(d, "data_points", static_cast<int64_t>(out->points.size() - 1),
                       [&](ProtoReader& dp) { return Point(dp, type, p); })) {
            return false;
          }
        } else if (d.field() == 2 && type != MetricType::kGauge && type != MetricType::kSummary) {
          uint64_t v = 0;
          if (!Varint(d, "aggregation_temporality", &v)) return false;
          out->temporality = v == 1 ? Temporality::kDelta : v == 2 ? Temporality::kCumulative : Temporality::kUnspecified;
        } else if (d.field() == 3 && type == MetricType::kSum) {
          uint64_t v = 0;
          if (!Varint(d, "is_monotonic", &v)) return false;
          out->monotonic = v != 0;
        }
      }
      return true;
    });
  }

  bool Point(ProtoReader& r, MetricType type, DataPoint* p) {
    // Field numbers differ between the point types; 2 and 3 (the times) are common.
    uint32_t attributes_field = 7, flags_field = 8;
    if (type == MetricType::kHistogram) attributes_field = 9, flags_field = 10;
    if (type == MetricType::kExponentialHistogram) attributes_field = 1, flags_field = 10;
    while (r.Next()) {
      const uint32_t f = r.field();
      if (f == attributes_field) {
        if (!Attributes(r, "attributes", &p->attributes)) return false;
      } else if (f == flags_field) {
        uint64_t v = 0;
        if (!Varint(r, "flags", &v)) return false;
        p->flags = static_cast<uint32_t>(v);
      } else if (f == 2) {
        if (!Fixed64(r, "start_time_unix_nano", &p->start_time_unix_nano)) return false;
      } else if (f == 3) {
        if (!Fixed64(r, "time_unix_nano", &p->time_unix_nano)) return false;
      } else if (type == MetricType::kGauge || type == MetricType::kSum) {
        if (f == 4) {
          if (!Double(r, "as_double", &p->value)) return false;
        } else if (f == 6) {
          uint64_t v = 0;
          if (!Fixed64(r, "as_int", &v)) return false;
          p->value = static_cast<double>(static_cast<int64_t>(v));
        }
      } else if (f == 4) {
        if (!Fixed64(r, "count", &p->count)) return false;
      } else if (f == 5) {
        if (!Double(r, "sum", &p->sum)) return false;
        p->has_sum = true;
      } else if (type == MetricType::kHistogram) {
        if (f == 6 && !Fixed64s(r, "bucket_counts", &p->bucket_counts)) return false;
        if (f == 7 && !Doubles(r, "explicit_bounds", &p->explicit_bounds)) return false;
      } else if (type == MetricType::kExponentialHistogram) {
        if (f == 6 && !Sint32(r, "scale", &p->scale)) return false;
        if (f == 7 && !Fixed64(r, "zero_count", &p->zero_count)) return false;
        if (f == 14 && !Double(r, "zero_threshold", &p->zero_threshold)) return false;
        if (f == 8 || f == 9) {
          const bool pos = f == 8;
          int32_t* offset = pos ? &p->positive_offset : &p->negative_offset;
          std::vector<uint64_t>* counts = pos ? &p->positive : &p->negative;
          *offset = 0;
          counts->clear();
          if (!Message(r, pos ? "positive" : "negative", -1, [&](ProtoReader& b) {
                while (b.Next()) {
                  if (b.field() == 1 && !Sint32(b, "offset", offset)) return false;
                  if (b.field() == 2 && !Varints(b, "bucket_counts", counts)) return false;
                }
                return true;
              })) {
            return false;
          }
        }
      } else if (type == MetricType::kSummary && f == 6) {
        std::pair<double, double> q{0, 0};
        if (!Message(r, "quantile_values", static_cast<int64_t>(p->quantiles.size()), [&](ProtoReader& vq) {
              while (vq.Next()) {
                if (vq.field() == 1 && !Double(vq, "quantile", &q.first)) return false;
                if (vq.field() == 2 && !Double(vq, "value", &q.second)) return false;
              }
              return true;
            })) {
          return false;
        }
        p->quantiles.push_back(q);
      }
    }
    return true;
  }

};

void PutKey(std::string* out, uint32_t field, uint32_t wire_type) {
  coding::PutVarint64(out, (static_cast<uint64_t>(field) << 3) | wire_type);
}

}  // namespace

Status DecodeProtobuf(std::string_view body, MetricsRequest* out) {
  *out = MetricsRequest();
  Decoder d;
  return d.Decode(body, out);
}

std::string EncodeResponseProtobuf(int64_t rejected_data_points, std::string_view error_message) {
  std::string out;
  if (rejected_data_points <= 0 && error_message.empty()) return out;
  std::string partial;
  if (rejected_data_points > 0) {
    PutKey(&partial, 1, 0);
    coding::PutVarint64(&partial, static_cast<uint64_t>(rejected_data_points));
  }
  if (!error_message.empty()) {
    PutKey(&partial, 2, 2);
    coding::PutLengthPrefixed(&partial, error_message);
  }
  PutKey(&out, 1, 2);
  coding::PutLengthPrefixed(&out, partial);
  return out;
}

std::string EncodeStatusProtobuf(int32_t grpc_code, std::string_view message) {
  std::string out;
  PutKey(&out, 1, 0);
  coding::PutVarint64(&out, static_cast<uint64_t>(static_cast<int64_t>(grpc_code)));
  PutKey(&out, 2, 2);
  coding::PutLengthPrefixed(&out, message);
  return out;
}

}  // namespace tyto::ingest::otlp
