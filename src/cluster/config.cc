#include "cluster/config.h"

#include <unistd.h>

#include <cstring>

#include "config/schema.h"

namespace tyto::cluster {
namespace {

bool NodeChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-';
}

bool ValidNode(const std::string& n) {
  if (n.empty() || n.size() > 253) return false;
  for (char c : n) {
    if (!NodeChar(c)) return false;
  }
  return true;
}

}  // namespace

const config::Section<ClusterConfig>& ClusterSchema() {
  static const auto* s = [] {
    auto* sec = new config::Section<ClusterConfig>(
        "cluster", "This server among several that share rule evaluation, notifications, silences and playbook "
                   "runs through the key-value store (docs/cluster.md).");
    sec->String("node", &ClusterConfig::node,
                "This server's name, unique in the cluster ([A-Za-z0-9._-]); empty: the host name.")
        .String("advertise_url", &ClusterConfig::advertise_url,
                "This server's URL as other servers and people reach it; recorded with the leases it holds.")
        .Duration("lease_ttl", &ClusterConfig::lease_ttl,
                  "How long a rule-group lease lasts without renewal (renewed every third of it); a group moves to "
                  "another server about this long after its holder stops.",
                  std::chrono::seconds(3))
        .Duration("poll_interval", &ClusterConfig::poll_interval,
                  "How often shared silences are read from the store.", std::chrono::milliseconds(100))
        .Duration("notification_claim_grace", &ClusterConfig::notification_claim_grace,
                  "A server's claim to send a notification lasts one delivery attempt plus this; a claim not "
                  "renewed or finished by then (its server died mid-send) may be taken over by another server.",
                  std::chrono::seconds(1))
        .Duration("playbook_claim_ttl", &ClusterConfig::playbook_claim_ttl,
                  "How long a playbook run's claim holds while the run is unfinished (a server that died mid-run "
                  "blocks the playbook for that incident this long).",
                  std::chrono::seconds(1))
        .StringList("peers", &ClusterConfig::peers,
                    "host:port of the other servers: the alerts of the rule groups this server evaluates are "
                    "sent to their dispatchers too, so that every server holds every alert (docs/cluster.md).")
        .String("peer_credentials_file", &ClusterConfig::peer_credentials_file,
                "With auth on: a file holding an API token (write scope) the peers accept, sent as Authorization: "
                "Bearer with the alerts.")
        .Validate([](const ClusterConfig& c, const config::Node& n, config::Diagnostics& d) {
          if (!c.node.empty() && !ValidNode(c.node)) {
            d.Add(n.position(), "cluster.node must be 1 to 253 characters of [A-Za-z0-9._-]");
          }
          if (c.poll_interval > std::chrono::minutes(1)) d.Add(n.position(), "cluster.poll_interval must be at most 1m");
        });
    return sec;
  }();
  return *s;
}

std::string ResolveNode(const ClusterConfig& config) {
  if (!config.node.empty()) return config.node;
  char buf[256] = {};
  if (::gethostname(buf, sizeof(buf) - 1) == 0 && buf[0] != '\0') {
    std::string host(buf, strnlen(buf, sizeof(buf)));
    std::string out;
    for (char c : host) out.push_back(NodeChar(c) ? c : '_');
    return out;
  }
  return "tyto";
}

}  // namespace tyto::cluster
