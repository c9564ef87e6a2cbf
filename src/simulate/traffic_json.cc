#include "simulate/traffic_json.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <time.h>

#include <cstdio>
#include <string_view>
#include <type_traits>
#include <variant>

#include "common/build_info.h"

namespace tyto::simulate {
namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

void Str(JsonWriter& w, std::string_view s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); }

void Key(JsonWriter& w, std::string_view k) { w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size())); }

// OTLP JSON writes 64-bit integers as decimal strings.
void Int64String(JsonWriter& w, int64_t v) { Str(w, std::to_string(v)); }

void AnyValue(JsonWriter& w, const AttributeValue& value) {
  w.StartObject();
  std::visit(
      [&w](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) {
          Key(w, "stringValue");
          Str(w, v);
        } else if constexpr (std::is_same_v<T, bool>) {
          Key(w, "boolValue");
          w.Bool(v);
        } else if constexpr (std::is_same_v<T, int64_t>) {
          Key(w, "intValue");
          Int64String(w, v);
        } else if constexpr (std::is_same_v<T, double>) {
          Key(w, "doubleValue");
          w.Double(v);
        } else {
          Key(w, "arrayValue");
          w.StartObject();
          Key(w, "values");
          w.StartArray();
          for (const std::string& s : v) {
            w.StartObject();
            Key(w, "stringValue");
            Str(w, s);
            w.EndObject();
          }
          w.EndArray();
          w.EndObject();
        }
      },
      value);
  w.EndObject();
}

void Attributes(JsonWriter& w, const std::vector<KeyValue>& attributes) {
  Key(w, "attributes");
  w.StartArray();
  for (const KeyValue& kv : attributes) {
    w.StartObject();
    Key(w, "key");
    Str(w, kv.key);
    Key(w, "value");
    AnyValue(w, kv.value);
    w.EndObject();
  }
  w.EndArray();
}

void WriteResource(JsonWriter& w, const Resource& resource) {
  Key(w, "resource");
  w.StartObject();
  Attributes(w, resource.attributes);
  w.EndObject();
}

void Scope(JsonWriter& w) {
  Key(w, "scope");
  w.StartObject();
  Key(w, "name");
  Str(w, kScopeName);
  Key(w, "version");
  Str(w, GetBuildInfo().version);
  w.EndObject();
}

void Span(JsonWriter& w, const SpanRecord& s) {
  w.StartObject();
  Key(w, "traceId");
  Str(w, s.trace_id);
  Key(w, "spanId");
  Str(w, s.span_id);
  if (!s.parent_span_id.empty()) {
    Key(w, "parentSpanId");
    Str(w, s.parent_span_id);
  }
  Key(w, "name");
  Str(w, s.name);
  Key(w, "kind");
  w.Int(s.kind);
  Key(w, "startTimeUnixNano");
  Int64String(w, s.start_unix_nano);
  Key(w, "endTimeUnixNano");
  Int64String(w, s.end_unix_nano);
  Attributes(w, s.attributes);
  if (!s.events.empty()) {
    Key(w, "events");
    w.StartArray();
    for (const SpanEventRecord& e : s.events) {
      w.StartObject();
      Key(w, "timeUnixNano");
      Int64String(w, e.time_unix_nano);
      Key(w, "name");
      Str(w, e.name);
      Attributes(w, e.attributes);
      w.EndObject();
    }
    w.EndArray();
  }
  Key(w, "status");
  w.StartObject();
  if (s.status_code != kStatusUnset) {
    Key(w, "code");
    w.Int(s.status_code);
  }
  if (!s.status_message.empty()) {
    Key(w, "message");
    Str(w, s.status_message);
  }
  w.EndObject();
  w.EndObject();
}

void Log(JsonWriter& w, const LogRecordOut& l) {
  w.StartObject();
  Key(w, "timeUnixNano");
  Int64String(w, l.time_unix_nano);
  Key(w, "observedTimeUnixNano");
  Int64String(w, l.time_unix_nano);
  Key(w, "severityNumber");
  w.Int(l.severity_number);
  Key(w, "severityText");
  Str(w, l.severity_text);
  Key(w, "body");
  w.StartObject();
  Key(w, "stringValue");
  Str(w, l.body);
  w.EndObject();
  Attributes(w, l.attributes);
  if (!l.trace_id.empty()) {
    Key(w, "traceId");
    Str(w, l.trace_id);
  }
  if (!l.span_id.empty()) {
    Key(w, "spanId");
    Str(w, l.span_id);
  }
  w.EndObject();
}

// Writes one ResourceX per resource that has records: {"resource":..., "scopeX":[{"scope":...,
// "records":[...]}]}, records in their order within each resource.
template <typename Record, typename WriteRecord>
std::string Export(const std::vector<Resource>& resources, std::span<const Record> records, std::string_view top,
                   std::string_view scope_list, std::string_view record_list, WriteRecord write) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  Key(w, top);
  w.StartArray();
  for (size_t r = 0; r < resources.size(); ++r) {
    bool any = false;
    for (const Record& rec : records) any |= rec.resource == r;
    if (!any) continue;
    w.StartObject();
    WriteResource(w, resources[r]);
    Key(w, scope_list);
    w.StartArray();
    w.StartObject();
    Scope(w);
    Key(w, record_list);
    w.StartArray();
    for (const Record& rec : records) {
      if (rec.resource == r) write(w, rec);
    }
    w.EndArray();
    w.EndObject();
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

// RFC 3339 in UTC with nanoseconds, "2023-11-14T22:13:20.123456789Z": exact, where Unix seconds
// as a double would round the last digits.
std::string Rfc3339(int64_t unix_nano) {
  const time_t seconds = static_cast<time_t>(unix_nano / 1'000'000'000);
  struct tm t;
  gmtime_r(&seconds, &t);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ", t.tm_year + 1900, t.tm_mon + 1, t.tm_mday,
                t.tm_hour, t.tm_min, t.tm_sec, static_cast<long long>(unix_nano % 1'000'000'000));
  return buf;
}

void Fields(JsonWriter& w, std::string_view key, const std::vector<FieldValue>& fields) {
  if (fields.empty()) return;
  Key(w, key);
  w.StartObject();
  for (const FieldValue& f : fields) {
    Key(w, f.name);
    if (f.is_number) {
      w.Double(f.number);
    } else {
      Str(w, f.text);
    }
  }
  w.EndObject();
}

void StringField(JsonWriter& w, std::string_view key, std::string_view value) {
  if (value.empty()) return;
  Key(w, key);
  Str(w, value);
}

}  // namespace

std::string TracesJson(const std::vector<Resource>& resources, std::span<const SpanRecord> spans) {
  return Export(resources, spans, "resourceSpans", "scopeSpans", "spans", Span);
}

std::string LogsJson(const std::vector<Resource>& resources, std::span<const LogRecordOut> logs) {
  return Export(resources, logs, "resourceLogs", "scopeLogs", "logRecords", Log);
}

std::string EventsJsonLines(const TrafficBatch& batch) {
  std::string out;
  rapidjson::StringBuffer buf;
  auto line = [&](auto write) {
    buf.Clear();
    JsonWriter w(buf);
    w.StartObject();
    write(w);
    w.EndObject();
    out.append(buf.GetString(), buf.GetSize());
    out.push_back('\n');
  };
  for (const DeploymentRecord& d : batch.deployments) {
    line([&](JsonWriter& w) {
      StringField(w, "type", "deployment");
      StringField(w, "timestamp", Rfc3339(d.time_unix_nano));
      StringField(w, "model", d.model);
      StringField(w, "version", d.version);
      StringField(w, "previous_version", d.previous_version);
      StringField(w, "action", d.action);
      StringField(w, "who", d.who);
      StringField(w, "note", d.note);
    });
  }
  for (const PipelineStageRecord& p : batch.pipeline_stages) {
    line([&](JsonWriter& w) {
      StringField(w, "type", "pipeline_stage");
      StringField(w, "pipeline", p.pipeline);
      StringField(w, "stage", p.stage);
      StringField(w, "run_id", p.run_id);
      StringField(w, "start_time", Rfc3339(p.start_unix_nano));
      StringField(w, "end_time", Rfc3339(p.end_unix_nano));
      Key(w, "rows_in");
      w.Int64(p.rows_in);
      Key(w, "rows_out");
      w.Int64(p.rows_out);
      Key(w, "rows_rejected");
      w.Int64(p.rows_rejected);
      Key(w, "fields");
      w.StartObject();
      for (const auto& [name, type] : p.fields) StringField(w, name, type);
      w.EndObject();
      StringField(w, "status", p.ok ? "ok" : "error");
      StringField(w, "error", p.error);
    });
  }
  for (const InferenceRecord& e : batch.inferences) {
    line([&](JsonWriter& w) {
      StringField(w, "type", "inference");
      StringField(w, "timestamp", Rfc3339(e.end_unix_nano));
      StringField(w, "request_id", e.request_id);
      StringField(w, "model", e.model);
      StringField(w, "model_version", e.model_version);
      StringField(w, "endpoint", e.endpoint);
      StringField(w, "tenant", e.tenant);
      StringField(w, "service", e.service);
      StringField(w, "provider", e.provider);
      StringField(w, "operation", e.operation);
      StringField(w, "conversation_id", e.conversation_id);
      Key(w, "status");
      w.Int(e.http_status);
      StringField(w, "error_type", e.error_type);
      Key(w, "latency_ms");
      w.Double(e.latency_ms);
      if (e.queue_ms >= 0) {
        Key(w, "queue_ms");
        w.Double(e.queue_ms);
      }
      if (e.ttft_ms >= 0) {
        Key(w, "ttft_ms");
        w.Double(e.ttft_ms);
      }
      if (e.input_tokens >= 0) {
        Key(w, "input_tokens");
        w.Int64(e.input_tokens);
      }
      if (e.output_tokens >= 0) {
        Key(w, "output_tokens");
        w.Int64(e.output_tokens);
      }
      if (!e.finish_reason.empty()) {
        Key(w, "finish_reasons");
        w.StartArray();
        Str(w, e.finish_reason);
        w.EndArray();
      }
      StringField(w, "trace_id", e.trace_id);
      StringField(w, "span_id", e.span_id);
      StringField(w, "node", e.node);
      if (!e.prompt.empty()) {
        StringField(w, "prompt", e.prompt);
        if (e.ok) {  // an empty answer is an answer
          Key(w, "response");
          Str(w, e.response);
        }
      }
      Fields(w, "features", e.features);
      Fields(w, "prediction", e.prediction);
      if (!e.embedding.empty()) {
        Key(w, "embedding");
        w.StartArray();
        for (double x : e.embedding) w.Double(x);
        w.EndArray();
      }
    });
  }
  return out;
}

std::string FeedbackJsonLines(std::span<const FeedbackRecord> feedback) {
  std::string out;
  rapidjson::StringBuffer buf;
  for (const FeedbackRecord& f : feedback) {
    buf.Clear();
    JsonWriter w(buf);
    w.StartObject();
    StringField(w, "request_id", f.request_id);
    StringField(w, "timestamp", Rfc3339(f.time_unix_nano));
    StringField(w, "model", f.model);
    StringField(w, "label", f.label);
    if (f.rating > 0) {
      Key(w, "rating");
      w.Int(f.rating);
    }
    StringField(w, "correction", f.correction);
    w.EndObject();
    out.append(buf.GetString(), buf.GetSize());
    out.push_back('\n');
  }
  return out;
}

}  // namespace tyto::simulate
