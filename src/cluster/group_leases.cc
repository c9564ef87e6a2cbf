#include "cluster/group_leases.h"

#include <algorithm>
#include <utility>

#include "common/log.h"
#include "http/encoding.h"

namespace tyto::cluster {
namespace {

const log::Logger kLog("cluster");

}  // namespace

GroupLeases::GroupLeases(KeyValue* kv, Clock* clock, GroupLeasesOptions options)
    : kv_(kv), clock_(clock), options_(std::move(options)) {}

GroupLeases::~GroupLeases() { Stop(); }

std::string GroupLeases::Key(const std::string& file, const std::string& group) {
  std::string name = file;
  name.push_back('\0');
  name += group;
  return "rules." + http::Sha256Hex(name);
}

GroupLeases::Tracked* GroupLeases::Find(const std::string& file, const std::string& group) {
  const std::string key = Key(file, group);
  MutexLock l(&mu_);
  std::unique_ptr<Tracked>& t = tracked_[key];
  if (t == nullptr) {
    t = std::make_unique<Tracked>();
    t->file = file;
    t->group = group;
    t->lease = std::make_unique<Lease>(kv_, clock_, LeaseOptions{key, options_.node, options_.advertise_url, options_.ttl});
  }
  const int64_t now = clock_->NowMillis();
  if (t->last_asked_ms != 0) t->gap_ms = now - t->last_asked_ms;
  t->last_asked_ms = now;
  return t.get();
}

bool GroupLeases::MayEvaluate(const std::string& file, const std::string& group) {
  Tracked* t = Find(file, group);
  Result<bool> held = t->lease->Acquire();
  if (!held.ok()) {
    kLog.Warn("rule group lease: store unreachable", {{"group", file + ";" + group}, {"err", held.status()}});
    return t->lease->Held();
  }
  return *held;
}

void GroupLeases::Tick() {
  std::vector<Tracked*> all;
  {
    MutexLock l(&mu_);
    for (auto& [key, t] : tracked_) all.push_back(t.get());
  }
  const int64_t now = clock_->NowMillis();
  const int64_t ttl = options_.ttl.count();
  for (Tracked* t : all) {
    int64_t last_asked = 0, gap = 0;
    {
      MutexLock l(&mu_);
      last_asked = t->last_asked_ms;
      gap = t->gap_ms;
    }
    if (now - last_asked > std::max(2 * gap, 2 * ttl)) {
      // No longer asked about: the group left this server's configuration.
      if (t->lease->Held()) {
        if (Status s = t->lease->Release(); !s.ok()) kLog.Warn("releasing a lease failed", {{"key", t->lease->key()}, {"err", s}});
      }
      continue;
    }
    Result<bool> held = t->lease->Acquire();
    if (!held.ok()) kLog.Warn("rule group lease: store unreachable", {{"key", t->lease->key()}, {"err", held.status()}});
  }
}

void GroupLeases::Loop() {
  while (true) {
    Tick();
    MutexLock l(&mu_);
    if (stop_) return;
    cv_.wait_for(mu_.native(), std::max(std::chrono::milliseconds(1), options_.ttl / 3));
    if (stop_) return;
  }
}

void GroupLeases::Start() {
  MutexLock t(&thread_mu_);
  if (thread_.joinable()) return;
  {
    MutexLock l(&mu_);
    stop_ = false;
  }
  thread_ = std::thread([this] { Loop(); });
}

void GroupLeases::Stop() {
  MutexLock t(&thread_mu_);
  {
    MutexLock l(&mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::vector<Tracked*> all;
  {
    MutexLock l(&mu_);
    for (auto& [key, tr] : tracked_) all.push_back(tr.get());
  }
  for (Tracked* tr : all) {
    if (Status s = tr->lease->Release(); !s.ok()) kLog.Warn("releasing a lease failed", {{"key", tr->lease->key()}, {"err", s}});
  }
}

std::vector<GroupLeaseStatus> GroupLeases::Leases() const {
  std::vector<GroupLeaseStatus> out;
  MutexLock l(&mu_);
  for (const auto& [key, t] : tracked_) {
    GroupLeaseStatus s;
    s.file = t->file;
    s.group = t->group;
    s.key = key;
    s.held = t->lease->Held();
    if (auto seen = t->lease->LastSeen(); seen && seen->expires_at_ms > 0) s.holder = seen->node;
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace tyto::cluster
