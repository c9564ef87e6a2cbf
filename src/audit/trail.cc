#include "audit/trail.h"

#include <deque>

#include "common/log.h"
#include "common/units.h"

namespace tyto::audit {
namespace {

const log::Logger kLog("audit");

constexpr int64_t kMinuteMs = 60'000;

bool EventKey(std::string_view k) {
  return k == "action" || k == "outcome" || k == "target" || k == "principal" || k == "tenant" || k == "remote";
}

// "10.0.0.1:5123" -> "10.0.0.1", "[::1]:80" -> "::1"; anything else as it is.
std::string Address(std::string_view remote) {
  if (remote.starts_with('[')) {
    size_t close = remote.find(']');
    if (close != std::string_view::npos) return std::string(remote.substr(1, close - 1));
  }
  size_t colon = remote.find(':');
  if (colon != std::string_view::npos && remote.find(':', colon + 1) == std::string_view::npos) {
    return std::string(remote.substr(0, colon));
  }
  return std::string(remote);
}

}  // namespace

bool Matches(const audit::Record& r, const Query& q) {
  if (r.time_ms < q.start_ms || r.time_ms > q.end_ms) return false;
  if (!q.action.empty()) {
    std::string_view a = r.Get("action");
    if (a != q.action && !(a.size() > q.action.size() && a.starts_with(q.action) && a[q.action.size()] == '.')) {
      return false;
    }
  }
  if (!q.principal.empty() && r.Get("principal") != q.principal) return false;
  if (!q.tenant.empty() && r.Get("tenant") != q.tenant) return false;
  return true;
}

Result<std::vector<audit::Record>> FindIn(Env* env, const std::string& path, const Query& query) {
  std::deque<audit::Record> kept;
  const size_t limit = std::min(query.limit, kMaxQueryLimit);
  if (limit == 0) return std::vector<audit::Record>{};
  TYTO_RETURN_IF_ERROR(ForEachRecord(env, path, [&](audit::Record&& r) {
    if (!Matches(r, query)) return true;
    kept.push_back(std::move(r));
    if (kept.size() > limit) kept.pop_front();
    return true;
  }));
  return std::vector<audit::Record>(std::make_move_iterator(kept.begin()), std::make_move_iterator(kept.end()));
}

Result<std::unique_ptr<Trail>> Trail::Open(Env* env, const std::string& dir, Clock* clock,
                                           instrumentation::Registry* registry, TrailOptions options) {
  TYTO_RETURN_IF_ERROR(env->CreateDirs(dir).WithContext("audit directory"));
  TYTO_ASSIGN_OR_RETURN(std::unique_ptr<ChainLog> log, ChainLog::Open(env, PathIn(dir), clock));
  return std::unique_ptr<Trail>(new Trail(env, std::move(log), clock, registry, options));
}

Trail::Trail(Env* env, std::unique_ptr<ChainLog> log, Clock* clock, instrumentation::Registry* registry,
             TrailOptions options)
    : env_(env), log_(std::move(log)), clock_(clock), options_(options) {
  records_ = &registry->AddCounter("tyto_audit_records_total", "Records written to the server's audit trail.")
                  .WithLabels({});
  errors_ = &registry->AddCounter("tyto_audit_errors_total", "Audit records that could not be written.")
                 .WithLabels({});
  suppressed_ = &registry->AddCounter("tyto_audit_auth_failures_summarized_total",
                                      "Failed authentications past the per-address limit, written as summaries only.")
                     .WithLabels({});
}

Trail::~Trail() { Flush(); }

void Trail::Write(const Event& e) {
  Entry entry;
  entry.strings.emplace_back("action", e.action);
  entry.strings.emplace_back("outcome", e.outcome);
  if (!e.target.empty()) entry.strings.emplace_back("target", e.target);
  if (!e.principal.empty()) entry.strings.emplace_back("principal", e.principal);
  if (!e.tenant.empty()) entry.strings.emplace_back("tenant", e.tenant);
  if (!e.remote.empty()) entry.strings.emplace_back("remote", e.remote);
  for (const auto& [k, v] : e.details) {
    if (!EventKey(k)) entry.strings.emplace_back(k, v);
  }
  Status s = log_->Append(entry);
  if (s.ok()) {
    records_->Inc();
  } else {
    errors_->Inc();
    kLog.Error("cannot write the audit trail", {{"path", log_->path()}, {"action", e.action}, {"error", s.ToString()}});
  }
}

void Trail::FlushBefore(int64_t minute) {
  if (minute_ == minute) return;
  for (const auto& [address, f] : failures_) {
    if (f.count <= f.written) continue;
    Event summary;
    summary.action = "auth.failed_summary";
    summary.outcome = "denied";
    summary.remote = address;
    summary.details = {{"suppressed", std::to_string(f.count - f.written)},
                       {"total", std::to_string(f.count)},
                       {"minute", FormatTimestamp(minute_ * kMinuteMs)},
                       {"last_principal", f.last_principal},
                       {"last_why", f.last_why}};
    Write(summary);
  }
  failures_.clear();
  failures_written_ = 0;
  minute_ = minute;
}

void Trail::Record(const Event& event) {
  MutexLock l(&mu_);
  const int64_t now = clock_->NowMillis();
  FlushBefore(now >= 0 ? now / kMinuteMs : (now - kMinuteMs + 1) / kMinuteMs);
  if (event.action == "auth.failed" || event.action == "auth.denied") {
    std::string address = Address(event.remote);
    if (!failures_.contains(address) && failures_.size() >= options_.max_tracked_addresses) address = "other";
    Failures& f = failures_[address];
    ++f.count;
    if (f.count > options_.auth_failures_per_minute ||
        failures_written_ >= options_.auth_failures_per_minute_total) {
      f.last_principal = event.principal;
      for (const auto& [k, v] : event.details) {
        if (k == "why") f.last_why = v;
      }
      suppressed_->Inc();
      return;
    }
    ++f.written;
    ++failures_written_;
  }
  Write(event);
}

void Trail::Flush() {
  MutexLock l(&mu_);
  FlushBefore(minute_ + 1);
}

Result<std::vector<audit::Record>> Trail::Find(const Query& query) const {
  return FindIn(env_, log_->path(), query);
}

}  // namespace tyto::audit
