// Labels: the identity of a series. A sorted set of name/value pairs; `__name__` holds the
// metric name. Names and values are UTF-8 (any bytes are kept as given). Two series are the
// same series exactly when their label sets are equal.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tyto/status.h"

namespace tyto {

inline constexpr std::string_view kMetricNameLabel = "__name__";

struct Label {
  std::string name;
  std::string value;
  friend bool operator==(const Label& a, const Label& b) { return a.name == b.name && a.value == b.value; }
};

class Labels {
 public:
  Labels() = default;
  // Copies share one immutable set (a reference count), so passing a series' labels along a
  // query's steps costs no allocation; the hash is computed once per set.
  Labels(const Labels& o) noexcept : rep_(o.rep_) {
    if (rep_ != nullptr) rep_->refs.fetch_add(1, std::memory_order_relaxed);
  }
  Labels(Labels&& o) noexcept : rep_(o.rep_) { o.rep_ = nullptr; }
  Labels& operator=(const Labels& o) noexcept {
    Labels(o).Swap(*this);
    return *this;
  }
  Labels& operator=(Labels&& o) noexcept {
    Labels(std::move(o)).Swap(*this);
    return *this;
  }
  ~Labels() { Release(); }
  void Swap(Labels& o) noexcept {
    Rep* r = rep_;
    rep_ = o.rep_;
    o.rep_ = r;
  }

  // Sorts by name. Fails on an empty name or a name given twice. Pairs with an empty value are
  // dropped: in Prometheus an empty label value is the same as no label.
  static Result<Labels> FromPairs(std::vector<Label> pairs);
  // Convenience for tests and literals: {"__name__", "up", "job", "node"}. Aborts on bad input.
  static Labels Of(std::initializer_list<std::string_view> name_value_pairs);

  // The value of `name`, or "" when absent.
  std::string_view Get(std::string_view name) const;
  bool Has(std::string_view name) const;
  std::string_view MetricName() const { return Get(kMetricNameLabel); }

  const std::vector<Label>& pairs() const { return rep_ != nullptr ? rep_->pairs : NoPairs(); }
  size_t size() const { return pairs().size(); }
  bool empty() const { return rep_ == nullptr; }
  auto begin() const { return pairs().begin(); }
  auto end() const { return pairs().end(); }

  // A stable 64-bit hash of the whole set (same set, same hash, across runs and machines).
  uint64_t Hash() const;

  // Prometheus's notation: up{instance="a:9100", job="node"}; values escaped.
  std::string ToString() const;

  friend bool operator==(const Labels& a, const Labels& b) {
    return a.rep_ == b.rep_ || a.pairs() == b.pairs();
  }
  friend bool operator<(const Labels& a, const Labels& b);

 private:
  friend class LabelsBuilder;
  struct Rep {
    std::atomic<uint32_t> refs{1};
    mutable std::atomic<uint64_t> hash{0};  // 0: not computed yet
    std::vector<Label> pairs;               // sorted by name, names unique, values non-empty
  };
  // Takes pairs already sorted, unique and non-empty; none gives the empty set.
  static Labels Adopt(std::vector<Label> pairs);
  static const std::vector<Label>& NoPairs();
  void Release() noexcept {
    if (rep_ != nullptr && rep_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete rep_;
  }
  Rep* rep_ = nullptr;  // null for the empty set
};

// Edits a label set (relabelling, adding target labels to scraped series): Set and Del in any
// order, then Build. Setting an empty value deletes, as in Prometheus.
class LabelsBuilder {
 public:
  LabelsBuilder() = default;
  explicit LabelsBuilder(const Labels& base) : pairs_(base.pairs()) {}
  void Reset(const Labels& base) { pairs_ = base.pairs(); }

  // The value of `name`, or "" when absent.
  std::string_view Get(std::string_view name) const;
  // Precondition: `name` is not empty (an empty name is ignored).
  void Set(std::string_view name, std::string_view value);
  void Del(std::string_view name);
  const std::vector<Label>& pairs() const { return pairs_; }
  bool empty() const { return pairs_.empty(); }

  Labels Build() const { return Labels::Adopt(pairs_); }

 private:
  std::vector<Label> pairs_;  // as in Labels: sorted, unique names, non-empty values
};

// For hash maps keyed by label sets (the hash is cached in the set).
struct LabelsHash {
  size_t operator()(const Labels& l) const { return static_cast<size_t>(l.Hash()); }
};

// Appends `value` escaped as label values are in the exposition format and in PromQL strings:
// backslash, double quote and line feed become \\, \" and \n.
void AppendEscapedLabelValue(std::string* out, std::string_view value);

// Prometheus's staleness marker: a NaN with this exact bit pattern marks a series as ended.
// Ordinary NaN samples use other bit patterns and are kept as values.
inline constexpr uint64_t kStaleNaNBits = 0x7ff0000000000002ull;
bool IsStaleMarker(double v);
double StaleMarker();

}  // namespace tyto
