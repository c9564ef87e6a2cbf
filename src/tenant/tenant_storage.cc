#include "tenant/tenant_storage.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "auth/auth.h"
#include "tenant/limits.h"

namespace tyto::tenant {
namespace {

class TenantAppender final : public Appender {
 public:
  // The limits are the ones in force when the appender is made (one request's).
  TenantAppender(const TenantStorage* storage, std::unique_ptr<Appender> base, Limiter* limiter)
      : storage_(storage),
        base_(std::move(base)),
        limiter_(limiter != nullptr && limiter->any() ? limiter : nullptr),
        series_limited_(limiter_ != nullptr && limiter_->For(storage->tenant()).max_active_series > 0) {}

  Result<SeriesRef> Append(SeriesRef ref, const Labels& labels, int64_t t, double v) override {
    // Always the stored labels, even with a ref: a store that does not know the ref (any more)
    // creates the series from them, and it must be the tenant's.
    Labels stored = storage_->Stored(labels);
    if (series_limited_) TYTO_RETURN_IF_ERROR(limiter_->AdmitSeries(storage_->tenant(), stored, t));
    ++samples_;
    return base_->Append(ref, stored, t, v);
  }

  // The tenant's ingest rate is charged with what was committed (limits.h: checked before the
  // next request by the API).
  Status Commit() override {
    const uint64_t n = samples_;
    samples_ = 0;
    TYTO_RETURN_IF_ERROR(base_->Commit());
    if (limiter_ != nullptr) limiter_->ChargeIngest(storage_->tenant(), n);
    return Status::Ok();
  }

  void Rollback() override {
    samples_ = 0;
    base_->Rollback();
  }

 private:
  const TenantStorage* storage_;
  std::unique_ptr<Appender> base_;
  Limiter* const limiter_;     // null when no tenant has a limit
  const bool series_limited_;  // the tenant has max_active_series
  uint64_t samples_ = 0;
};

class TenantSeriesSet final : public SeriesSet {
 public:
  explicit TenantSeriesSet(std::unique_ptr<SeriesSet> base) : base_(std::move(base)) {}
  bool Next() override {
    if (!base_->Next()) return false;
    labels_ = WithoutTenant(base_->labels());
    return true;
  }
  const Labels& labels() const override { return labels_; }
  std::unique_ptr<SeriesIterator> Iterator() const override { return base_->Iterator(); }
  Status status() const override { return base_->status(); }

 private:
  std::unique_ptr<SeriesSet> base_;
  Labels labels_;
};

// ScopeMatchers, with the tenant's matcher and one that matches no series made.
std::vector<Matcher> Scope(const std::vector<Matcher>& matchers, const Matcher& tenant, const Matcher& none) {
  std::vector<Matcher> out;
  out.reserve(matchers.size() + 1);
  bool nothing = false;
  for (const Matcher& m : matchers) {
    if (m.name() != kTenantLabel) out.push_back(m);
    else if (!m.MatchesEmpty()) nothing = true;  // it cannot widen the view
  }
  out.push_back(nothing ? none : tenant);
  return out;
}

// The matcher of a tenant's series, and one no series has (no tenant has this name).
Result<std::pair<Matcher, Matcher>> TenantMatchers(std::string_view label_value) {
  TYTO_ASSIGN_OR_RETURN(Matcher m, Matcher::Make(MatchType::kEqual, std::string(kTenantLabel), std::string(label_value)));
  TYTO_ASSIGN_OR_RETURN(Matcher none, Matcher::Make(MatchType::kEqual, std::string(kTenantLabel), "."));
  return std::make_pair(std::move(m), std::move(none));
}

class TenantQuerier final : public Querier {
 public:
  TenantQuerier(std::unique_ptr<Querier> base, Matcher tenant, Matcher none)
      : base_(std::move(base)), tenant_(std::move(tenant)), none_(std::move(none)) {}

  std::unique_ptr<SeriesSet> Select(const std::vector<Matcher>& matchers) override {
    return std::make_unique<TenantSeriesSet>(base_->Select(Scoped(matchers)));
  }
  std::unique_ptr<SeriesSet> SelectWithHints(const std::vector<Matcher>& matchers, const SelectHints& hints) override {
    return std::make_unique<TenantSeriesSet>(base_->SelectWithHints(Scoped(matchers), hints));
  }
  Result<std::vector<std::string>> LabelNames(const std::vector<Matcher>& matchers) override {
    TYTO_ASSIGN_OR_RETURN(std::vector<std::string> names, base_->LabelNames(Scoped(matchers)));
    std::erase(names, std::string(kTenantLabel));
    return names;
  }
  Result<std::vector<std::string>> LabelValues(const std::string& name, const std::vector<Matcher>& matchers) override {
    if (name == kTenantLabel) return std::vector<std::string>{};
    return base_->LabelValues(name, Scoped(matchers));
  }

 private:
  std::vector<Matcher> Scoped(const std::vector<Matcher>& matchers) const { return Scope(matchers, tenant_, none_); }

  std::unique_ptr<Querier> base_;
  Matcher tenant_;
  Matcher none_;  // matches no series: no tenant has this name
};

}  // namespace

TenantStorage::TenantStorage(Storage* base, std::string tenant, Limiter* limiter)
    : base_(base),
      tenant_(std::move(tenant)),
      label_value_(tenant_ == auth::kDefaultTenant ? std::string() : tenant_),
      limiter_(limiter) {}

Labels TenantStorage::Stored(const Labels& labels) const {
  if (label_value_.empty() && !labels.Has(kTenantLabel)) return labels;
  LabelsBuilder b(labels);
  b.Set(kTenantLabel, label_value_);  // an empty value deletes
  return b.Build();
}

std::unique_ptr<Appender> TenantStorage::NewAppender() {
  return std::make_unique<TenantAppender>(this, base_->NewAppender(), limiter_);
}

Result<std::unique_ptr<Querier>> TenantStorage::NewQuerier(int64_t mint, int64_t maxt) {
  TYTO_ASSIGN_OR_RETURN(std::unique_ptr<Querier> q, base_->NewQuerier(mint, maxt));
  TYTO_ASSIGN_OR_RETURN(auto matchers, TenantMatchers(label_value_));
  return std::unique_ptr<Querier>(
      std::make_unique<TenantQuerier>(std::move(q), std::move(matchers.first), std::move(matchers.second)));
}

Result<std::vector<Matcher>> ScopeMatchers(std::string_view tenant, const std::vector<Matcher>& matchers) {
  TYTO_ASSIGN_OR_RETURN(auto scoped, TenantMatchers(tenant == auth::kDefaultTenant ? std::string_view() : tenant));
  return Scope(matchers, scoped.first, scoped.second);
}

Labels WithoutTenant(const Labels& labels) {
  if (!labels.Has(kTenantLabel)) return labels;
  LabelsBuilder b(labels);
  b.Del(kTenantLabel);
  return b.Build();
}

}  // namespace tyto::tenant
