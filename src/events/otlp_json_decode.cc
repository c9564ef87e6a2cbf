// ExportTraceServiceRequest and ExportLogsServiceRequest from OTLP's JSON mapping (otlp_decode.h
// lists the fields), and the JSON response bodies. The scalar readers and AnyValue are ingest's
// (ingest/otlp_anyvalue.h), shared with the metrics decoder.
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "events/ids.h"
#include "events/otlp_common.h"
#include "events/otlp_decode.h"
#include "ingest/otlp_anyvalue.h"

namespace tyto::events {
namespace {

namespace json = ingest::otlp::json;
using json::Field;
using json::Index;
using json::Member;
using rapidjson::Value;

constexpr std::string_view kSpanKinds[] = {"SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER",
                                           "SPAN_KIND_CLIENT",      "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER"};
constexpr std::string_view kStatusCodes[] = {"STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"};

// SEVERITY_NUMBER_UNSPECIFIED = 0, then TRACE, TRACE2, TRACE3, TRACE4 = 1..4, DEBUG 5..8, INFO
// 9..12, WARN 13..16, ERROR 17..20, FATAL 21..24. Returns -1 for another name.
int SeverityNumberFromName(std::string_view name) {
  constexpr std::string_view kPrefix = "SEVERITY_NUMBER_";
  if (name.substr(0, kPrefix.size()) != kPrefix) return -1;
  name.remove_prefix(kPrefix.size());
  if (name == "UNSPECIFIED") return 0;
  constexpr std::string_view kLevels[] = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"};
  for (int level = 0; level < 6; ++level) {
    const std::string_view l = kLevels[level];
    if (name.substr(0, l.size()) != l) continue;
    const std::string_view rest = name.substr(l.size());
    if (rest.empty()) return level * 4 + 1;
    if (rest.size() == 1 && rest[0] >= '2' && rest[0] <= '4') return level * 4 + 1 + (rest[0] - '1');
  }
  return -1;
}

// An enum member: an integer (returned as it is; the caller maps values it does not know), or
// one of `names` (its index), or, when `name_to_value` is given, what that returns (-1: unknown).
template <typename NameToValue>
Status Enum(const Value& obj, const char* camel, const char* snake, const std::string& where, NameToValue name_to_value,
            int64_t* out) {
  const Value* v = Member(obj, camel, snake);
  if (v == nullptr) return Status::Ok();
  if (v->IsInt64()) {
    *out = v->GetInt64();
    return Status::Ok();
  }
  if (v->IsString()) {
    const int64_t value = name_to_value(json::View(*v));
    if (value >= 0) {
      *out = value;
      return Status::Ok();
    }
    return json::Bad(Field(where, camel), "unknown value \"" + std::string(json::View(*v).substr(0, 64)) + "\"");
  }
  return json::Bad(Field(where, camel), "expected an integer or an enum name");
}

template <size_t N>
auto NameIn(const std::string_view (&names)[N]) {
  return [&names](std::string_view s) -> int64_t {
    for (size_t i = 0; i < N; ++i) {
      if (names[i] == s) return static_cast<int64_t>(i);
    }
    return -1;
  };
}

// An id member as hex text; *out is left empty when it is absent (or null).
Status IdText(const Value& obj, const char* camel, const char* snake, const std::string& where, std::string_view* out) {
  const Value* v = Member(obj, camel, snake);
  if (v == nullptr) return Status::Ok();
  if (!v->IsString()) return json::Bad(Field(where, camel), "expected a string of hex digits");
  *out = json::View(*v);
  return Status::Ok();
}

class Decoder {
 protected:
  Decoder(const DecodeLimits& limits, DecodeStats* stats) : limits_(limits), stats_(stats) {}

  Status Attributes(const Value& obj, const char* camel, const std::string& where, std::vector<Attribute>* out) {
    const Value* attrs = nullptr;
    TYTO_RETURN_IF_ERROR(json::Array(obj, camel, nullptr, where, &attrs));
    for (rapidjson::SizeType i = 0; attrs != nullptr && i < attrs->Size(); ++i) {
      if (out->size() >= limits_.max_attributes) {
        stats_->attributes_dropped += attrs->Size() - i;
        break;
      }
      const std::string at = Index(where, camel, i);
      const Value& kv = (*attrs)[i];
      TYTO_RETURN_IF_ERROR(json::Object(kv, at));
      Attribute a;
      TYTO_RETURN_IF_ERROR(json::String(kv, "key", nullptr, at, &a.key));
      if (const Value* val = Member(kv, "value")) {
        TYTO_RETURN_IF_ERROR(json::AppendAnyValue(*val, Field(at, "value"), &a.value));
      }
      AddAttribute(out, std::move(a), limits_, stats_);
    }
    return Status::Ok();
  }
  Status Resource(const Value& v, const std::string& where, std::vector<Attribute>* out) {
    const Value* res = Member(v, "resource");
    if (res == nullptr) return Status::Ok();
    TYTO_RETURN_IF_ERROR(json::Object(*res, Field(where, "resource")));
    return Attributes(*res, "attributes", Field(where, "resource"), out);
  }
  // A short text member (a name, a status message, a severity text), cut under the limits.
  Status Text(const Value& obj, const char* camel, const char* snake, const std::string& where, std::string* out) {
    TYTO_RETURN_IF_ERROR(json::String(obj, camel, snake, where, out));
    LimitText(out, limits_, stats_);
    return Status::Ok();
  }
  // The array member `camel` of `v`, calling fn(element, its path) for each element.
  template <typename Fn>
  static Status Each(const Value& v, const char* camel, const char* snake, const std::string& where, Fn fn) {
    const Value* arr = nullptr;
    TYTO_RETURN_IF_ERROR(json::Array(v, camel, snake, where, &arr));
    for (rapidjson::SizeType i = 0; arr != nullptr && i < arr->Size(); ++i) {
      const std::string at = Index(where, camel, i);
      TYTO_RETURN_IF_ERROR(json::Object((*arr)[i], at));
      TYTO_RETURN_IF_ERROR(fn((*arr)[i], at));
    }
    return Status::Ok();
  }

  const DecodeLimits& limits_;
  DecodeStats* stats_;
  size_t decoded_bytes_ = 0;
};

class TracesDecoder : public Decoder {
 public:
  TracesDecoder(const DecodeLimits& limits, DecodedSpans* out) : Decoder(limits, &out->stats), out_(out) {}

  Status Request(const Value& root) {
    if (!root.IsObject()) return json::Bad("ExportTraceServiceRequest", "the body is not a JSON object");
    return Each(root, "resourceSpans", "resource_spans", "",
                [&](const Value& rs, const std::string& at) { return ResourceSpans(rs, at); });
  }

 private:
  Status ResourceSpans(const Value& v, const std::string& where) {
    std::vector<Attribute> resource;
    TYTO_RETURN_IF_ERROR(Resource(v, where, &resource));
    std::vector<Span> spans;
    Status st = Each(v, "scopeSpans", "scope_spans", where, [&](const Value& ss, const std::string& at) {
      std::string scope;
      if (const Value* s = Member(ss, "scope")) {
        TYTO_RETURN_IF_ERROR(json::Object(*s, Field(at, "scope")));
        TYTO_RETURN_IF_ERROR(Text(*s, "name", nullptr, Field(at, "scope"), &scope));
      }
      return Each(ss, "spans", nullptr, at, [&](const Value& sp, const std::string& span_at) {
        Span span;
        span.scope_name = scope;
        bool valid = true;
        TYTO_RETURN_IF_ERROR(SpanValue(sp, span_at, &span, &valid));
        if (valid) spans.push_back(std::move(span));
        return Status::Ok();
      });
    });
    if (!st.ok()) return st;
    Flush(&spans, resource, where, limits_, &decoded_bytes_, &out_->spans, out_);
    return Status::Ok();
  }

  Status SpanValue(const Value& v, const std::string& where, Span* span, bool* valid) {
    std::string_view trace_id, span_id, parent_span_id;
    TYTO_RETURN_IF_ERROR(IdText(v, "traceId", "trace_id", where, &trace_id));
    TYTO_RETURN_IF_ERROR(IdText(v, "spanId", "span_id", where, &span_id));
    TYTO_RETURN_IF_ERROR(IdText(v, "parentSpanId", "parent_span_id", where, &parent_span_id));
    TYTO_RETURN_IF_ERROR(Text(v, "name", nullptr, where, &span->name));
    int64_t kind = 0;
    TYTO_RETURN_IF_ERROR(Enum(v, "kind", nullptr, where, NameIn(kSpanKinds), &kind));
    span->kind = kind >= 0 && kind <= 5 ? static_cast<SpanKind>(kind) : SpanKind::kUnspecified;
    uint64_t start = 0, end = 0;
    TYTO_RETURN_IF_ERROR(json::Uint64(v, "startTimeUnixNano", "start_time_unix_nano", where, &start));
    TYTO_RETURN_IF_ERROR(json::Uint64(v, "endTimeUnixNano", "end_time_unix_nano", where, &end));
    TYTO_RETURN_IF_ERROR(Attributes(v, "attributes", where, &span->attributes));
    const Value* events = nullptr;
    TYTO_RETURN_IF_ERROR(json::Array(v, "events", nullptr, where, &events));
    for (rapidjson::SizeType i = 0; events != nullptr && i < events->Size(); ++i) {
      if (span->events.size() >= limits_.max_span_events) {
        stats_->span_events_dropped += events->Size() - i;
        break;
      }
      const std::string at = Index(where, "events", i);
      const Value& ev = (*events)[i];
      TYTO_RETURN_IF_ERROR(json::Object(ev, at));
      SpanEvent e;
      uint64_t time = 0;
      TYTO_RETURN_IF_ERROR(json::Uint64(ev, "timeUnixNano", "time_unix_nano", at, &time));
      e.time_unix_nano = TimeFits(time) ? static_cast<int64_t>(time) : 0;
      TYTO_RETURN_IF_ERROR(Text(ev, "name", nullptr, at, &e.name));
      TYTO_RETURN_IF_ERROR(Attributes(ev, "attributes", at, &e.attributes));
      span->events.push_back(std::move(e));
    }
    if (const Value* st = Member(v, "status")) {
      const std::string at = Field(where, "status");
      TYTO_RETURN_IF_ERROR(json::Object(*st, at));
      TYTO_RETURN_IF_ERROR(Text(*st, "message", nullptr, at, &span->status_message));
      int64_t code = 0;
      TYTO_RETURN_IF_ERROR(Enum(*st, "code", nullptr, at, NameIn(kStatusCodes), &code));
      span->status = code >= 0 && code <= 2 ? static_cast<StatusCode>(code) : StatusCode::kUnset;
    }

    std::string what = RequiredId("traceId", HexIdFromText(trace_id, kTraceIdBytes, &span->trace_id), span->trace_id);
    if (what.empty()) what = RequiredId("spanId", HexIdFromText(span_id, kSpanIdBytes, &span->span_id), span->span_id);
    if (what.empty() && !parent_span_id.empty()) {
      what = OptionalId("parentSpanId", HexIdFromText(parent_span_id, kSpanIdBytes, &span->parent_span_id),
                        &span->parent_span_id);
    }
    if (what.empty() && !TimeFits(start)) what = "startTimeUnixNano " + std::to_string(start) + " is after 2262";
    if (what.empty() && !TimeFits(end)) what = "endTimeUnixNano " + std::to_string(end) + " is after 2262";
    if (!what.empty()) {
      Reject(out_, DescribeSpan(where, span->name) + ": " + what);
      *valid = false;
      return Status::Ok();
    }
    span->start_unix_nano = static_cast<int64_t>(start);
    span->end_unix_nano = static_cast<int64_t>(end);
    return Status::Ok();
  }

  DecodedSpans* out_;
};

class LogsDecoder : public Decoder {
 public:
  LogsDecoder(const DecodeLimits& limits, DecodedLogs* out) : Decoder(limits, &out->stats), out_(out) {}

  Status Request(const Value& root) {
    if (!root.IsObject()) return json::Bad("ExportLogsServiceRequest", "the body is not a JSON object");
    return Each(root, "resourceLogs", "resource_logs", "",
                [&](const Value& rl, const std::string& at) { return ResourceLogs(rl, at); });
  }

 private:
  Status ResourceLogs(const Value& v, const std::string& where) {
    std::vector<Attribute> resource;
    TYTO_RETURN_IF_ERROR(Resource(v, where, &resource));
    std::vector<LogRecord> records;
    Status st = Each(v, "scopeLogs", "scope_logs", where, [&](const Value& sl, const std::string& at) {
      return Each(sl, "logRecords", "log_records", at, [&](const Value& lr, const std::string& rec_at) {
        LogRecord rec;
        bool valid = true;
        TYTO_RETURN_IF_ERROR(Record(lr, rec_at, &rec, &valid));
        if (valid) records.push_back(std::move(rec));
        return Status::Ok();
      });
    });
    if (!st.ok()) return st;
    Flush(&records, resource, where, limits_, &decoded_bytes_, &out_->records, out_);
    return Status::Ok();
  }

  Status Record(const Value& v, const std::string& where, LogRecord* rec, bool* valid) {
    uint64_t time = 0, observed = 0;
    TYTO_RETURN_IF_ERROR(json::Uint64(v, "timeUnixNano", "time_unix_nano", where, &time));
    TYTO_RETURN_IF_ERROR(json::Uint64(v, "observedTimeUnixNano", "observed_time_unix_nano", where, &observed));
    int64_t severity = 0;
    TYTO_RETURN_IF_ERROR(Enum(v, "severityNumber", "severity_number", where, SeverityNumberFromName, &severity));
    if (severity < INT32_MIN || severity > INT32_MAX) {
      return json::Bad(Field(where, "severityNumber"), "expected a 32-bit integer");
    }
    rec->severity_number = static_cast<int32_t>(severity);
    TYTO_RETURN_IF_ERROR(Text(v, "severityText", "severity_text", where, &rec->severity_text));
    if (const Value* body = Member(v, "body")) {
      TYTO_RETURN_IF_ERROR(json::AppendAnyValue(*body, Field(where, "body"), &rec->body));
      LimitContent(&rec->body, limits_, stats_);
    }
    TYTO_RETURN_IF_ERROR(Attributes(v, "attributes", where, &rec->attributes));
    std::string_view trace_id, span_id;
    TYTO_RETURN_IF_ERROR(IdText(v, "traceId", "trace_id", where, &trace_id));
    TYTO_RETURN_IF_ERROR(IdText(v, "spanId", "span_id", where, &span_id));

    std::string what;
    if (!trace_id.empty()) {
      what = OptionalId("traceId", HexIdFromText(trace_id, kTraceIdBytes, &rec->trace_id), &rec->trace_id);
    }
    if (what.empty() && !span_id.empty()) {
      what = OptionalId("spanId", HexIdFromText(span_id, kSpanIdBytes, &rec->span_id), &rec->span_id);
    }
    const uint64_t t = time != 0 ? time : observed;
    if (what.empty() && !TimeFits(t)) what = "timeUnixNano " + std::to_string(t) + " is after 2262";
    if (!what.empty()) {
      Reject(out_, where + ": " + what);
      *valid = false;
      return Status::Ok();
    }
    rec->time_unix_nano = static_cast<int64_t>(t);
    return Status::Ok();
  }

  DecodedLogs* out_;
};

// Parses `body` into *doc, or says where it is not JSON.
Status Parse(std::string_view body, rapidjson::Document* doc) {
  // Iterative: a deeply nested body cannot exhaust the stack. Encoding validated: text is UTF-8.
  constexpr unsigned kFlags = rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;
  doc->Parse<kFlags>(body.data(), body.size());
  if (doc->HasParseError()) {
    return InvalidArgument("invalid JSON at byte " + std::to_string(doc->GetErrorOffset()) + ": " +
                           rapidjson::GetParseError_En(doc->GetParseError()));
  }
  return Status::Ok();
}

std::string ResponseJson(const char* count_key, int64_t rejected, std::string_view error_message) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  if (rejected > 0 || !error_message.empty()) {
    w.Key("partialSuccess");
    w.StartObject();
    w.Key(count_key);
    w.String(std::to_string(rejected).c_str());  // int64: a string in proto3 JSON
    w.Key("errorMessage");
    w.String(error_message.data(), static_cast<rapidjson::SizeType>(error_message.size()));
    w.EndObject();
  }
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace

Status DecodeTracesJson(std::string_view body, const DecodeLimits& limits, DecodedSpans* out) {
  *out = DecodedSpans();
  rapidjson::Document doc;
  TYTO_RETURN_IF_ERROR(Parse(body, &doc));
  TracesDecoder d(limits, out);
  Status st = d.Request(doc);
  if (!st.ok()) *out = DecodedSpans();
  return st;
}

Status DecodeLogsJson(std::string_view body, const DecodeLimits& limits, DecodedLogs* out) {
  *out = DecodedLogs();
  rapidjson::Document doc;
  TYTO_RETURN_IF_ERROR(Parse(body, &doc));
  LogsDecoder d(limits, out);
  Status st = d.Request(doc);
  if (!st.ok()) *out = DecodedLogs();
  return st;
}

std::string EncodeTracesResponseJson(int64_t rejected_spans, std::string_view error_message) {
  return ResponseJson("rejectedSpans", rejected_spans, error_message);
}

std::string EncodeLogsResponseJson(int64_t rejected_log_records, std::string_view error_message) {
  return ResponseJson("rejectedLogRecords", rejected_log_records, error_message);
}

}  // namespace tyto::events
