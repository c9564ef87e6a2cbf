// Telemetry that arrives through NATS JetStream (agents publish batches to
// `telemetry.<tenant>.<kind>`; docs/scale-out.md) goes through the very handlers HTTP ingest
// uses, so both paths decode, count, redact, sample and store alike: a message becomes a POST to
// the kind's route on the server's own router, carrying the server's internal write token.
#pragma once

#include <string>
#include <string_view>

#include "http/router.h"
#include "tyto/status.h"

namespace tyto::server {

// The route a batch is posted to, by its kind (the subject's last token) and media type:
//   metrics  remote write 1.0 (Content-Encoding snappy, or no Content-Type) -> /api/v1/write;
//            OTLP metrics (protobuf or JSON) -> /v1/metrics
//   spans    OTLP traces -> /v1/traces
//   logs     OTLP logs -> /v1/logs; JSON lines (application/x-ndjson, text/plain) -> /api/v1/logs
//   events   JSON lines -> /api/v1/events
// Empty for an unknown kind.
std::string_view IngestRoute(std::string_view kind, std::string_view content_type = {},
                             std::string_view content_encoding = {});

struct BusMessage {
  std::string kind;
  std::string content_type;      // as published (header Content-Type); empty: the kind's usual
  std::string content_encoding;  // snappy, gzip, or empty
  std::string body;
  // Where the batch came from ("nats:<message id>"): sent as Idempotency-Key, so a store that
  // keeps it (ClickHouse) stores a redelivered batch once. Empty: none.
  std::string source;
  // The message's first delivery: the store need not look for an earlier copy.
  bool first_delivery = false;
  // When the message entered the stream (Unix ms; 0: unknown): sent as X-Tyto-Received-At, the
  // time of records that carry none, so that every delivery of the batch decodes alike.
  int64_t received_ms = 0;
  // The tenant of its subject (<prefix>.<tenant>.<kind>): sent as X-Scope-OrgID, so the handler
  // acts for it (the internal token may act for any tenant). Empty: "default".
  std::string tenant;
};

// Dispatches the message and maps the answer to what the consumer does with it: OK (stored:
// acknowledge), kInvalidArgument (the payload can never be stored: an unknown kind, a body the
// handler refused with 400, 413 or 415; terminate it and count it), kUnavailable (retry later:
// 429, 5xx). `bearer` is the internal token (empty when auth is off).
Status DispatchIngest(const http::Router& router, const std::string& bearer, BusMessage message);

// What an ingest route's answer means for the batch that was posted (DispatchIngest's rule, also
// the agent relay's for a server's answers): 2xx OK; 400, 404, 413, 415 kInvalidArgument (it will
// never be taken); anything else kUnavailable (retry). `where` names the route in the message.
Status IngestAnswer(int status, std::string_view where, std::string_view body);

}  // namespace tyto::server
