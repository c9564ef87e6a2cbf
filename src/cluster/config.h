// The `cluster:` section of tyto.yml: this server's identity among several servers that share
// state through the key-value store (kv.h) and the timings of their coordination.
//
//   cluster:
//     node: tyto-1                       # unique per server; default: the host name
//     advertise_url: http://tyto-1:9090  # shown as a lease's holder
//     lease_ttl: 15s                     # rule-group leases; renewed every lease_ttl/3
//     poll_interval: 1s                  # shared silences are read this often
//     notification_claim_grace: 15s      # a claim to send outlives one delivery attempt by this
//     playbook_claim_ttl: 1h             # a playbook run's claim while the run is unfinished
//     peers: [tyto-2:9090, tyto-3:9090]  # the other servers: rule alerts go to their dispatchers too
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace tyto::config {
template <typename T>
class Section;
}

namespace tyto::cluster {

struct ClusterConfig {
  std::string node;  // empty: the host name (ResolveNode)
  std::string advertise_url;
  std::chrono::milliseconds lease_ttl{std::chrono::seconds(15)};
  std::chrono::milliseconds poll_interval{std::chrono::seconds(1)};
  std::chrono::milliseconds notification_claim_grace{std::chrono::seconds(15)};
  std::chrono::milliseconds playbook_claim_ttl{std::chrono::hours(1)};
  // host:port of the other servers (this one may be listed too; the lead's wiring skips it).
  std::vector<std::string> peers;
  std::string peer_credentials_file;  // a token the peers accept (auth on); empty: none sent
  friend bool operator==(const ClusterConfig&, const ClusterConfig&) = default;
};

// Node names become part of values only, but must be unique and readable: 1 to 253 characters
// of [A-Za-z0-9._-]. lease_ttl at least 3s, poll_interval 100ms to 1m.
const config::Section<ClusterConfig>& ClusterSchema();

// `config.node`, or the host name when it is empty ("tyto" when even that is unknown).
std::string ResolveNode(const ClusterConfig& config);

}  // namespace tyto::cluster
