#include "remote/config.h"

#include <cstdio>
#include <set>
#include <utility>

#include "config/schema.h"
#include "forward/sender.h"
#include "http/url.h"

namespace tyto::remote {
namespace {

using config::Diagnostics;
using config::Node;
using config::Section;

// FNV-1a, 64 bits: stable across runs, machines and versions (it names a folder).
uint64_t Fnv1a64(std::string_view s) {
  uint64_t h = 14695981039346656037ull;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '.';
}

std::string CheckName(const std::string& name) {
  if (name.empty()) return "";
  if (name.size() > 100) return "remote_write name is longer than 100 characters";
  if (name == "." || name == "..") return "remote_write name must not be \".\" or \"..\"";
  for (char c : name) {
    if (!IsNameChar(c)) {
      return "remote_write name \"" + name + "\" may hold only letters, digits, '_', '-' and '.' (it names a folder)";
    }
  }
  return "";
}

std::vector<std::pair<std::string, std::string>> HeaderList(const std::map<std::string, std::string>& m) {
  return {m.begin(), m.end()};
}

// A key Prometheus has that Tyto refuses by name, with the reason.
template <typename T>
void Refuse(Section<T>& s, const std::string& key, const std::string& why) {
  s.Option(
      key, "unsupported", why,
      [key, why](const Node& n, T&, Diagnostics& d) { d.Add(n.position(), "queue_config." + key + ": " + why); },
      nullptr);
}

void CheckHttpUrl(const std::string& what, const std::string& url, const Node& n, Diagnostics& d) {
  if (url.empty()) {
    d.Add(n.position(), what + " is required");
    return;
  }
  if (Result<http::Url> u = http::ParseUrl(url); !u.ok()) d.Add(n.position(), what + ": " + u.status().message());
}

void CheckCredentials(const std::string& where, const scrape::BasicAuth& basic, const scrape::Authorization& auth,
                      const Node& n, Diagnostics& d) {
  const bool has_auth = !auth.credentials.empty() || !auth.credentials_file.empty();
  if (!basic.username.empty() && has_auth) {
    d.Add(n.position(), where + ": at most one of basic_auth and authorization may be set");
  }
  if (has_auth && (auth.type.empty() || auth.type.find_first_of(" \r\n") != std::string::npos)) {
    d.Add(n.position(), where + ": authorization.type must be one word (Bearer, ...)");
  }
}

}  // namespace

const config::Section<QueueConfig>& QueueConfigSchema() {
  static const auto* s = [] {
    auto* q = new Section<QueueConfig>(
        "queue_config", "How samples are batched and sent; they wait in an on-disk queue until a receiver took them.");
    q->Int("max_shards", &QueueConfig::max_shards,
           "Requests in flight at once. Fixed (Tyto does not reshard); each series always goes to the same shard, so "
           "its samples arrive in order.",
           1, 64)
        .Int("max_samples_per_send", &QueueConfig::max_samples_per_send, "Samples per request at most.", 1, 1000000)
        .Duration("batch_send_deadline", &QueueConfig::batch_send_deadline,
                  "How long a batch smaller than max_shards * max_samples_per_send waits for more.",
                  std::chrono::milliseconds(1))
        .Duration("min_backoff", &QueueConfig::min_backoff,
                  "First retry delay after a failed request (5xx, 429, timeout, connection error); doubled per "
                  "failure. Retries go on until the receiver takes the request.",
                  std::chrono::milliseconds(1))
        .Duration("max_backoff", &QueueConfig::max_backoff, "Longest retry delay.", std::chrono::milliseconds(1))
        .ByteSize("max_size", &QueueConfig::max_size,
                  "Tyto's: the on-disk queue holds at most this much; when full, the oldest data is dropped and "
                  "counted (tyto_remote_storage_samples_dropped_total{reason=\"queue_full\"}).",
                  1 << 20)
        .Enum("fsync", &QueueConfig::fsync, {"always", "interval"},
              "Tyto's: when the queue is fsynced: always (before a commit returns), or every second.")
        .Validate([](const QueueConfig& c, const Node& n, Diagnostics& d) {
          if (c.min_backoff > c.max_backoff) d.Add(n.position(), "queue_config: min_backoff is greater than max_backoff");
        });
    Refuse(*q, "capacity",
           "not supported: samples wait in the on-disk queue, bounded by queue_config.max_size, not in memory");
    Refuse(*q, "min_shards", "not supported: the number of shards is fixed at max_shards");
    return q;
  }();
  return *s;
}

const config::Section<RemoteWriteConfig>& RemoteWriteSchema() {
  static const auto* s = [] {
    auto* w = new Section<RemoteWriteConfig>(
        "remote_write",
        "A remote-write receiver that gets everything this server ingests (after write_relabel_configs), through an "
        "on-disk queue with retries.");
    w->String("url", &RemoteWriteConfig::url,
              "The receiver's remote-write endpoint: http://vm:8428/api/v1/write, "
              "http://mimir:8080/api/v1/push, http://thanos-receive:19291/api/v1/receive.")
        .String("name", &RemoteWriteConfig::name,
                "Names the destination in metrics (remote_name) and its queue's folder "
                "(<data_dir>/remote_write/<name>); default: rw- and a hash of the URL.")
        .Duration("remote_timeout", &RemoteWriteConfig::remote_timeout, "One request, connect to response.",
                  std::chrono::milliseconds(1))
        .StringMap("headers", &RemoteWriteConfig::headers,
                   "Headers sent with every request (a tenant: X-Scope-OrgID for Mimir, THANOS-TENANT for Thanos).")
        .List("write_relabel_configs", &RemoteWriteConfig::write_relabel_configs, relabel::ConfigSchema())
        .Nested("basic_auth", &RemoteWriteConfig::basic_auth, scrape::BasicAuthSchema())
        .Nested("authorization", &RemoteWriteConfig::authorization, scrape::AuthorizationSchema())
        .Nested("tls_config", &RemoteWriteConfig::tls_config, scrape::TlsConfigSchema())
        .Nested("queue_config", &RemoteWriteConfig::queue_config, QueueConfigSchema())
        .Validate([](const RemoteWriteConfig& c, const Node& n, Diagnostics& d) {
          CheckHttpUrl("remote_write url", c.url, n, d);
          if (std::string e = CheckName(c.name); !e.empty()) d.Add(n.position(), e);
          if (Status st = forward::CheckHeaders("remote_write", HeaderList(c.headers)); !st.ok()) {
            d.Add(n.position(), st.message());
          }
          CheckCredentials("remote_write", c.basic_auth, c.authorization, n, d);
        });
    return w;
  }();
  return *s;
}

const config::Section<RemoteQueryConfig>& RemoteQuerySchema() {
  static const auto* s = [] {
    auto* q = new Section<RemoteQueryConfig>(
        "remote_query",
        "Remote mode: PromQL queries, rule evaluation and the UI read metrics from this Prometheus-compatible query "
        "API (VictoriaMetrics, Mimir, Thanos Query, Prometheus) and the server keeps none; what the server writes "
        "goes to the remote_write destinations.");
    q->String("query_url", &RemoteQueryConfig::query_url,
              "Base URL of the query API, without /api/v1: http://vm:8428 (VictoriaMetrics single node), "
              "http://vmselect:8481/select/0/prometheus, http://mimir:8080/prometheus, http://thanos-query:9090.")
        .StringMap("headers", &RemoteQueryConfig::headers, "Headers sent with every request (a tenant id, ...).")
        .Nested("basic_auth", &RemoteQueryConfig::basic_auth, scrape::BasicAuthSchema())
        .Nested("authorization", &RemoteQueryConfig::authorization, scrape::AuthorizationSchema())
        .Nested("tls_config", &RemoteQueryConfig::tls_config, scrape::TlsConfigSchema())
        .Duration("timeout", &RemoteQueryConfig::timeout, "One request to the query API, connect to response.",
                  std::chrono::milliseconds(1))
        .ByteSize("max_response_size", &RemoteQueryConfig::max_response_size,
                  "A response larger than this (decompressed) fails its query, naming the limit.", 1024)
        .Validate([](const RemoteQueryConfig& c, const Node& n, Diagnostics& d) {
          if (!c.query_url.empty()) CheckHttpUrl("remote_query query_url", c.query_url, n, d);  // required in remote mode only (CheckRemoteMode)
          if (Status st = forward::CheckHeaders("remote_query", HeaderList(c.headers)); !st.ok()) {
            d.Add(n.position(), st.message());
          }
          CheckCredentials("remote_query", c.basic_auth, c.authorization, n, d);
        });
    return q;
  }();
  return *s;
}

std::string QueueName(const RemoteWriteConfig& config) {
  if (!config.name.empty()) return config.name;
  char buf[32];
  std::snprintf(buf, sizeof(buf), "rw-%016llx", static_cast<unsigned long long>(Fnv1a64(config.url)));
  return buf;
}

Status CheckRemoteWriteList(const std::vector<RemoteWriteConfig>& configs) {
  std::map<std::string, size_t> seen;
  for (size_t i = 0; i < configs.size(); ++i) {
    if (std::string e = CheckName(configs[i].name); !e.empty()) {
      return InvalidArgument("remote_write[" + std::to_string(i) + "]: " + e);
    }
    auto [it, inserted] = seen.emplace(QueueName(configs[i]), i);
    if (!inserted) {
      return InvalidArgument("remote_write[" + std::to_string(it->second) + "] and remote_write[" + std::to_string(i) +
                             "] have the same name \"" + it->first +
                             "\" (each destination needs its own queue folder: set distinct `name`s)");
    }
  }
  return Status::Ok();
}

Status CheckRemoteMode(const RemoteQueryConfig& query, const std::vector<RemoteWriteConfig>& destinations) {
  if (query.query_url.empty()) return InvalidArgument("remote_query.query_url is required in remote mode");
  if (destinations.empty()) {
    return InvalidArgument(
        "remote mode needs at least one remote_write destination: recording rules, derived series and ingested "
        "samples are written there (the server keeps no metrics of its own)");
  }
  return CheckRemoteWriteList(destinations);
}

}  // namespace tyto::remote
