#include "alertmanager/silence.h"

#include <algorithm>

namespace tyto::alertmanager {

std::string_view SilenceStateName(SilenceState state) {
  switch (state) {
    case SilenceState::kPending: return "pending";
    case SilenceState::kActive: return "active";
    case SilenceState::kExpired: return "expired";
  }
  return "unknown";
}

SilenceState Silence::StateAt(int64_t now) const {
  if (now < starts_at) return SilenceState::kPending;
  if (now < ends_at) return SilenceState::kActive;
  return SilenceState::kExpired;
}

bool Silence::Mutes(const LabelSet& labels, int64_t now) const {
  return StateAt(now) == SilenceState::kActive && AlertTenant(labels) == tenant && MatchesAll(matchers, labels);
}

Status ValidateSilence(const Silence& s) {
  if (s.id.empty()) return InvalidArgument("silence id missing");
  if (s.tenant.empty()) return InvalidArgument("silence " + s.id + ": tenant missing");
  if (s.matchers.empty()) return InvalidArgument("at least one matcher required");
  bool all_match_empty = std::all_of(s.matchers.begin(), s.matchers.end(),
                                     [](const Matcher& m) { return m.MatchesValue(""); });
  if (all_match_empty) return InvalidArgument("at least one matcher must not match the empty string");
  if (s.starts_at == 0) return InvalidArgument("invalid zero start timestamp");
  if (s.ends_at == 0) return InvalidArgument("invalid zero end timestamp");
  if (s.ends_at < s.starts_at) return InvalidArgument("end time must not be before start time");
  return Status::Ok();
}

Result<std::string> SilenceStore::Add(Silence silence, int64_t now) {
  if (silence.id.empty()) {
    do {
      silence.id = "silence-" + std::to_string(next_id_++);
    } while (silences_.count(silence.id) != 0);
  } else if (silences_.count(silence.id) != 0) {
    return Status(StatusCode::kAlreadyExists, "silence " + silence.id + " already exists");
  }
  TYTO_RETURN_IF_ERROR(ValidateSilence(silence));
  if (silence.ends_at < now) return InvalidArgument("end time must not be in the past");
  // A new silence cannot start in the past, as in Alertmanager.
  silence.starts_at = std::max(silence.starts_at, now);
  if (silence.ends_at < silence.starts_at) silence.ends_at = silence.starts_at;
  silence.updated_at = now;
  std::string id = silence.id;
  silences_.emplace(id, std::move(silence));
  return id;
}

Status SilenceStore::Expire(std::string_view id, int64_t now) {
  auto it = silences_.find(id);
  if (it == silences_.end()) return NotFound("silence " + std::string(id) + " not found");
  Silence& s = it->second;
  switch (s.StateAt(now)) {
    case SilenceState::kExpired:
      return FailedPrecondition("silence " + s.id + " already expired");
    case SilenceState::kPending:
      s.starts_at = now;
      s.ends_at = now;
      break;
    case SilenceState::kActive:
      s.ends_at = now;
      break;
  }
  s.updated_at = now;
  return Status::Ok();
}

Status SilenceStore::Put(Silence silence) {
  TYTO_RETURN_IF_ERROR(ValidateSilence(silence));
  std::string id = silence.id;
  silences_.insert_or_assign(std::move(id), std::move(silence));
  return Status::Ok();
}

const Silence* SilenceStore::Get(std::string_view id) const {
  auto it = silences_.find(id);
  return it == silences_.end() ? nullptr : &it->second;
}

std::vector<Silence> SilenceStore::List(int64_t now, const SilenceState* only) const {
  std::vector<Silence> out;
  for (const auto& [id, s] : silences_) {
    if (only == nullptr || s.StateAt(now) == *only) out.push_back(s);
  }
  return out;
}

std::vector<std::string> SilenceStore::Silenced(const LabelSet& labels, int64_t now) const {
  std::vector<std::string> out;
  for (const auto& [id, s] : silences_) {
    if (s.Mutes(labels, now)) out.push_back(id);
  }
  return out;
}

size_t SilenceStore::GarbageCollect(int64_t now, int64_t retention) {
  size_t n = 0;
  for (auto it = silences_.begin(); it != silences_.end();) {
    if (it->second.StateAt(now) == SilenceState::kExpired && it->second.ends_at <= now - retention) {
      it = silences_.erase(it);
      ++n;
    } else {
      ++it;
    }
  }
  return n;
}

}  // namespace tyto::alertmanager
