#include "agent/relay.h"

#include <utility>

#include "common/build_info.h"
#include "common/log.h"
#include "http/client.h"
#include "http/encoding.h"
#include "http/url.h"
#include "nats/publisher.h"

namespace tyto::agent {
namespace {

const log::Logger kLog("agent");

struct RelayRoute {
  const char* path;
  const char* kind;
  bool otlp;  // protobuf or JSON, answered in OTLP's shape; else JSON lines
};

constexpr RelayRoute kRelayRoutes[] = {
    {"/v1/traces", "spans", true},     {"/v1/logs", "logs", true},          {"/v1/metrics", "metrics", true},
    {"/api/v1/events", "events", false}, {"/api/v1/logs", "logs", false},
};

std::string HeaderOr(const http::Request& req, std::string_view name) {
  return std::string(req.Header(name).value_or(""));
}

}  // namespace

struct HttpTransport::State {
  HttpTransportOptions options;
  http::Url base;
  http::TlsClientOptions tls;
  http::Client client{1};
  std::string authorization;
};

HttpTransport::HttpTransport() : state_(std::make_unique<State>()) {}
HttpTransport::~HttpTransport() = default;

Result<std::unique_ptr<HttpTransport>> HttpTransport::Create(HttpTransportOptions options,
                                                             const http::TlsClientOptions& tls) {
  TYTO_ASSIGN_OR_RETURN(http::Url base, http::ParseUrl(options.base_url));
  std::unique_ptr<HttpTransport> t(new HttpTransport());
  t->state_->base = std::move(base);
  while (!t->state_->base.path.empty() && t->state_->base.path.back() == '/') t->state_->base.path.pop_back();
  t->state_->tls = tls;
  if (!options.bearer_token.empty()) {
    t->state_->authorization = "Bearer " + options.bearer_token;
  } else if (!options.basic_auth_username.empty()) {
    t->state_->authorization =
        "Basic " + http::Base64(options.basic_auth_username + ":" + options.basic_auth_password);
  }
  t->state_->options = std::move(options);
  return t;
}

Status HttpTransport::Publish(const server::BusMessage& message) {
  const std::string_view route = server::IngestRoute(message.kind, message.content_type, message.content_encoding);
  if (route.empty()) return InvalidArgument("unknown telemetry kind '" + message.kind + "'");
  const State& s = *state_;
  http::ClientRequest req;
  req.method = "POST";
  req.https = s.base.https;
  req.host = s.base.host;
  req.port = s.base.port;
  req.target = s.base.path + std::string(route);
  if (!message.content_type.empty()) req.headers.emplace_back("Content-Type", message.content_type);
  if (!message.content_encoding.empty()) req.headers.emplace_back("Content-Encoding", message.content_encoding);
  if (!s.authorization.empty()) req.headers.emplace_back("Authorization", s.authorization);
  req.headers.emplace_back("User-Agent", "tyto-agent/" + std::string(GetBuildInfo().version));
  req.body = message.body;
  req.timeout = s.options.timeout;
  req.max_body_bytes = 1 << 20;
  req.tls = s.tls;
  Result<http::ClientResponse> r = state_->client.SendAndWait(std::move(req));
  const std::string where = s.options.base_url + std::string(route);
  if (!r.ok()) return Unavailable(where + ": " + r.status().message());
  return server::IngestAnswer(r->status, where, r->body);
}

NatsTransport::NatsTransport(nats::Connection* conn, std::string tenant)
    : publisher_(std::make_unique<nats::Publisher>(conn)), tenant_(std::move(tenant)) {}
NatsTransport::~NatsTransport() = default;

Status NatsTransport::Publish(const server::BusMessage& message) {
  std::optional<nats::Kind> kind = nats::ParseKind(message.kind);
  if (!kind) return InvalidArgument("unknown telemetry kind '" + message.kind + "'");
  if (message.body.size() > publisher_->MaxPayload()) {
    return InvalidArgument("the body (" + std::to_string(message.body.size()) +
                           " bytes) is larger than a NATS message may be (" + std::to_string(publisher_->MaxPayload()) +
                           " bytes): send smaller batches");
  }
  nats::Batch b;
  b.tenant = tenant_;
  b.kind = *kind;
  b.payload = message.body;
  b.content_type = message.content_type;
  b.content_encoding = message.content_encoding;
  b.id = "relay:" + http::Sha256Hex(message.kind + "\n" + message.content_type + "\n" + message.content_encoding +
                                    "\n" + message.body);
  Result<nats::PublishAck> ack = publisher_->Publish(b);
  return ack.status();
}

void AddRelayRoutes(http::Router* router, auth::Guard* guard, instrumentation::Registry* registry,
                    TelemetryTransport* transport) {
  auto& requests = registry->AddCounter("tyto_agent_relay_requests_total",
                                        "Telemetry requests the agent relayed, by endpoint and HTTP status code answered.",
                                        {"handler", "code"});
  auto& bytes = registry->AddCounter("tyto_agent_relay_bytes_total",
                                     "Bytes of telemetry bodies the agent passed on, by endpoint.", {"handler"});
  for (const RelayRoute& r : kRelayRoutes) {
    const RelayRoute route = r;
    router->Add({"POST"}, route.path, route.path,
                guard->Require(auth::Scope::kWrite, [route, transport, &requests, &bytes](http::Request& req) {
                  server::BusMessage m;
                  m.kind = route.kind;
                  m.content_type = HeaderOr(req, "Content-Type");
                  m.content_encoding = HeaderOr(req, "Content-Encoding");
                  // JSON lines sent without a type are sent on as such (the server's logs route
                  // tells them from OTLP logs by it).
                  if (!route.otlp && m.content_type.empty()) m.content_type = "application/x-ndjson";
                  http::Response resp;
                  const std::string_view type = std::string_view(m.content_type).substr(0, m.content_type.find(';'));
                  const bool known_type = route.otlp ? (type == "application/x-protobuf" || type == "application/json")
                                                     : (type.empty() || type == "application/x-ndjson" ||
                                                        type == "application/json" || type == "text/plain");
                  if (!known_type) {
                    resp = http::Response::Error(415, "unsupported_media_type",
                                                 "Content-Type '" + m.content_type + "' is not accepted on " + route.path);
                  } else if (!m.content_encoding.empty() && m.content_encoding != "gzip" && m.content_encoding != "identity") {
                    resp = http::Response::Error(415, "unsupported_media_type",
                                                 "Content-Encoding '" + m.content_encoding + "' is not accepted on " +
                                                     route.path + " (gzip or none)");
                  } else {
                    const size_t size = req.body.size();
                    m.body = std::move(req.body);
                    Status st = transport->Publish(m);
                    if (st.ok()) {
                      bytes.WithLabels({route.path}).Inc(static_cast<double>(size));
                      // OTLP's success is an empty Export*ServiceResponse; JSON lines are
                      // decoded (and counted) by the server, so the agent says only that it passed them on.
                      if (!route.otlp) resp = http::Response::Json(202, "{\"status\":\"forwarded\"}");
                      else if (type == "application/json") resp = http::Response::Json(200, "{}");
                      else {
                        resp.status = 200;
                        resp.content_type = "application/x-protobuf";
                      }
                    } else if (st.code() == StatusCode::kInvalidArgument) {
                      resp = http::Response::Error(400, "bad_data", st.message());
                    } else {
                      kLog.Warn("relaying telemetry failed; the client is asked to retry",
                                {{"path", route.path}, {"error", st}});
                      resp = http::Response::Error(503, "unavailable", "not forwarded, retry: " + st.message());
                      resp.headers.emplace_back("Retry-After", "5");
                    }
                  }
                  requests.WithLabels({route.path, std::to_string(resp.status)}).Inc();
                  return resp;
                }));
  }
}

}  // namespace tyto::agent
