// Alertmanager's silences: a set of matchers that mutes matching alerts between starts_at
// (inclusive) and ends_at (exclusive). Times are Unix milliseconds passed by the caller.
//
// A silence is pending before starts_at, active in [starts_at, ends_at), expired from ends_at
// on. Validation follows Alertmanager: an id, at least one matcher, at least one matcher that
// does not match the empty string (a silence of only such matchers would mute nearly every
// alert), and ends_at not before starts_at.
//
// A silence belongs to a tenant and mutes only that tenant's alerts (alert.h: AlertTenant); the
// API shows, replaces and expires only the request tenant's silences.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "alertmanager/alert.h"
#include "alertmanager/matchers.h"
#include "tyto/status.h"

namespace tyto::alertmanager {

enum class SilenceState { kPending, kActive, kExpired };
std::string_view SilenceStateName(SilenceState state);  // "pending", "active", "expired"

struct Silence {
  std::string id;
  Matchers matchers;
  int64_t starts_at = 0;  // Unix ms, inclusive
  int64_t ends_at = 0;    // Unix ms, exclusive
  int64_t updated_at = 0;
  std::string created_by;
  std::string comment;
  std::string tenant = std::string(kDefaultTenant);

  SilenceState StateAt(int64_t now) const;
  // Whether the silence is active at `now`, `labels` belong to its tenant and all its matchers
  // match.
  bool Mutes(const LabelSet& labels, int64_t now) const;
};

// The checks Alertmanager makes before storing a silence.
Status ValidateSilence(const Silence& silence);

// Silences in memory, by id. Not thread-safe: the owner serializes calls. Persisting them is
// a later step; the fields above are everything a snapshot has to write.
class SilenceStore {
 public:
  // Stores a new silence, validated. An empty id gets a fresh one ("silence-1", ...), which is
  // returned. An id already stored is kAlreadyExists. A silence that ends before `now` is
  // refused as Alertmanager refuses it (kInvalidArgument).
  Result<std::string> Add(Silence silence, int64_t now);
  // Ends a silence at `now`: a pending one ends (and starts) now, an active one ends now. An
  // expired silence is kFailedPrecondition; an unknown id kNotFound.
  Status Expire(std::string_view id, int64_t now);
  // Stores `silence` as it is (its id, times and updated_at kept), replacing the one with its
  // id: a silence another server stored (the cluster's shared silences). kInvalidArgument when
  // it fails validation.
  Status Put(Silence silence);
  // The silence with this id, or nullptr.
  const Silence* Get(std::string_view id) const;
  // All silences in id order, optionally only those in one state at `now`.
  std::vector<Silence> List(int64_t now, const SilenceState* only = nullptr) const;
  // The ids of active silences muting `labels` at `now`, in id order; empty when none.
  std::vector<std::string> Silenced(const LabelSet& labels, int64_t now) const;
  // Drops silences expired for at least `retention` ms before `now`; returns how many.
  size_t GarbageCollect(int64_t now, int64_t retention);

 private:
  std::map<std::string, Silence, std::less<>> silences_;
  uint64_t next_id_ = 1;
};

}  // namespace tyto::alertmanager
