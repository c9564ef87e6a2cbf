#include "nats/config.h"

#include "config/schema.h"
#include "scrape/config.h"

namespace tyto::nats {
namespace {

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// Dot-separated tokens of name characters: no wildcards, no empty token.
bool IsValidSubjectPrefix(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    std::string_view token = s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (token.empty()) return false;
    for (char c : token) {
      if (!IsNameChar(c)) return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

bool IsValidUrl(std::string_view url) {
  if (url.empty()) return false;
  for (char c : url) {
    if (c == ' ' || c == ',' || static_cast<unsigned char>(c) < 0x20) return false;
  }
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return url.find(':') != std::string_view::npos;  // host:port
  std::string_view s = url.substr(0, scheme);
  return (s == "nats" || s == "tls") && url.size() > scheme + 3;
}

}  // namespace

bool IsValidName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!IsNameChar(c)) return false;
  }
  return true;
}

Status Validate(const NatsConfig& c) {
  if (c.urls.empty()) return InvalidArgument("nats.urls: give at least one server (nats://host:4222)");
  for (const std::string& u : c.urls) {
    if (!IsValidUrl(u)) return InvalidArgument("nats.urls: '" + u + "' is not nats://host:port, tls://host:port or host:port");
  }
  if (!c.password.empty() && !c.password_file.empty()) {
    return InvalidArgument("nats: at most one of password and password_file may be set");
  }
  if (!c.token.empty() && !c.token_file.empty()) {
    return InvalidArgument("nats: at most one of token and token_file may be set");
  }
  const bool has_user = !c.user.empty() || !c.password.empty() || !c.password_file.empty();
  if (has_user && (!c.token.empty() || !c.token_file.empty())) {
    return InvalidArgument("nats: give user and password, or a token, not both");
  }
  if ((!c.password.empty() || !c.password_file.empty()) && c.user.empty()) {
    return InvalidArgument("nats: a password needs a user");
  }
  if (c.tls.cert_file.empty() != c.tls.key_file.empty()) {
    return InvalidArgument("nats.tls: cert_file and key_file go together");
  }
  if (!IsValidName(c.stream)) {
    return InvalidArgument("nats.stream '" + c.stream + "': want 1 to 64 letters, digits, '-' or '_'");
  }
  if (!IsValidName(c.durable)) {
    return InvalidArgument("nats.durable '" + c.durable + "': want 1 to 64 letters, digits, '-' or '_'");
  }
  if (!IsValidName(c.kv_bucket)) {
    return InvalidArgument("nats.kv_bucket '" + c.kv_bucket + "': want 1 to 64 letters, digits, '-' or '_'");
  }
  if (!IsValidSubjectPrefix(c.subject_prefix)) {
    return InvalidArgument("nats.subject_prefix '" + c.subject_prefix +
                           "': want dot-separated tokens of letters, digits, '-' or '_' (no wildcards)");
  }
  if (c.storage != "file" && c.storage != "memory") {
    return InvalidArgument("nats.storage '" + c.storage + "': want file or memory");
  }
  if (c.replicas < 1 || c.replicas > 5) {
    return InvalidArgument("nats.replicas " + std::to_string(c.replicas) + ": want 1 to 5");
  }
  if (c.duplicate_window.count() <= 0) return InvalidArgument("nats.duplicate_window must be positive");
  if (c.max_age.count() > 0 && c.duplicate_window > c.max_age) {
    return InvalidArgument("nats.duplicate_window must not be longer than nats.max_age");
  }
  if (c.ack_wait < std::chrono::seconds(1)) return InvalidArgument("nats.ack_wait: want at least 1s");
  if (c.connect_timeout.count() <= 0 || c.request_timeout.count() <= 0) {
    return InvalidArgument("nats: connect_timeout and request_timeout must be positive");
  }
  if (c.max_ack_pending < 1) return InvalidArgument("nats.max_ack_pending: want at least 1");
  if (c.consumer_workers < 1 || c.consumer_workers > 64) {
    return InvalidArgument("nats.consumer_workers " + std::to_string(c.consumer_workers) + ": want 1 to 64");
  }
  return Status::Ok();
}

Result<std::string> ReadPassword(Env* env, const NatsConfig& c) {
  return scrape::ReadSecret(env, c.password, c.password_file, "nats.password_file");
}

Result<std::string> ReadToken(Env* env, const NatsConfig& c) {
  return scrape::ReadSecret(env, c.token, c.token_file, "nats.token_file");
}

const config::Section<NatsTlsConfig>& NatsTlsSchema() {
  static const auto* s = [] {
    auto* sec = new config::Section<NatsTlsConfig>(
        "tls", "TLS to the NATS servers (used when a file is set or a URL starts with tls://).");
    sec->String("ca_file", &NatsTlsConfig::ca_file,
                "CA certificates (PEM) that the servers' certificates must chain to; empty: the system's.")
        .String("cert_file", &NatsTlsConfig::cert_file, "Client certificate (PEM), for servers that require one.")
        .String("key_file", &NatsTlsConfig::key_file, "The client certificate's private key (PEM).")
        .String("server_name", &NatsTlsConfig::server_name,
                "The name the server's certificate must carry, when it is not the URL's host.")
        .Bool("insecure_skip_verify", &NatsTlsConfig::insecure_skip_verify,
              "Accept any server certificate (testing only: anyone on the path can read the data).");
    return sec;
  }();
  return *s;
}

const config::Section<NatsConfig>& NatsSchema() {
  static const auto* s = [] {
    auto* sec = new config::Section<NatsConfig>(
        "nats",
        "NATS JetStream between agents and servers (a persistent stream, a durable consumer) and the key-value "
        "bucket several servers share.");
    sec->StringList("urls", &NatsConfig::urls, "NATS servers: nats://host:4222, tls://host:4222 or host:4222.")
        .String("user", &NatsConfig::user, "User name.")
        .Secret("password", &NatsConfig::password, "Password.")
        .String("password_file", &NatsConfig::password_file, "A file holding the password.")
        .Secret("token", &NatsConfig::token, "Authentication token (instead of user and password).")
        .String("token_file", &NatsConfig::token_file, "A file holding the token.")
        .Nested("tls", &NatsConfig::tls, NatsTlsSchema())
        .Duration("connect_timeout", &NatsConfig::connect_timeout, "Time to connect to one server.",
                  std::chrono::milliseconds(1))
        .Duration("request_timeout", &NatsConfig::request_timeout,
                  "Time to wait for one JetStream answer (a publish acknowledgement, a key-value write).",
                  std::chrono::milliseconds(1))
        .String("stream", &NatsConfig::stream,
                "The JetStream stream telemetry travels in; created when missing, its limits updated when they "
                "differ.")
        .String("subject_prefix", &NatsConfig::subject_prefix,
                "Subjects are <subject_prefix>.<tenant>.<kind> (kind: metrics, spans, logs, events).")
        .Duration("max_age", &NatsConfig::max_age, "Messages older than this leave the stream; 0: no limit.")
        .ByteSize("max_bytes", &NatsConfig::max_bytes,
                  "The stream's size limit (oldest messages leave first); 0: no limit.")
        .Enum("storage", &NatsConfig::storage, {"file", "memory"},
              "file: messages survive a NATS restart (what delivery without loss needs). memory: for tests.")
        .Int("replicas", &NatsConfig::replicas, "Copies of the stream in a NATS cluster.", 1, 5)
        .Duration("duplicate_window", &NatsConfig::duplicate_window,
                  "A batch published again with the same id within this window is stored once (an agent that "
                  "restarts republishes what it had not seen acknowledged).",
                  std::chrono::milliseconds(1))
        .String("durable", &NatsConfig::durable,
                "The servers' durable consumer; servers with the same name share the messages.")
        .Duration("ack_wait", &NatsConfig::ack_wait,
                  "A message not acknowledged within this time is delivered again (to any server).",
                  std::chrono::seconds(1))
        .Int("max_ack_pending", &NatsConfig::max_ack_pending,
             "Messages delivered and not yet acknowledged, over all servers, before delivery pauses.", 1)
        .Int("consumer_workers", &NatsConfig::consumer_workers,
             "Threads per server that take messages from the consumer.", 1, 64)
        .String("kv_bucket", &NatsConfig::kv_bucket,
                "The JetStream key-value bucket for state the servers share (leases, silences, incidents).")
        .String("tenant", &NatsConfig::tenant, "The tenant an agent publishes under (a subject token).")
        .Validate([](const NatsConfig& c, const config::Node& n, config::Diagnostics& d) {
          if (Status st = Validate(c); !st.ok()) d.Add(n.position(), st.message());
        });
    return sec;
  }();
  return *s;
}

}  // namespace tyto::nats
