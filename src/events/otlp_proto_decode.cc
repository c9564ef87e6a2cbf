// ExportTraceServiceRequest and ExportLogsServiceRequest from the protobuf wire format, read by
// hand (otlp_decode.h lists the fields), and their response messages.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "events/ids.h"
#include "events/otlp_common.h"
#include "events/otlp_decode.h"
#include "ingest/otlp_anyvalue.h"
#include "ingest/otlp_metrics.h"
#include "ingest/protobuf_wire.h"

namespace tyto::events {
namespace {

using ingest::ProtoReader;
using ingest::otlp::FieldPath;

// What the traces and logs decoders share: attributes under the limits, and a resource.
class Decoder : public ingest::otlp::ProtoDecoder {
 protected:
  Decoder(std::string_view root, const DecodeLimits& limits, DecodeStats* stats)
      : ProtoDecoder(root), limits_(limits), stats_(stats) {}

  // One KeyValue of a repeated attributes field, added under the limits; past max_attributes the
  // field is skipped unread.
  bool Attributes(ProtoReader& r, std::string_view field, std::vector<Attribute>* out) {
    if (out->size() >= limits_.max_attributes) {
      ++stats_->attributes_dropped;
      return true;
    }
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
      AddAttribute(out, std::move(a), limits_, stats_);
      return true;
    });
  }
  bool Resource(ProtoReader& r, std::vector<Attribute>* out) {
    return Message(r, "resource", -1, [&](ProtoReader& res) {
      while (res.Next()) {
        if (res.field() == 1 && !Attributes(res, "attributes", out)) return false;
      }
      return true;
    });
  }
  bool ScopeName(ProtoReader& r, std::string* out) {
    return Message(r, "scope", -1, [&](ProtoReader& scope) {
      while (scope.Next()) {
        if (scope.field() == 1 && !String(scope, "name", out)) return false;
      }
      return true;
    });
  }
  // A short text field (a name, a status message, a severity text): repaired if it is not UTF-8,
  // cut at max_attribute_value_bytes.
  bool Text(ProtoReader& r, std::string_view field, std::string* out) {
    if (!String(r, field, out)) return false;
    LimitText(out, limits_, stats_);
    return true;
  }

  const DecodeLimits& limits_;
  DecodeStats* stats_;
  size_t decoded_bytes_ = 0;
};

class TracesDecoder : public Decoder {
 public:
  TracesDecoder(const DecodeLimits& limits, DecodedSpans* out)
      : Decoder("ExportTraceServiceRequest", limits, &out->stats), out_(out) {}

  Status Decode(std::string_view body) {
    ProtoReader r(body);
    int64_t i = 0;
    while (r.Next()) {
      if (r.field() != 1) continue;
      if (!Message(r, "resource_spans", i++, [&](ProtoReader& rs) { return ResourceSpans(rs); })) return status_;
    }
    if (!r.ok()) Fail("", r.status());
    return status_;
  }

 private:
  bool ResourceSpans(ProtoReader& r) {
    std::vector<Attribute> resource;
    std::vector<Span> spans;
    int64_t i = 0;
    while (r.Next()) {
      if (r.field() == 1) {
        if (!Resource(r, &resource)) return false;
      } else if (r.field() == 2) {
        if (!Message(r, "scope_spans", i++, [&](ProtoReader& ss) { return ScopeSpans(ss, &spans); })) return false;
      }
    }
    // The resource may come after the spans: they get it once the message is read.
    Flush(&spans, resource, path_.ToString(""), limits_, &decoded_bytes_, &out_->spans, out_);
    return true;
  }

  bool ScopeSpans(ProtoReader& r, std::vector<Span>* spans) {
    const size_t first = spans->size();
    std::string scope;
    int64_t i = 0;
    while (r.Next()) {
      if (r.field() == 1) {
        if (!ScopeName(r, &scope)) return false;
      } else if (r.field() == 2) {
        Span span;
        bool valid = true;
        if (!Message(r, "spans", i++, [&](ProtoReader& sp) { return SpanMsg(sp, &span, &valid); })) return false;
        if (valid) spans->push_back(std::move(span));
      }
    }
    LimitText(&scope, limits_, stats_);
    for (size_t k = first; k < spans->size(); ++k) (*spans)[k].scope_name = scope;
    return true;
  }

  // Reads one Span; *valid is false (and the span rejected) when its ids or times are not usable.
  bool SpanMsg(ProtoReader& r, Span* span, bool* valid) {
    std::string_view trace_id, span_id, parent_span_id;
    uint64_t start = 0, end = 0;
    while (r.Next()) {
      switch (r.field()) {
        case 1:
          if (!Bytes(r, "trace_id", &trace_id)) return false;
          break;
        case 2:
          if (!Bytes(r, "span_id", &span_id)) return false;
          break;
        case 4:
          if (!Bytes(r, "parent_span_id", &parent_span_id)) return false;
          break;
        case 5:
          if (!Text(r, "name", &span->name)) return false;
          break;
        case 6: {
          uint64_t kind = 0;
          if (!Varint(r, "kind", &kind)) return false;
          span->kind = kind <= 5 ? static_cast<SpanKind>(kind) : SpanKind::kUnspecified;
          break;
        }
        case 7:
          if (!Fixed64(r, "start_time_unix_nano", &start)) return false;
          break;
        case 8:
          if (!Fixed64(r, "end_time_unix_nano", &end)) return false;
          break;
        case 9:
          if (!Attributes(r, "attributes", &span->attributes)) return false;
          break;
        case 11:
          if (span->events.size() >= limits_.max_span_events) {
            ++stats_->span_events_dropped;
            break;
          }
          if (!Message(r, "events", static_cast<int64_t>(span->events.size()),
                       [&](ProtoReader& e) { return EventMsg(e, span); })) {
            return false;
          }
          break;
        case 15:
          if (!Message(r, "status", -1, [&](ProtoReader& st) { return StatusMsg(st, span); })) return false;
          break;
        default:
          break;
      }
    }
    if (!r.ok()) return Fail("", r.status());
    const std::string where = path_.ToString("");
    std::string what = RequiredId("trace_id", HexIdFromBytes(trace_id, kTraceIdBytes, &span->trace_id), span->trace_id);
    if (what.empty())
      what = RequiredId("span_id", HexIdFromBytes(span_id, kSpanIdBytes, &span->span_id), span->span_id);
    if (what.empty() && !parent_span_id.empty()) {
      what = OptionalId("parent_span_id", HexIdFromBytes(parent_span_id, kSpanIdBytes, &span->parent_span_id),
                        &span->parent_span_id);
    }
    if (what.empty() && !TimeFits(start)) what = "start_time_unix_nano " + std::to_string(start) + " is after 2262";
    if (what.empty() && !TimeFits(end)) what = "end_time_unix_nano " + std::to_string(end) + " is after 2262";
    if (!what.empty()) {
      Reject(out_, DescribeSpan(where, span->name) + ": " + what);
      *valid = false;
      return true;
    }
    span->start_unix_nano = static_cast<int64_t>(start);
    span->end_unix_nano = static_cast<int64_t>(end);
    return true;
  }

  bool EventMsg(ProtoReader& r, Span* span) {
    SpanEvent e;
    uint64_t time = 0;
    while (r.Next()) {
      if (r.field() == 1) {
        if (!Fixed64(r, "time_unix_nano", &time)) return false;
      } else if (r.field() == 2) {
        if (!Text(r, "name", &e.name)) return false;
      } else if (r.field() == 3) {
        if (!Attributes(r, "attributes", &e.attributes)) return false;
      }
    }
    // A time past 2262 on an event is not worth losing the span over: it reads as unknown (0).
    e.time_unix_nano = TimeFits(time) ? static_cast<int64_t>(time) : 0;
    span->events.push_back(std::move(e));
    return true;
  }

  bool StatusMsg(ProtoReader& r, Span* span) {
    while (r.Next()) {
      if (r.field() == 2) {
        if (!Text(r, "message", &span->status_message)) return false;
      } else if (r.field() == 3) {
        uint64_t code = 0;
        if (!Varint(r, "code", &code)) return false;
        span->status = code <= 2 ? static_cast<StatusCode>(code) : StatusCode::kUnset;
      }
    }
    return true;
  }

  DecodedSpans* out_;
};

class LogsDecoder : public Decoder {
 public:
  LogsDecoder(const DecodeLimits& limits, DecodedLogs* out)
      : Decoder("ExportLogsServiceRequest", limits, &out->stats), out_(out) {}

  Status Decode(std::string_view body) {
    ProtoReader r(body);
    int64_t i = 0;
    while (r.Next()) {
      if (r.field() != 1) continue;
      if (!Message(r, "resource_logs", i++, [&](ProtoReader& rl) { return ResourceLogs(rl); })) return status_;
    }
    if (!r.ok()) Fail("", r.status());
    return status_;
  }

 private:
  bool ResourceLogs(ProtoReader& r) {
    std::vector<Attribute> resource;
    std::vector<LogRecord> records;
    int64_t i = 0;
    while (r.Next()) {
      if (r.field() == 1) {
        if (!Resource(r, &resource)) return false;
      } else if (r.field() == 2) {
        if (!Message(r, "scope_logs", i++, [&](ProtoReader& sl) { return ScopeLogs(sl, &records); })) return false;
      }
    }
    Flush(&records, resource, path_.ToString(""), limits_, &decoded_bytes_, &out_->records, out_);
    return true;
  }

  bool ScopeLogs(ProtoReader& r, std::vector<LogRecord>* records) {
    int64_t i = 0;
    while (r.Next()) {
      if (r.field() != 2) continue;  // the scope (1) is not kept for logs
      LogRecord rec;
      bool valid = true;
      if (!Message(r, "log_records", i++, [&](ProtoReader& lr) { return LogRecordMsg(lr, &rec, &valid); })) {
        return false;
      }
      if (valid) records->push_back(std::move(rec));
    }
    return true;
  }

  bool LogRecordMsg(ProtoReader& r, LogRecord* rec, bool* valid) {
    std::string_view trace_id, span_id;
    uint64_t time = 0, observed = 0;
    while (r.Next()) {
      switch (r.field()) {
        case 1:
          if (!Fixed64(r, "time_unix_nano", &time)) return false;
          break;
        case 11:
          if (!Fixed64(r, "observed_time_unix_nano", &observed)) return false;
          break;
        case 2: {
          uint64_t v = 0;
          if (!Varint(r, "severity_number", &v)) return false;
          // An enum is an int32 on the wire (negative values sign-extended to 64 bits).
          rec->severity_number = static_cast<int32_t>(static_cast<int64_t>(v));
          break;
        }
        case 3:
          if (!Text(r, "severity_text", &rec->severity_text)) return false;
          break;
        case 5:
          rec->body.clear();
          if (!Message(r, "body", -1, [&](ProtoReader& v) { return AnyValue(v, &rec->body); })) return false;
          break;
        case 6:
          if (!Attributes(r, "attributes", &rec->attributes)) return false;
          break;
        case 9:
          if (!Bytes(r, "trace_id", &trace_id)) return false;
          break;
        case 10:
          if (!Bytes(r, "span_id", &span_id)) return false;
          break;
        default:
          break;
      }
    }
    if (!r.ok()) return Fail("", r.status());
    LimitContent(&rec->body, limits_, stats_);
    std::string what;
    if (!trace_id.empty()) {
      what = OptionalId("trace_id", HexIdFromBytes(trace_id, kTraceIdBytes, &rec->trace_id), &rec->trace_id);
    }
    if (what.empty() && !span_id.empty()) {
      what = OptionalId("span_id", HexIdFromBytes(span_id, kSpanIdBytes, &rec->span_id), &rec->span_id);
    }
    const uint64_t t = time != 0 ? time : observed;
    if (what.empty() && !TimeFits(t)) what = "time_unix_nano " + std::to_string(t) + " is after 2262";
    if (!what.empty()) {
      Reject(out_, path_.ToString("") + ": " + what);
      *valid = false;
      return true;
    }
    rec->time_unix_nano = static_cast<int64_t>(t);
    return true;
  }

  DecodedLogs* out_;
};

}  // namespace

Status DecodeTracesProtobuf(std::string_view body, const DecodeLimits& limits, DecodedSpans* out) {
  *out = DecodedSpans();
  TracesDecoder d(limits, out);
  Status st = d.Decode(body);
  if (!st.ok()) *out = DecodedSpans();
  return st;
}

Status DecodeLogsProtobuf(std::string_view body, const DecodeLimits& limits, DecodedLogs* out) {
  *out = DecodedLogs();
  LogsDecoder d(limits, out);
  Status st = d.Decode(body);
  if (!st.ok()) *out = DecodedLogs();
  return st;
}

// The three Export*ServiceResponse messages share one layout: field 1 partial_success {1 rejected
// count (int64), 2 error_message}; ingest writes it for metrics.
std::string EncodeTracesResponseProtobuf(int64_t rejected_spans, std::string_view error_message) {
  return ingest::otlp::EncodeResponseProtobuf(rejected_spans, error_message);
}

std::string EncodeLogsResponseProtobuf(int64_t rejected_log_records, std::string_view error_message) {
  return ingest::otlp::EncodeResponseProtobuf(rejected_log_records, error_message);
}

}  // namespace tyto::events
