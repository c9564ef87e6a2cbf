#include "alertmanager/nflog.h"

#include <algorithm>

namespace tyto::alertmanager {

std::string IntegrationKey(const std::string& receiver, std::string_view kind, int index) {
  return receiver + "/" + std::string(kind) + "/" + std::to_string(index);
}

const NflogEntry* NotificationLog::Find(const std::string& group_key, const std::string& integration_key) const {
  auto it = entries_.find(Key(group_key, integration_key));
  return it == entries_.end() ? nullptr : &it->second;
}

void NotificationLog::Log(const std::string& group_key, const std::string& integration_key, NflogEntry entry) {
  entries_[Key(group_key, integration_key)] = std::move(entry);
}

size_t NotificationLog::GarbageCollect(int64_t now_ms) {
  size_t n = 0;
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->second.expires_at_ms < now_ms) {
      it = entries_.erase(it);
      ++n;
    } else {
      ++it;
    }
  }
  return n;
}

namespace {

// Whether every element of `subset` is in `set` (both sorted).
bool Subset(const std::vector<uint64_t>& subset, const std::vector<uint64_t>& set) {
  return std::includes(set.begin(), set.end(), subset.begin(), subset.end());
}

}  // namespace

bool NeedsUpdate(const NflogEntry* entry, const std::vector<uint64_t>& firing, const std::vector<uint64_t>& resolved,
                 bool send_resolved, int64_t repeat_interval_ms, int64_t now_ms) {
  // Never notified: notify unless everything is already resolved.
  if (entry == nullptr) return !firing.empty();
  // A firing alert the receiver has not heard of.
  if (!Subset(firing, entry->firing)) return true;
  // Everything resolved: notify (whatever send_resolved says, so that the log forgets the
  // firing alerts) only when the receiver was told of firing ones.
  if (firing.empty()) return !entry->firing.empty();
  if (send_resolved && !Subset(resolved, entry->resolved)) return true;
  // Nothing changed: only after repeat_interval.
  return entry->timestamp_ms < now_ms - repeat_interval_ms;
}

void DeliveryRecords::Add(DeliveryRecord r) {
  records_.push_back(std::move(r));
  while (records_.size() > capacity_) records_.pop_front();
}

std::vector<DeliveryRecord> DeliveryRecords::Newest(size_t limit) const {
  std::vector<DeliveryRecord> out;
  for (auto it = records_.rbegin(); it != records_.rend(); ++it) {
    if (limit != 0 && out.size() >= limit) break;
    out.push_back(*it);
  }
  return out;
}

}  // namespace tyto::alertmanager
