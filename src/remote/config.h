// Configuration of metrics on a remote store (docs/remote-storage.md):
//
//   remote_write:                      # a list, as in prometheus.yml: each destination gets
//     - url: http://vm:8428/api/v1/write  #   everything the server ingests, after its relabeling
//       name: vm                       # the queue's folder and the remote_name label
//       remote_timeout: 30s
//       headers: {X-Scope-OrgID: fleet}
//       write_relabel_configs: [...]
//       basic_auth / authorization / tls_config: as for scrape jobs
//       queue_config:
//         max_shards: 4                # requests in flight at once (fixed: no resharding)
//         max_samples_per_send: 2000
//         batch_send_deadline: 5s
//         min_backoff: 30ms
//         max_backoff: 5s
//         max_size: 256MiB             # Tyto's: the on-disk queue's bound
//         fsync: interval              # Tyto's: or always
//
//   remote_query:                      # remote mode: queries read the remote store only
//     query_url: http://vm:8428        # Prometheus's query API lives under <query_url>/api/v1/
//     timeout: 2m
//     max_response_size: 256MiB
//     headers / basic_auth / authorization / tls_config
//
// The structs and their option tables; the server puts them into tyto.yml's schema.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "relabel/relabel.h"
#include "scrape/config.h"
#include "tyto/status.h"

namespace tyto::config {
template <typename T>
class Section;
}

namespace tyto::remote {

// remote_write[].queue_config. Prometheus's key names; `capacity` and `min_shards` are refused
// by name (the queue is on disk and the shard count fixed).
struct QueueConfig {
  int64_t max_shards = 4;
  int64_t max_samples_per_send = 2000;
  std::chrono::milliseconds batch_send_deadline{std::chrono::seconds(5)};
  std::chrono::milliseconds min_backoff{30};
  std::chrono::milliseconds max_backoff{std::chrono::seconds(5)};
  uint64_t max_size = 256ull << 20;
  std::string fsync = "interval";
};

// One entry of remote_write.
struct RemoteWriteConfig {
  std::string url;
  std::string name;  // empty: a hash of the URL (QueueName)
  std::chrono::milliseconds remote_timeout{std::chrono::seconds(30)};
  std::map<std::string, std::string> headers;
  std::vector<relabel::Config> write_relabel_configs;
  scrape::BasicAuth basic_auth;
  scrape::Authorization authorization;
  scrape::TlsConfig tls_config;
  QueueConfig queue_config;
};

// remote_query: the remote store's Prometheus query API, read by RemoteStorage.
struct RemoteQueryConfig {
  std::string query_url;
  std::map<std::string, std::string> headers;
  scrape::BasicAuth basic_auth;
  scrape::Authorization authorization;
  scrape::TlsConfig tls_config;
  std::chrono::milliseconds timeout{std::chrono::minutes(2)};
  uint64_t max_response_size = 256ull << 20;
};

// One remote_write entry: checks the URL, the headers (none Tyto sets itself), the relabel
// rules, backoffs and sizes, and that basic_auth and authorization are not both set.
const config::Section<RemoteWriteConfig>& RemoteWriteSchema();
const config::Section<QueueConfig>& QueueConfigSchema();
const config::Section<RemoteQueryConfig>& RemoteQuerySchema();

// The destination's name: `name`, or "rw-" and 16 hex digits of a hash of the URL (stable
// across runs and versions: it names the queue's folder).
std::string QueueName(const RemoteWriteConfig& config);

// What the whole list must satisfy beyond each entry: names (given or derived) unique, since
// each names a folder. kInvalidArgument naming the two entries.
Status CheckRemoteWriteList(const std::vector<RemoteWriteConfig>& configs);

// Remote mode needs a query_url and somewhere to write (rules, derived series, ingest):
// kInvalidArgument when `destinations` is empty.
Status CheckRemoteMode(const RemoteQueryConfig& query, const std::vector<RemoteWriteConfig>& destinations);

}  // namespace tyto::remote
