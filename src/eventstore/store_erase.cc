// EventStore: erasure (issue 12), fanned out over every partition: inference events first
// (their traces' spans and log records go too), then spans and log records.
#include "common/log.h"
#include "eventstore/store_impl.h"

namespace tyto::eventstore {

namespace {
const log::Logger kLog("eventstore");
}  // namespace

Result<EraseResult> EventStore::Erase(const EraseRequest& request) { return impl_->Erase(request); }

Result<EraseResult> EventStore::Impl::Erase(const EraseRequest& request) {
  TYTO_RETURN_IF_ERROR(CheckOpen());
  if (request.org.empty()) return InvalidArgument("erasure needs the tenant whose records go");
  // Appends wait: a group commit must not write into a partition being rewritten.
  MutexLock commit(&commit_mu_);
  const std::vector<std::shared_ptr<Partition>> all =
      Overlapping(std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max());
  EraseResult out;
  std::set<std::string> traces;  // of the erased events, 16 bytes each
  Status first;
  for (const bool events : {true, false}) {
    for (const std::shared_ptr<Partition>& p : all) {
      if (Status s = p->Erase(request, &traces, events, &out); !s.ok() && first.ok()) first = s;
    }
  }
  if (!first.ok()) return first;
  return out;
}

void EventStore::SetOrgRetention(OrgRetention retention) { impl_->SetOrgRetention(std::move(retention)); }

void EventStore::Impl::SetOrgRetention(OrgRetention retention) {
  MutexLock lock(&retention_mu_);
  org_retention_ = std::move(retention);
}

Status EventStore::Impl::SweepOrgRetention(int64_t now_ms) {
  OrgRetention retention;
  {
    MutexLock lock(&retention_mu_);
    retention = org_retention_;
  }
  Status first;
  for (const auto& [org, keep] : retention) {
    if (keep.count() <= 0 || keep >= options_.retention) continue;  // the store's own applies
    Result<EraseResult> r = Erase({.org = org, .before_ms = now_ms - keep.count()});
    if (!r.ok()) {
      kLog.Warn("event store: a tenant's retention could not be applied", {{"tenant", org}, {"error", r.status()}});
      if (first.ok()) first = r.status();
    } else if (r->spans + r->logs + r->inference_events > 0) {
      kLog.Info("event store: rows past a tenant's retention erased",
                {{"tenant", org}, {"spans", r->spans}, {"logs", r->logs}, {"inference_events", r->inference_events}});
    }
  }
  return first;
}

}  // namespace tyto::eventstore
