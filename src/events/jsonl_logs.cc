// POST /api/v1/logs: one log record per line (jsonl_decode.h; fields in docs/events-api.md).
#include <rapidjson/document.h>

#include <cctype>
#include <string>
#include <string_view>
#include <utility>

#include "events/ids.h"
#include "events/jsonl_common.h"
#include "events/jsonl_decode.h"
#include "events/otlp_common.h"

namespace tyto::events {
namespace {

using jsonl::Fields;
using rapidjson::Value;

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

// One of two names for the same field ("level" or "severity"); both is an error.
Status Alias(Fields& f, const char* name, const char* alias, const Value** out, const char** used) {
  const Value* a = f.Get(name);
  const Value* b = f.Get(alias);
  if (a != nullptr && b != nullptr)
    return InvalidArgument(std::string(name) + " and " + alias + ": give one, not both");
  *out = a != nullptr ? a : b;
  *used = a != nullptr ? name : alias;
  return Status::Ok();
}

Status Record(Fields& f, int64_t now_ms, LogRecord* r) {
  int64_t ns = 0;
  bool has_time = false;
  TYTO_RETURN_IF_ERROR(f.Timestamp("timestamp", &ns, &has_time));
  r->time_unix_nano = has_time ? ns : now_ms * 1'000'000;

  const Value* level = nullptr;
  const char* level_name = nullptr;
  TYTO_RETURN_IF_ERROR(Alias(f, "level", "severity", &level, &level_name));
  if (level != nullptr) {
    if (level->IsString()) {
      r->severity_text.assign(level->GetString(), level->GetStringLength());
      LimitText(&r->severity_text, f.limits(), f.stats());
      r->severity_number = SeverityNumberFromText(r->severity_text);
    } else if (level->IsInt() && level->GetInt() >= 1 && level->GetInt() <= 24) {
      r->severity_number = level->GetInt();
    } else {
      return InvalidArgument(std::string(level_name) +
                             ": expected a level name (\"info\") or an OTLP severity number (1 to 24)");
    }
  }

  const Value* message = nullptr;
  const char* message_name = nullptr;
  TYTO_RETURN_IF_ERROR(Alias(f, "message", "body", &message, &message_name));
  if (message != nullptr) TYTO_RETURN_IF_ERROR(f.Content(message_name, &r->body));

  TYTO_RETURN_IF_ERROR(f.Id("trace_id", kTraceIdBytes, &r->trace_id));
  TYTO_RETURN_IF_ERROR(f.Id("span_id", kSpanIdBytes, &r->span_id));
  TYTO_RETURN_IF_ERROR(f.Text("service", &r->service));
  if (r->service.empty()) r->service = std::string(kUnknownService);

  if (const Value* attrs = f.Get("attributes")) {
    if (!attrs->IsObject()) return InvalidArgument("attributes: expected an object");
    for (auto it = attrs->MemberBegin(); it != attrs->MemberEnd(); ++it) {
      AddAttribute(
          &r->attributes,
          Attribute{std::string(it->name.GetString(), it->name.GetStringLength()), jsonl::AttributeValue(it->value)},
          f.limits(), f.stats());
    }
  }
  // Every other top-level field is an attribute too: structured loggers write their context there.
  f.ForEachUnknown([&](std::string_view name, const Value& v) {
    AddAttribute(&r->attributes, Attribute{std::string(name), jsonl::AttributeValue(v)}, f.limits(), f.stats());
  });
  return Status::Ok();
}

}  // namespace

int32_t SeverityNumberFromText(std::string_view level) {
  static constexpr struct {
    std::string_view name;
    int32_t number;
  } kLevels[] = {{"trace", 1},    {"debug", 5},      {"info", 9},   {"information", 9}, {"notice", 10},   {"warn", 13},
                 {"warning", 13}, {"error", 17},     {"err", 17},   {"fatal", 21},      {"critical", 21}, {"crit", 21},
                 {"alert", 22},   {"emergency", 23}, {"emerg", 23}, {"panic", 24}};
  for (const auto& l : kLevels) {
    if (EqualsIgnoreCase(level, l.name)) return l.number;
  }
  return 0;
}

DecodedLogLines DecodeLogsJsonLines(std::string_view body, int64_t now_ms, const DecodeLimits& limits) {
  DecodedLogLines out;
  jsonl::DecodeLines(
      body, limits, /*warn_unknown=*/false,
      [&](Fields& f) -> Status {
        LogRecord r;
        TYTO_RETURN_IF_ERROR(Record(f, now_ms, &r));
        out.records.push_back(std::move(r));
        return Status::Ok();
      },
      &out.report);
  return out;
}

}  // namespace tyto::events
