// PlaybookClaims: a playbook never runs twice for one incident across the servers of a cluster.
// Before a run starts (playbook::Hooks::claim_run) the server claims
//   playbook.<sha256 hex of playbook name \0 alert fingerprint>
// with Create (or a compare-and-set over an expired claim); only the winner runs. The alert's
// fingerprint stands for the incident: incident ids are numbered by each server's tracker, the
// alert's labels are the same everywhere.
//
// A claim lasts run_ttl while the run is unfinished and, once it finished (Hooks::
// run_finished), the playbook's cooldown from then on: as on one server, the same playbook may
// run again for the same alert only after its cooldown. A server that dies mid-run holds the
// claim until run_ttl passes. An unreachable store refuses the claim (no run; the next trigger
// of the incident asks again): running a remediation twice is worse than running it late.
// docs/cluster.md has the record.
//
// Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "alertmanager/alert.h"
#include "cluster/kv.h"
#include "tyto/clock.h"

namespace tyto::cluster {

struct PlaybookClaimsOptions {
  std::string node;
  std::chrono::milliseconds run_ttl{std::chrono::hours(1)};
};

struct PlaybookClaimRecord {
  std::string node;
  std::string playbook;
  std::string incident;  // the claiming server's incident id, for people
  std::string state;     // "running" or "finished"
  int64_t claimed_at_ms = 0;
  int64_t expires_at_ms = 0;
};
std::string EncodePlaybookClaim(const PlaybookClaimRecord& r);
Result<PlaybookClaimRecord> DecodePlaybookClaim(std::string_view value);

class PlaybookClaims {
 public:
  // `kv` and `clock` must outlive this object.
  PlaybookClaims(KeyValue* kv, Clock* clock, PlaybookClaimsOptions options);

  static std::string Key(const std::string& playbook, const alertmanager::LabelSet& alert_labels);

  // playbook::Hooks::claim_run: whether this server may start the run.
  bool Claim(const std::string& playbook, const std::string& incident_id, const alertmanager::Alert& alert,
             std::chrono::milliseconds cooldown);
  // playbook::Hooks::run_finished: the claim now ends `cooldown` from now.
  void Finished(const std::string& playbook, const alertmanager::LabelSet& alert_labels,
                std::chrono::milliseconds cooldown);

 private:
  KeyValue* const kv_;
  Clock* const clock_;
  const PlaybookClaimsOptions options_;
};

}  // namespace tyto::cluster
