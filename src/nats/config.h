// The NATS section of tyto.yml (under `storage:`, placed by the server's schema): how agents and
// servers reach NATS, the JetStream stream that carries telemetry between them, the servers'
// durable consumer, and the key-value bucket several servers share.
//
//   nats:
//     urls: [nats://nats-1:4222, nats://nats-2:4222]
//     user: tyto
//     password_file: /etc/tyto/nats-password
//     tls: {ca_file: /etc/tyto/nats-ca.pem}
//     stream: TYTO_TELEMETRY       # subjects <subject_prefix>.<tenant>.<kind>
//     max_age: 7d
//     replicas: 3
//     durable: tyto-server
//     kv_bucket: tyto
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tyto/env.h"
#include "tyto/status.h"

namespace tyto::config {
template <typename T>
class Section;
}

namespace tyto::nats {

struct NatsTlsConfig {
  // TLS is used when any of these is set or a URL starts with tls://. The server's certificate is
  // verified against ca_file (the system's roots when empty) unless insecure_skip_verify.
  std::string ca_file;
  std::string cert_file;  // client certificate (with key_file), for servers that require one
  std::string key_file;
  std::string server_name;  // the name the certificate must carry, when not the URL's host
  bool insecure_skip_verify = false;
  friend bool operator==(const NatsTlsConfig&, const NatsTlsConfig&) = default;
};

struct NatsConfig {
  std::vector<std::string> urls = {"nats://127.0.0.1:4222"};
  // Credentials: user and password, or a token, or neither.
  std::string user;
  std::string password;
  std::string password_file;
  std::string token;
  std::string token_file;
  NatsTlsConfig tls;
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(5)};
  // Every JetStream request (publish acknowledgement, stream and consumer management, KV).
  std::chrono::milliseconds request_timeout{std::chrono::seconds(5)};

  // The stream, created when missing and brought to these limits when they differ.
  std::string stream = "TYTO_TELEMETRY";
  std::string subject_prefix = "telemetry";  // the stream holds <subject_prefix>.>
  std::chrono::milliseconds max_age{std::chrono::hours(24 * 7)};  // 0: no limit
  uint64_t max_bytes = 0;                                          // 0: no limit
  std::string storage = "file";                                    // or memory
  int replicas = 1;
  // A batch published again with the same id within this window is stored once.
  std::chrono::milliseconds duplicate_window{std::chrono::minutes(10)};

  // The servers' durable pull consumer (one for all servers: they share its messages).
  std::string durable = "tyto-server";
  // A message not acknowledged within this time is delivered again (to any server); a sink that
  // runs longer keeps it with progress notes every ack_wait / 3.
  std::chrono::milliseconds ack_wait{std::chrono::seconds(30)};
  int64_t max_ack_pending = 1000;
  int consumer_workers = 2;

  // The key-value bucket for state shared by servers (cluster::KeyValue).
  std::string kv_bucket = "tyto";

  // The tenant agents publish under (subject token; sanitised, see publisher.h).
  std::string tenant = "default";

  friend bool operator==(const NatsConfig&, const NatsConfig&) = default;
};

// Checks: urls given and each nats://, tls:// or host:port; at most one of password and
// password_file, of token and token_file, and of user/password and token; cert_file and key_file
// together; names that JetStream accepts (stream, durable and bucket: letters, digits, '-' and
// '_'; subject_prefix: dot-separated tokens without wildcards); replicas 1 to 5;
// duplicate_window within max_age; ack_wait at least 1s.
const config::Section<NatsTlsConfig>& NatsTlsSchema();
const config::Section<NatsConfig>& NatsSchema();

// The same checks for a config built in code (tests, the server's flags): kInvalidArgument
// naming the first problem.
Status Validate(const NatsConfig& config);

// Whether a JetStream name (stream, consumer, bucket) is acceptable: 1 to 64 of [A-Za-z0-9_-].
bool IsValidName(std::string_view name);

// The password or token: the inline value, or the file's content without trailing line breaks.
// Errors name the option.
Result<std::string> ReadPassword(Env* env, const NatsConfig& config);
Result<std::string> ReadToken(Env* env, const NatsConfig& config);

}  // namespace tyto::nats
