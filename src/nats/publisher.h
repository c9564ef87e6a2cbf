// Publisher: puts one batch of telemetry into the JetStream stream and waits until the stream
// stored it. Subjects are <subject_prefix>.<tenant>.<kind>; every batch carries an id
// (Nats-Msg-Id) so that publishing it again (after a timeout, a lost connection or a restart)
// within the stream's duplicate window stores it once. Wire layout: docs/format/nats.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "nats/connection.h"
#include "tyto/status.h"

namespace tyto::nats {

// What a batch holds; the last subject token.
enum class Kind { kMetrics, kSpans, kLogs, kEvents };

std::string_view KindName(Kind kind);  // "metrics", "spans", "logs", "events"
std::optional<Kind> ParseKind(std::string_view name);

// A subject token from a tenant name: bytes other than [A-Za-z0-9_-] become '_', at most 64
// bytes are kept, and an empty name is "default". Different names may map to one token
// ("a.b" and "a_b"); tenants are meant to be plain names.
std::string SanitizeToken(std::string_view tenant);

// "<prefix>.<SanitizeToken(tenant)>.<kind>".
std::string Subject(std::string_view prefix, std::string_view tenant, Kind kind);

// Header names (docs/format/nats.md).
inline constexpr std::string_view kContentTypeHeader = "Content-Type";
inline constexpr std::string_view kContentEncodingHeader = "Content-Encoding";
inline constexpr std::string_view kSamplesHeader = "Tyto-Samples";
inline constexpr std::string_view kMsgIdHeader = "Nats-Msg-Id";

struct Batch {
  std::string tenant = "default";
  Kind kind = Kind::kMetrics;
  std::string_view payload;   // must stay valid during Publish
  std::string content_type;   // e.g. "application/x-protobuf" (remote write 1.0 for metrics)
  std::string content_encoding;  // e.g. "snappy"; empty: none
  // The deduplication id (Nats-Msg-Id): the same for every attempt to publish this batch, and
  // different for every other batch any publisher sends within the duplicate window. 1 to 255
  // printable ASCII bytes.
  std::string id;
  // More headers (names and values of printable ASCII, no ':' in names).
  std::vector<std::pair<std::string, std::string>> headers;
};

struct PublishAck {
  uint64_t sequence = 0;   // the stream sequence the batch is stored at
  bool duplicate = false;  // the stream had this id already (stored by an earlier attempt)
};

// Thread-safe: Publish may be called from many threads at once.
class Publisher {
 public:
  // `conn` must outlive the publisher.
  explicit Publisher(Connection* conn);

  // Publishes and waits up to request_timeout for the stream's acknowledgement. OK means the
  // batch is stored (duplicate or not). Errors: kInvalidArgument for a bad id, header or a
  // payload over the server's max_payload (never retry those); kUnavailable when NATS or the
  // stream cannot be reached or did not answer in time (retry with the same id).
  Result<PublishAck> Publish(const Batch& batch);

  // The largest payload a message can carry now (the server's max_payload less room for
  // headers); 1 MiB less that room before the first connection.
  size_t MaxPayload() const;

 private:
  Connection* const conn_;
};

}  // namespace tyto::nats
