#include "nats/publisher.h"

#include <nats/nats.h>

#include <chrono>

#include "nats/nats_status.h"

namespace tyto::nats {
namespace {

// Room left in a message for its headers (ids, content type, the ones callers add).
constexpr size_t kHeaderRoom = 4096;
constexpr size_t kDefaultMaxPayload = size_t{1} << 20;

bool IsPrintable(std::string_view s) {
  for (char c : s) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

Status CheckHeader(std::string_view name, std::string_view value) {
  if (name.empty() || name.size() > 128 || !IsPrintable(name) || name.find(':') != std::string_view::npos ||
      name.find(' ') != std::string_view::npos) {
    return InvalidArgument("nats publish: bad header name '" + std::string(name.substr(0, 128)) + "'");
  }
  if (value.size() > 1024 || !IsPrintable(value)) {
    return InvalidArgument("nats publish: header " + std::string(name) + " has a value that is not printable ASCII");
  }
  return Status::Ok();
}

struct MsgHolder {
  natsMsg* m = nullptr;
  ~MsgHolder() {
    if (m != nullptr) natsMsg_Destroy(m);
  }
};

}  // namespace

std::string_view KindName(Kind kind) {
  switch (kind) {
    case Kind::kMetrics:
      return "metrics";
    case Kind::kSpans:
      return "spans";
    case Kind::kLogs:
      return "logs";
    case Kind::kEvents:
      return "events";
  }
  return "unknown";
}

std::optional<Kind> ParseKind(std::string_view name) {
  if (name == "metrics") return Kind::kMetrics;
  if (name == "spans") return Kind::kSpans;
  if (name == "logs") return Kind::kLogs;
  if (name == "events") return Kind::kEvents;
  return std::nullopt;
}

std::string SanitizeToken(std::string_view tenant) {
  if (tenant.empty()) return "default";
  std::string out;
  for (char c : tenant.substr(0, 64)) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    out += ok ? c : '_';
  }
  return out;
}

std::string Subject(std::string_view prefix, std::string_view tenant, Kind kind) {
  std::string s(prefix);
  s += '.';
  s += SanitizeToken(tenant);
  s += '.';
  s += KindName(kind);
  return s;
}

Publisher::Publisher(Connection* conn) : conn_(conn) {}

size_t Publisher::MaxPayload() const {
  int64_t max = conn_->native() != nullptr ? natsConnection_GetMaxPayload(conn_->native()) : 0;
  size_t limit = max > 0 ? static_cast<size_t>(max) : kDefaultMaxPayload;
  return limit > 2 * kHeaderRoom ? limit - kHeaderRoom : limit / 2;
}

Result<PublishAck> Publisher::Publish(const Batch& batch) {
  Metrics* m = conn_->metrics();
  const std::string_view kind = KindName(batch.kind);
  auto fail = [&](Status s) -> Result<PublishAck> {
    m->published.WithLabels({kind, "error"}).Inc();
    return s;
  };
  if (batch.id.empty() || batch.id.size() > 255 || !IsPrintable(batch.id)) {
    return fail(InvalidArgument("nats publish: the batch id must be 1 to 255 printable ASCII bytes"));
  }
  for (const auto& [k, v] : batch.headers) {
    if (Status s = CheckHeader(k, v); !s.ok()) return fail(s);
  }
  if (!batch.content_type.empty()) {
    if (Status s = CheckHeader(kContentTypeHeader, batch.content_type); !s.ok()) return fail(s);
  }
  if (!batch.content_encoding.empty()) {
    if (Status s = CheckHeader(kContentEncodingHeader, batch.content_encoding); !s.ok()) return fail(s);
  }
  if (batch.payload.size() > MaxPayload()) {
    return fail(InvalidArgument("nats publish: payload of " + std::to_string(batch.payload.size()) +
                                " bytes is over the server's limit of " + std::to_string(MaxPayload()) +
                                " (max_payload less room for headers)"));
  }
  const std::string subject = Subject(conn_->config().subject_prefix, batch.tenant, batch.kind);

  MsgHolder msg;
  TYTO_RETURN_IF_ERROR(FromNats(natsMsg_Create(&msg.m, subject.c_str(), nullptr, batch.payload.data(),
                                               static_cast<int>(batch.payload.size())),
                                "nats publish " + subject));
  auto set = [&](std::string_view k, const std::string& v) {
    return FromNats(natsMsgHeader_Set(msg.m, std::string(k).c_str(), v.c_str()), "nats publish header");
  };
  if (!batch.content_type.empty()) TYTO_RETURN_IF_ERROR(set(kContentTypeHeader, batch.content_type));
  if (!batch.content_encoding.empty()) TYTO_RETURN_IF_ERROR(set(kContentEncodingHeader, batch.content_encoding));
  for (const auto& [k, v] : batch.headers) TYTO_RETURN_IF_ERROR(set(k, v));

  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MsgId = batch.id.c_str();
  po.MaxWait = conn_->config().request_timeout.count();
  po.ExpectStream = conn_->config().stream.c_str();

  const auto start = std::chrono::steady_clock::now();
  jsPubAck* pa = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_PublishMsg(&pa, conn_->jetstream(), msg.m, &po, &jerr);
  m->publish_duration.Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  if (s != NATS_OK) {
    if (pa != nullptr) jsPubAck_Destroy(pa);
    Status st = FromNats(s, "nats publish to " + subject + " on " + conn_->server(), jerr);
    // Unexpected answers (no stream, a stream of another name) are worth retrying: an operator
    // or a server may be creating the stream.
    if (st.code() != StatusCode::kInvalidArgument) st = Unavailable(st.message());
    return fail(st);
  }
  PublishAck ack;
  ack.sequence = pa->Sequence;
  ack.duplicate = pa->Duplicate;
  jsPubAck_Destroy(pa);
  m->published.WithLabels({kind, ack.duplicate ? "duplicate" : "stored"}).Inc();
  if (!ack.duplicate) m->published_bytes.WithLabels({kind}).Inc(static_cast<double>(batch.payload.size()));
  return ack;
}

}  // namespace tyto::nats
