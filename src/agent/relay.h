// The agent's telemetry relay: applications on a node send their traces, logs and inference
// events to the local agent (the same endpoints as a server's: POST /v1/traces, /v1/logs,
// /v1/metrics, /api/v1/events, /api/v1/logs), and the agent passes each body on, as it came, to
// the central servers: through NATS JetStream (agent.transport: nats; the stream keeps it until a
// server has stored it) or by HTTP to agent.server. The client's request is answered only once
// the batch is durable downstream (JetStream acknowledged it, or the server answered 2xx), so an
// outage makes clients retry (503) rather than lose data.
//
// The agent does not decode: the server does, with the same handlers as for direct sends
// (server/bus_ingest.h), and counts what it refuses. The agent checks only size and media type.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "auth/auth.h"
#include "http/router.h"
#include "instrumentation/metrics.h"
#include "server/bus_ingest.h"
#include "tyto/status.h"

namespace tyto::http {
class Client;
struct TlsClientOptions;
}  // namespace tyto::http

namespace tyto::nats {
class Connection;
class Publisher;
}  // namespace tyto::nats

namespace tyto::agent {

// Where the relay hands batches. Publish blocks until the batch is durable downstream: OK, or
// kUnavailable (retry: the client gets 503), or kInvalidArgument (the batch will never be taken:
// 400).
class TelemetryTransport {
 public:
  virtual ~TelemetryTransport() = default;
  virtual Status Publish(const server::BusMessage& message) = 0;
};

// Posts each batch to a Tyto server's ingest route for its kind (base_url + IngestRoute(kind)).
struct HttpTransportOptions {
  std::string base_url;      // "http://central:9800"
  std::string bearer_token;  // empty: none
  std::string basic_auth_username;
  std::string basic_auth_password;
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
};
class HttpTransport final : public TelemetryTransport {
 public:
  // kInvalidArgument for a base URL that does not parse.
  static Result<std::unique_ptr<HttpTransport>> Create(HttpTransportOptions options, const http::TlsClientOptions& tls);
  ~HttpTransport() override;
  Status Publish(const server::BusMessage& message) override;

 private:
  HttpTransport();
  struct State;
  std::unique_ptr<State> state_;
};

// Publishes each batch to the JetStream stream (telemetry.<tenant>.<kind>) and waits for its
// acknowledgement. The batch id (Nats-Msg-Id) is the SHA-256 of kind, media type and body, so a
// client's retry of the same body within the stream's duplicate window is stored once.
class NatsTransport final : public TelemetryTransport {
 public:
  // `conn` must outlive it.
  NatsTransport(nats::Connection* conn, std::string tenant);
  ~NatsTransport() override;
  Status Publish(const server::BusMessage& message) override;

 private:
  std::unique_ptr<nats::Publisher> publisher_;
  std::string tenant_;
};

// Adds the relay's routes (write scope). `transport` must outlive the router.
void AddRelayRoutes(http::Router* router, auth::Guard* guard, instrumentation::Registry* registry,
                    TelemetryTransport* transport);

}  // namespace tyto::agent
