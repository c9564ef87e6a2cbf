// The evaluator: selectors read once per query, every node evaluated at every step.
#include "promql/engine.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <numbers>
#include <ctime>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include <re2/re2.h>

#include "promql/eval.h"
#include "promql/functions.h"
#include "promql/lex.h"
#include "promql/parser.h"
#include "relabel/relabel.h"

namespace tyto::promql {

bool IsMetadataLabel(std::string_view name) { return name == kMetricNameLabel || name == "__type__" || name == "__unit__"; }

Labels DropName(const Labels& l) {
  if (std::none_of(l.begin(), l.end(), [](const Label& x) { return IsMetadataLabel(x.name); })) return l;
  LabelsBuilder b(l);
  b.Del(kMetricNameLabel);
  b.Del("__type__");
  b.Del("__unit__");
  return b.Build();
}

std::string LabelsString(const Labels& l) {
  std::string out = "{";
  for (const Label& x : l) {
    if (out.size() > 1) out += ", ";
    out += IsLegacyLabelName(x.name) ? x.name : GoQuote(x.name);
    out += '=';
    out += GoQuote(x.value);
  }
  out += '}';
  return out;
}

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

Status RuntimeError(std::string msg) { return InvalidArgument(std::move(msg)); }

bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    const int n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + static_cast<size_t>(n) > s.size()) return false;
    for (int k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + static_cast<size_t>(k)]) >> 6) != 2) return false;
    }
    i += static_cast<size_t>(n);
  }
  return true;
}

// Natural order, as Prometheus's sort_by_label: runs of digits compare by their number.
bool NaturalLess(std::string_view a, std::string_view b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    const bool da = std::isdigit(static_cast<unsigned char>(a[i])) != 0;
    const bool db = std::isdigit(static_cast<unsigned char>(b[j])) != 0;
    if (da && db) {
      size_t ie = i, je = j;
      while (ie < a.size() && std::isdigit(static_cast<unsigned char>(a[ie]))) ++ie;
      while (je < b.size() && std::isdigit(static_cast<unsigned char>(b[je]))) ++je;
      std::string_view na = a.substr(i, ie - i), nb = b.substr(j, je - j);
      while (na.size() > 1 && na[0] == '0') na.remove_prefix(1);
      while (nb.size() > 1 && nb[0] == '0') nb.remove_prefix(1);
      if (na.size() != nb.size()) return na.size() < nb.size();
      if (na != nb) return na < nb;
      i = ie;
      j = je;
      continue;
    }
    if (a[i] != b[j]) return a[i] < b[j];
    ++i;
    ++j;
  }
  return a.size() - i < b.size() - j;
}

// The signature of a label set restricted to (on) or without (ignoring) `names`, for matching
// and grouping.
std::string Signature(const Labels& l, const std::vector<std::string>& names, bool on) {
  std::string sig;
  for (const Label& x : l) {
    const bool listed = std::find(names.begin(), names.end(), x.name) != names.end();
    if (on ? !listed : (listed || x.name == kMetricNameLabel)) continue;
    sig.append(x.name);
    sig.push_back('\xff');
    sig.append(x.value);
    sig.push_back('\xff');
  }
  return sig;
}

// The expression inside any parentheses: what Prometheus's annotations point at for a function
// argument or aggregation parameter.
const Expr& Unparenthesized(const Expr& e) {
  const Expr* x = &e;
  while (x->kind() == NodeKind::kParen) x = x->As<ParenExpr>().expr.get();
  return *x;
}

Labels KeepOnly(const Labels& l, const std::vector<std::string>& names, bool on) {
  LabelsBuilder b;
  for (const Label& x : l) {
    const bool listed = std::find(names.begin(), names.end(), x.name) != names.end();
    if (on ? listed : (!listed && x.name != kMetricNameLabel)) b.Set(x.name, x.value);
  }
  return b.Build();
}

// Stops a query past its deadline or once its caller gives up. Check() runs per node evaluated
// and per series loaded: the clock is read each time (cheap), the cancellation callback (a
// system call for the HTTP API) at most every 10 ms.
class Stopper {
 public:
  using Clock = std::chrono::steady_clock;
  Stopper(Clock::time_point deadline, const std::function<bool()>* cancelled)
      : deadline_(deadline), cancelled_(cancelled) {}

  Status Check(std::string_view where = "expression evaluation") {
    const Clock::time_point now = Clock::now();
    if (now >= deadline_) return DeadlineExceeded("query timed out in " + std::string(where));
    if (cancelled_ != nullptr && *cancelled_ && now >= next_poll_) {
      next_poll_ = now + std::chrono::milliseconds(10);
      if ((*cancelled_)()) return Cancelled("query was canceled in " + std::string(where));
    }
    return Status::Ok();
  }
  Clock::time_point deadline() const { return deadline_; }

 private:
  Clock::time_point deadline_;
  const std::function<bool()>* cancelled_;
  Clock::time_point next_poll_{};
};

class Evaluator {
 public:
  Evaluator(Storage* storage, const EngineOptions& options, Stopper* stop, int64_t query_start, int64_t query_end,
            int64_t query_step)
      : storage_(storage),
        options_(options),
        stop_(stop),
        query_start_(query_start),
        query_end_(query_end),
        query_step_(query_step) {}

  Result<Val> Eval(const Expr& e, const Steps& steps);
  // A range-vector node (matrix selector or subquery) at every step. `func` is the function
  // applied to it, passed to the storage as a hint (rollups answer rate() with their counter).
  Result<Windows> EvalWindows(const Expr& e, const Steps& steps, std::string_view func = {});
  // The query's warnings and infos.
  Annotations& annotations() { return annotations_; }
  // Drops an element's metric name (and metadata labels) now or, with delayed name removal,
  // marks it to be dropped when the query ends.
  void DropNameOf(Elem* e) const {
    if (options_.delayed_name_removal) {
      e->drop_name = true;
    } else {
      e->metric = DropName(e->metric);
    }
  }
  // A new element with `src`'s labels, name dropped (or marked) as DropNameOf does.
  Elem NameDropped(const Elem& src, double v, int64_t t) const {
    if (options_.delayed_name_removal) return {src.metric, v, t, true};
    return {DropName(src.metric), v, t, false};
  }

 private:
  // The time a selector or subquery is evaluated at for step time t.
  int64_t At(AtModifier at, int64_t ts, int64_t offset_ms, int64_t t) const {
    int64_t base = t;
    if (at == AtModifier::kTimestamp) base = ts;
    if (at == AtModifier::kStart) base = query_start_;
    if (at == AtModifier::kEnd) base = query_end_;
    return base - offset_ms;
  }
  // A duration slot's milliseconds; expressions with step() or range() are evaluated here.
  Result<int64_t> Ms(const Duration& d) const {
    if (d.IsConstant() || !d.expr) return d.value.count();
    TYTO_ASSIGN_OR_RETURN(auto v, EvaluateDuration(*d.expr, std::chrono::milliseconds(query_step_),
                                                   std::chrono::milliseconds(query_end_ - query_start_)));
    return v.count();
  }
  Result<std::vector<Series>> Load(const VectorSelector& vs, int64_t mint, int64_t maxt, const SelectHints& hints = {});
  Result<Val> EvalSelector(const VectorSelector& vs, const Steps& steps);
  Result<Val> EvalBinary(const BinaryExpr& b, const Steps& steps);
  Result<Val> EvalAggregate(const AggregateExpr& a, const Steps& steps);
  Result<Val> EvalCall(const Call& c, const Steps& steps);
  Result<Val> EvalInfo(const Call& c, const Steps& steps);
  // The time the first selector of `e` reads at for step time t (its @ and offsets and those of
  // the subqueries around it), which info() reads its info series at.
  Result<std::function<int64_t(int64_t)>> ReferenceTime(const Expr& e);
  Status Charge(uint64_t samples) {
    TYTO_RETURN_IF_ERROR(stop_->Check());
    loaded_ += samples;
    if (loaded_ > options_.max_samples) {
      return ResourceExhausted("query processing would load too many samples into memory in query execution");
    }
    return Status::Ok();
  }

  Storage* storage_;
  const EngineOptions& options_;
  Stopper* stop_;
  int64_t query_start_;
  int64_t query_end_;
  int64_t query_step_;  // 0 for instant queries
  uint64_t loaded_ = 0;
  Annotations annotations_;
};

Result<std::vector<Series>> Evaluator::Load(const VectorSelector& vs, int64_t mint, int64_t maxt,
                                            const SelectHints& hints) {
  TYTO_ASSIGN_OR_RETURN(auto q, storage_->NewQuerier(mint, maxt));
  auto set = q->SelectWithHints(vs.matchers, hints);
  std::vector<Series> out;
  while (set->Next()) {
    Series s{set->labels(), {}};
    auto it = set->Iterator();
    while (it->Next()) {
      const Sample smp = it->At();
      s.points.push_back({smp.t, smp.v});
    }
    TYTO_RETURN_IF_ERROR(it->status());
    TYTO_RETURN_IF_ERROR(Charge(s.points.size()));
    out.push_back(std::move(s));
  }
  TYTO_RETURN_IF_ERROR(set->status());
  return out;
}

Result<Val> Evaluator::EvalSelector(const VectorSelector& vs, const Steps& steps) {
  const int64_t lookback = options_.lookback_delta.count();
  TYTO_ASSIGN_OR_RETURN(const int64_t offset, Ms(vs.offset));
  const int64_t first = At(vs.at, vs.timestamp_ms, offset, steps.start);
  const int64_t last = At(vs.at, vs.timestamp_ms, offset, steps.end);
  // A smoothed selector also reads the lookback delta after t, to interpolate towards it.
  const int64_t after = vs.smoothed ? lookback : 0;
  TYTO_ASSIGN_OR_RETURN(std::vector<Series> series,
                        Load(vs, std::min(first, last) - lookback + 1, std::max(first, last) + after));
  Val out;
  out.type = ValueType::kVector;
  out.vectors.resize(steps.size());
  if (vs.smoothed) {
    auto after_t = [](int64_t x, const Point& p) { return x < p.t; };
    for (Series& s : series) {
      std::erase_if(s.points, [](const Point& p) { return IsStaleMarker(p.v); });
      for (size_t i = 0; i < steps.size(); ++i) {
        const int64_t t = At(vs.at, vs.timestamp_ms, offset, steps.At(i));
        auto lo = std::upper_bound(s.points.begin(), s.points.end(), t - lookback, after_t);
        auto hi = std::upper_bound(lo, s.points.end(), t + lookback, after_t);
        double v = 0;
        if (SmoothedValue(std::span<const Point>(s.points.data() + (lo - s.points.begin()), static_cast<size_t>(hi - lo)), t, &v)) {
          out.vectors[i].push_back({s.metric, v, t});
        }
      }
    }
    return out;
  }
  for (Vector& v : out.vectors) v.reserve(series.size());
  uint64_t produced = 0;
  for (const Series& s : series) {
    // The steps' times never decrease, so the latest sample at or before each is found by a
    // cursor moving forward.
    size_t next = 0;  // the first sample after the previous step's time
    for (size_t i = 0; i < steps.size(); ++i) {
      const int64_t t = At(vs.at, vs.timestamp_ms, offset, steps.At(i));
      if (i > 0 && t < At(vs.at, vs.timestamp_ms, offset, steps.At(i - 1))) next = 0;
      while (next < s.points.size() && s.points[next].t <= t) ++next;
      if (next == 0) continue;
      const Point& p = s.points[next - 1];
      if (p.t <= t - lookback || IsStaleMarker(p.v)) continue;
      out.vectors[i].push_back({s.metric, p.v, p.t});
      ++produced;
    }
    // A sample repeats at every step its lookback reaches: those copies count against
    // max_samples too, as in Prometheus, so a fine step cannot blow the memory up.
    TYTO_RETURN_IF_ERROR(Charge(produced));
    produced = 0;
  }
  return out;
}

// Cuts the window (t - range, t] out of each series, as views into `data` (each sorted by
// time). Steps come in time order, so every series keeps cursors that only move forward: a
// whole range query slices in time linear in the samples, not a search per step and series.
class Slicer {
 public:
  explicit Slicer(const std::vector<Series>& data) : data_(data), lo_(data.size(), 0), hi_(data.size(), 0) {}

  void Slice(int64_t t, int64_t range, Window* w) {
    if (t < last_t_) {  // not in time order (never expected): start over
      std::fill(lo_.begin(), lo_.end(), 0);
      std::fill(hi_.begin(), hi_.end(), 0);
    }
    last_t_ = t;
    const int64_t from = t - range;  // left-open
    w->series.reserve(data_.size());
    for (size_t k = 0; k < data_.size(); ++k) {
      const std::vector<Point>& pts = data_[k].points;
      size_t lo = lo_[k];
      while (lo < pts.size() && pts[lo].t <= from) ++lo;
      size_t hi = std::max(hi_[k], lo);
      while (hi < pts.size() && pts[hi].t <= t) ++hi;
      lo_[k] = lo;
      hi_[k] = hi;
      if (lo != hi) w->series.push_back({k, std::span<const Point>(pts.data() + lo, hi - lo)});
    }
  }

 private:
  const std::vector<Series>& data_;
  std::vector<size_t> lo_, hi_;
  int64_t last_t_ = std::numeric_limits<int64_t>::min();
};

Result<Windows> Evaluator::EvalWindows(const Expr& e, const Steps& steps, std::string_view func) {
  Windows out;
  out.steps.resize(steps.size());
  if (e.kind() == NodeKind::kMatrixSelector) {
    const auto& m = e.As<MatrixSelector>();
    const VectorSelector& vs = *m.selector;
    TYTO_ASSIGN_OR_RETURN(const int64_t range, Ms(m.range));
    TYTO_ASSIGN_OR_RETURN(const int64_t offset, Ms(vs.offset));
    const int64_t first = At(vs.at, vs.timestamp_ms, offset, steps.start);
    const int64_t last = At(vs.at, vs.timestamp_ms, offset, steps.end);
    SelectHints hints;
    hints.func = std::string(func);
    hints.range_ms = range;
    hints.step_ms = steps.size() > 1 ? steps.step : 0;
    // An anchored window also holds the lookback delta before it, a smoothed one that before
    // and after it: their functions find the samples at the window's edges there.
    const int64_t lookback = options_.lookback_delta.count();
    const int64_t before = vs.anchored || vs.smoothed ? lookback : 0;
    const int64_t after = vs.smoothed ? lookback : 0;
    TYTO_ASSIGN_OR_RETURN(out.data, Load(vs, std::min(first, last) - range - before + 1, std::max(first, last) + after, hints));
    for (Series& s : out.data) std::erase_if(s.points, [](const Point& p) { return IsStaleMarker(p.v); });
    Slicer slicer(out.data);
    for (size_t i = 0; i < steps.size(); ++i) {
      Window& w = out.steps[i];
      w.end = At(vs.at, vs.timestamp_ms, offset, steps.At(i));
      w.range = range;
      w.step_time = steps.At(i);
      w.anchored = vs.anchored;
      w.smoothed = vs.smoothed;
      slicer.Slice(w.end + after, range + before + after, &w);
    }
    return out;
  }
  if (e.kind() == NodeKind::kSubquery) {
    const auto& sq = e.As<SubqueryExpr>();
    TYTO_ASSIGN_OR_RETURN(const int64_t range, Ms(sq.range));
    TYTO_ASSIGN_OR_RETURN(int64_t step, Ms(sq.step));
    if (step <= 0) step = options_.default_subquery_step.count();
    TYTO_ASSIGN_OR_RETURN(const int64_t offset, Ms(sq.offset));
    const int64_t first = At(sq.at, sq.timestamp_ms, offset, steps.start);
    const int64_t last = At(sq.at, sq.timestamp_ms, offset, steps.end);
    // Inner steps: multiples of the step, from the first after (first - range) to last.
    const int64_t lo = std::min(first, last) - range;
    int64_t start = step * (lo / step);
    if (start <= lo) start += step;
    const int64_t end = std::max(first, last);
    std::map<Labels, Series> by_labels;
    if (start <= end) {
      const Steps inner{start, end - ((end - start) % step), step};
      // Every inner step holds a value per series: a fine subquery step over a long range is
      // refused before it is evaluated, not after it has filled the memory.
      TYTO_RETURN_IF_ERROR(Charge(inner.size()));
      TYTO_ASSIGN_OR_RETURN(Val v, Eval(*sq.expr, inner));
      for (size_t i = 0; i < inner.size(); ++i) {
        if (v.type == ValueType::kScalar) {
          by_labels[Labels()].points.push_back({inner.At(i), v.scalars[i]});
          continue;
        }
        for (const Elem& el : v.vectors[i]) {
          // A subquery's result is a finished value: names marked for removal go here.
          Series& s = el.drop_name ? by_labels[DropName(el.metric)] : by_labels[el.metric];
          if (!s.points.empty() && s.points.back().t == inner.At(i)) {
            return RuntimeError("vector cannot contain metrics with the same labelset");
          }
          if (s.points.empty()) s.metric = el.drop_name ? DropName(el.metric) : el.metric;
          s.points.push_back({inner.At(i), el.v});
        }
      }
    }
    for (auto& [labels, s] : by_labels) out.data.push_back(std::move(s));
    Slicer slicer(out.data);
    for (size_t i = 0; i < steps.size(); ++i) {
      Window& w = out.steps[i];
      w.end = At(sq.at, sq.timestamp_ms, offset, steps.At(i));
      w.range = range;
      w.step_time = steps.At(i);
      slicer.Slice(w.end, range, &w);
    }
    return out;
  }
  if (e.kind() == NodeKind::kParen) return EvalWindows(*e.As<ParenExpr>().expr, steps, func);
  return RuntimeError("expected a range vector");
}

Result<Val> Evaluator::Eval(const Expr& e, const Steps& steps) {
  TYTO_RETURN_IF_ERROR(stop_->Check());
  switch (e.kind()) {
    case NodeKind::kNumberLiteral: {
      Val v;
      v.type = ValueType::kScalar;
      v.scalars.assign(steps.size(), e.As<NumberLiteral>().value);
      return v;
    }
    case NodeKind::kStringLiteral: {
      Val v;
      v.type = ValueType::kString;
      v.str = e.As<StringLiteral>().value;
      return v;
    }
    case NodeKind::kParen:
      return Eval(*e.As<ParenExpr>().expr, steps);
    case NodeKind::kVectorSelector:
      return EvalSelector(e.As<VectorSelector>(), steps);
    case NodeKind::kUnary: {
      const auto& u = e.As<UnaryExpr>();
      TYTO_ASSIGN_OR_RETURN(Val v, Eval(*u.expr, steps));
      if (u.op == BinaryOp::kAdd) return v;
      for (double& s : v.scalars) s = -s;
      for (Vector& vec : v.vectors) {
        for (Elem& el : vec) {
          el.v = -el.v;
          DropNameOf(&el);
        }
      }
      return v;
    }
    case NodeKind::kBinary:
      return EvalBinary(e.As<BinaryExpr>(), steps);
    case NodeKind::kAggregate:
      return EvalAggregate(e.As<AggregateExpr>(), steps);
    case NodeKind::kCall:
      return EvalCall(e.As<Call>(), steps);
    case NodeKind::kMatrixSelector:
    case NodeKind::kSubquery:
    case NodeKind::kDuration:
      break;
  }
  return RuntimeError("unexpected range vector where an instant value is needed");
}

// ---------------------------------------------------------------------------------------------
// Binary operators

double Arith(BinaryOp op, double l, double r, bool* keep) {
  *keep = true;
  switch (op) {
    case BinaryOp::kAdd: return l + r;
    case BinaryOp::kSub: return l - r;
    case BinaryOp::kMul: return l * r;
    case BinaryOp::kDiv: return l / r;
    case BinaryOp::kMod: return std::fmod(l, r);
    case BinaryOp::kPow: return std::pow(l, r);
    case BinaryOp::kAtan2: return std::atan2(l, r);
    case BinaryOp::kEql: *keep = l == r; return l;
    case BinaryOp::kNeq: *keep = l != r; return l;
    case BinaryOp::kGtr: *keep = l > r; return l;
    case BinaryOp::kLss: *keep = l < r; return l;
    case BinaryOp::kGte: *keep = l >= r; return l;
    case BinaryOp::kLte: *keep = l <= r; return l;
    case BinaryOp::kAnd:
    case BinaryOp::kOr:
    case BinaryOp::kUnless:
    case BinaryOp::kTrimUpper:
    case BinaryOp::kTrimLower: break;
  }
  return kNaN;
}

Result<Val> Evaluator::EvalBinary(const BinaryExpr& b, const Steps& steps) {
  if (b.op == BinaryOp::kTrimUpper || b.op == BinaryOp::kTrimLower) {
    return RuntimeError("the operator " + std::string(BinaryOpName(b.op)) +
                        " applies to native histograms, which Tyto does not store yet");
  }
  TYTO_ASSIGN_OR_RETURN(Val lhs, Eval(*b.lhs, steps));
  TYTO_ASSIGN_OR_RETURN(Val rhs, Eval(*b.rhs, steps));
  const bool comparison = IsComparison(b.op);
  Val out;
  // scalar op scalar
  if (lhs.type == ValueType::kScalar && rhs.type == ValueType::kScalar) {
    out.type = ValueType::kScalar;
    out.scalars.resize(steps.size());
    for (size_t i = 0; i < steps.size(); ++i) {
      bool keep = true;
      double v = Arith(b.op, lhs.scalars[i], rhs.scalars[i], &keep);
      if (comparison) v = keep ? 1 : 0;  // scalar comparisons need bool, which gives 0/1
      out.scalars[i] = v;
    }
    return out;
  }
  out.type = ValueType::kVector;
  out.vectors.resize(steps.size());
  // vector op scalar, scalar op vector
  if (lhs.type == ValueType::kScalar || rhs.type == ValueType::kScalar) {
    const bool scalar_left = lhs.type == ValueType::kScalar;
    const Val& vec = scalar_left ? rhs : lhs;
    const Val& sc = scalar_left ? lhs : rhs;
    for (size_t i = 0; i < steps.size(); ++i) {
      for (const Elem& el : vec.vectors[i]) {
        const double l = scalar_left ? sc.scalars[i] : el.v;
        const double r = scalar_left ? el.v : sc.scalars[i];
        bool keep = true;
        double v = Arith(b.op, l, r, &keep);
        if (comparison && !b.return_bool) {
          if (!keep) continue;
          v = el.v;  // a filter keeps the vector's value
        } else if (comparison) {
          v = keep ? 1 : 0;
        }
        out.vectors[i].push_back(comparison && !b.return_bool ? Elem{el.metric, v, steps.At(i), el.drop_name}
                                                              : NameDropped(el, v, steps.At(i)));
      }
    }
    return out;
  }
  // vector op vector
  const VectorMatching m = b.matching.value_or(VectorMatching{});
  for (size_t i = 0; i < steps.size(); ++i) {
    const Vector& L = lhs.vectors[i];
    const Vector& R = rhs.vectors[i];
    Vector& O = out.vectors[i];
    const int64_t t = steps.At(i);
    if (b.op == BinaryOp::kAnd || b.op == BinaryOp::kUnless) {
      std::set<std::string> right;
      for (const Elem& r : R) right.insert(Signature(r.metric, m.matching_labels, m.on));
      for (const Elem& l : L) {
        const bool found = right.count(Signature(l.metric, m.matching_labels, m.on)) > 0;
        if (found == (b.op == BinaryOp::kAnd)) O.push_back(l);
      }
      continue;
    }
    if (b.op == BinaryOp::kOr) {
      std::set<std::string> left;
      for (const Elem& l : L) {
        left.insert(Signature(l.metric, m.matching_labels, m.on));
        O.push_back(l);
      }
      for (const Elem& r : R) {
        if (!left.count(Signature(r.metric, m.matching_labels, m.on))) O.push_back(r);
      }
      continue;
    }
    const bool many_left = m.card == Cardinality::kManyToOne;
    const bool many_right = m.card == Cardinality::kOneToMany;
    // The "one" side is indexed by signature; duplicates there are an error.
    const Vector& one = many_right ? L : R;
    const Vector& many = many_right ? R : L;
    std::map<std::string, const Elem*> index;
    for (const Elem& el : one) {
      const std::string sig = Signature(el.metric, m.matching_labels, m.on);
      if (!index.emplace(sig, &el).second) {
        // The two series in label order, so that the message does not depend on input order.
        const Labels& x = el.metric;
        const Labels& y = index[sig]->metric;
        return RuntimeError(std::string("found duplicate series for the match group ") +
                            LabelsString(KeepOnly(el.metric, m.matching_labels, m.on)) + " on the " +
                            (many_right ? "left" : "right") + " hand-side of the operation: [" +
                            LabelsString(y < x ? y : x) + ", " + LabelsString(y < x ? x : y) +
                            "];many-to-many matching not allowed: matching labels must be unique on one side");
      }
    }
    std::set<std::string> seen_one_to_one;
    std::set<Labels> out_labels;
    // A pair of elements that match: the result element, if the operation keeps one.
    auto combine = [&](const Elem& me, const Elem& oe, const std::string& sig) -> Status {
      const Elem& l = many_right ? oe : me;
      const Elem& r = many_right ? me : oe;
      if (!many_left && !many_right && !seen_one_to_one.insert(sig).second) {
        return RuntimeError("multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)");
      }
      bool keep = true;
      double v = Arith(b.op, l.v, r.v, &keep);
      if (comparison && !b.return_bool) {
        if (!keep) return Status::Ok();
      } else if (comparison) {
        v = keep ? 1 : 0;
      }
      // Result labels: the many side's (the left's for one-to-one), name dropped unless a
      // filtering comparison; on(...) keeps only those labels for one-to-one.
      Labels base = many_right ? r.metric : l.metric;
      LabelsBuilder lb(base);
      // Arithmetic changes what the series measures: its name and metadata labels go now. A
      // bool comparison drops them too (at the end with delayed name removal); a filtering
      // comparison keeps them.
      bool drop_name = false;
      if (!comparison || (b.return_bool && !options_.delayed_name_removal)) {
        lb.Del(kMetricNameLabel);
        lb.Del("__type__");
        lb.Del("__unit__");
      } else if (b.return_bool) {
        drop_name = true;
      }
      if (m.card == Cardinality::kOneToOne) {
        if (m.on) {
          LabelsBuilder only;
          for (const Label& x : lb.pairs()) {
            if (std::find(m.matching_labels.begin(), m.matching_labels.end(), x.name) != m.matching_labels.end()) {
              only.Set(x.name, x.value);
            }
          }
          lb = only;
        } else {
          for (const std::string& n : m.matching_labels) lb.Del(n);
        }
      } else {
        for (const std::string& n : m.include) {
          const std::string_view v2 = oe.metric.Get(n);
          if (v2.empty()) {
            lb.Del(n);
          } else {
            lb.Set(n, v2);
          }
        }
      }
      Labels result = lb.Build();
      if (!out_labels.insert(result).second) {
        return RuntimeError("multiple matches for labels: grouping labels must ensure unique matches");
      }
      O.push_back({std::move(result), comparison && !b.return_bool ? l.v : v, t, drop_name});
      return Status::Ok();
    };
    // fill(), fill_left(), fill_right(): an element without a match on the other side pairs with a
    // stand-in there, carrying the fill value and the matching labels. As in Prometheus, which
    // swaps the sides for group_right before filling, fill_right stands in for a missing "one"
    // element and fill_left for a missing "many" one, whichever side each is on.
    const std::optional<double> fill_one = m.fill_right;
    const std::optional<double> fill_many = m.fill_left;
    std::set<std::string> matched_one;
    for (const Elem& me : many) {
      const std::string sig = Signature(me.metric, m.matching_labels, m.on);
      auto it = index.find(sig);
      if (it != index.end()) {
        matched_one.insert(sig);
        TYTO_RETURN_IF_ERROR(combine(me, *it->second, sig));
      } else if (fill_one) {
        TYTO_RETURN_IF_ERROR(combine(me, Elem{KeepOnly(me.metric, m.matching_labels, m.on), *fill_one, t}, sig));
      }
    }
    if (fill_many) {
      for (const Elem& oe : one) {
        const std::string sig = Signature(oe.metric, m.matching_labels, m.on);
        if (matched_one.count(sig)) continue;
        TYTO_RETURN_IF_ERROR(combine(Elem{KeepOnly(oe.metric, m.matching_labels, m.on), *fill_many, t}, oe, sig));
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Aggregations

Result<Val> Evaluator::EvalAggregate(const AggregateExpr& a, const Steps& steps) {
  Val param;
  if (a.param) {
    TYTO_ASSIGN_OR_RETURN(param, Eval(*a.param, steps));
  }
  TYTO_ASSIGN_OR_RETURN(Val in, Eval(*a.expr, steps));
  Val out;
  out.type = ValueType::kVector;
  out.vectors.resize(steps.size());
  // The parameter over all steps, checked before aggregating as Prometheus does.
  double pmin = std::numeric_limits<double>::infinity(), pmax = -pmin;
  bool pnan = false;
  for (double k : param.scalars) {
    pnan = pnan || std::isnan(k);
    if (!std::isnan(k)) {
      pmin = std::min(pmin, k);
      pmax = std::max(pmax, k);
    }
  }
  const PositionRange param_pos = a.param ? Unparenthesized(*a.param).position() : PositionRange{};
  switch (a.op) {
    case AggregateOp::kTopk:
    case AggregateOp::kBottomk:
    case AggregateOp::kLimitk:
      if (!pnan && pmax < 1) return out;
      if (pnan) return RuntimeError("Parameter value is NaN");
      if (pmin <= -9223372036854775808.0) return RuntimeError("Scalar value " + FormatGoFloat(pmin) + " underflows int64");
      if (pmax >= 9223372036854774784.0) return RuntimeError("Scalar value " + FormatGoFloat(pmax) + " overflows int64");
      break;
    case AggregateOp::kLimitRatio:
      if (!pnan && pmax == 0 && pmin == 0) return out;
      if (pnan) return RuntimeError("Ratio value is NaN");
      if (pmax > 1) annotations_.Warn("ratio value should be between -1 and 1, got " + FormatGoFloat(pmax) + ", capping to 1", param_pos);
      if (pmin < -1) annotations_.Warn("ratio value should be between -1 and 1, got " + FormatGoFloat(pmin) + ", capping to -1", param_pos);
      break;
    case AggregateOp::kQuantile:
      if (pnan) {
        annotations_.Warn("quantile value should be between 0 and 1, got NaN", param_pos);
      } else {
        if (pmax > 1) annotations_.Warn("quantile value should be between 0 and 1, got " + FormatGoFloat(pmax), param_pos);
        if (pmin < 0) annotations_.Warn("quantile value should be between 0 and 1, got " + FormatGoFloat(pmin), param_pos);
      }
      break;
    default:
      break;
  }
  const bool by_name = !a.without && std::find(a.grouping.begin(), a.grouping.end(), std::string(kMetricNameLabel)) != a.grouping.end();
  const bool keeps_name = a.op == AggregateOp::kTopk || a.op == AggregateOp::kBottomk ||
                          a.op == AggregateOp::kLimitk || a.op == AggregateOp::kLimitRatio;
  // The group of each distinct input label set, computed once for all steps (the same series
  // come back at every step).
  std::unordered_map<Labels, size_t, LabelsHash> group_of;
  std::unordered_map<Labels, double, LabelsHash> ratio_offset;  // limit_ratio's, per series
  std::map<std::string, size_t> group_by_sig;
  std::vector<Labels> group_labels;
  auto GroupOf = [&](const Labels& metric) {
    auto hit = group_of.find(metric);
    if (hit != group_of.end()) return hit->second;
    LabelsBuilder b;
    if (a.without) {
      b.Reset(metric);
      b.Del(kMetricNameLabel);
      for (const std::string& n : a.grouping) b.Del(n);
    } else {
      for (const std::string& n : a.grouping) {
        const std::string_view v = metric.Get(n);
        if (!v.empty()) b.Set(n, v);
      }
    }
    if (!by_name && !keeps_name) b.Del(kMetricNameLabel);
    Labels gl = b.Build();
    auto [it, inserted] = group_by_sig.try_emplace(gl.ToString(), group_labels.size());
    if (inserted) group_labels.push_back(std::move(gl));
    group_of.emplace(metric, it->second);
    return it->second;
  };
  for (size_t i = 0; i < steps.size(); ++i) {
    const int64_t t = steps.At(i);
    struct Group {
      Labels labels;
      std::vector<const Elem*> elems;
    };
    std::unordered_map<size_t, Group> groups;
    std::vector<size_t> order;  // groups in order of first appearance
    for (const Elem& el : in.vectors[i]) {
      const size_t g = GroupOf(el.metric);
      auto [it, inserted] = groups.try_emplace(g);
      if (inserted) {
        it->second.labels = group_labels[g];
        order.push_back(g);
      }
      it->second.elems.push_back(&el);
    }
    Vector& O = out.vectors[i];
    for (const size_t sig : order) {
      const Group& g = groups[sig];
      const auto& E = g.elems;
      // With delayed name removal a group's name goes if any member's does.
      const bool drop_name = std::any_of(E.begin(), E.end(), [](const Elem* e) { return e->drop_name; });
      auto emit = [&](double v) { O.push_back({g.labels, v, t, drop_name}); };
      switch (a.op) {
        case AggregateOp::kSum: {
          KahanSum k;
          for (const Elem* e : E) k.Add(e->v);
          emit(k.Value());
          break;
        }
        case AggregateOp::kAvg: {
          AvgAccumulator avg;
          for (const Elem* e : E) avg.Add(e->v);
          emit(avg.Value());
          break;
        }
        case AggregateOp::kCount: emit(static_cast<double>(E.size())); break;
        case AggregateOp::kGroup: emit(1); break;
        case AggregateOp::kMin:
        case AggregateOp::kMax: {
          double m = E.front()->v;
          for (const Elem* e : E) {
            if ((a.op == AggregateOp::kMin ? e->v < m : e->v > m) || std::isnan(m)) m = e->v;
          }
          emit(m);
          break;
        }
        case AggregateOp::kStddev:
        case AggregateOp::kStdvar: {
          double n = 0, mean = 0, m2 = 0;
          for (const Elem* e : E) {
            n += 1;
            const double d = e->v - mean;
            mean += d / n;
            m2 += d * (e->v - mean);
          }
          const double var = m2 / n;
          emit(a.op == AggregateOp::kStdvar ? var : std::sqrt(var));
          break;
        }
        case AggregateOp::kQuantile: {
          std::vector<double> v;
          for (const Elem* e : E) v.push_back(e->v);
          emit(Quantile(param.scalars[i], std::move(v)));
          break;
        }
        case AggregateOp::kTopk:
        case AggregateOp::kBottomk:
        case AggregateOp::kLimitk: {
          const double kf = param.scalars[i];
          if (std::isnan(kf)) return RuntimeError("Parameter value is NaN");
          const auto k = static_cast<size_t>(std::max(0.0, std::min(kf, static_cast<double>(E.size()))));
          std::vector<const Elem*> sorted = E;
          if (a.op != AggregateOp::kLimitk) {
            const bool top = a.op == AggregateOp::kTopk;
            std::stable_sort(sorted.begin(), sorted.end(), [top](const Elem* x, const Elem* y) {
              if (std::isnan(x->v)) return false;
              if (std::isnan(y->v)) return true;
              return top ? x->v > y->v : x->v < y->v;
            });
          }
          for (size_t j = 0; j < k; ++j) O.push_back({sorted[j]->metric, sorted[j]->v, t, sorted[j]->drop_name});
          break;
        }
        case AggregateOp::kCountValues: {
          const std::string label = param.str;
          std::map<std::string, double> counts;
          std::map<std::string, Labels> labels;
          for (const Elem* e : E) {
            // As Prometheus's strconv.FormatFloat(v, 'f', -1, 64): the shortest digits, no exponent.
            std::string value;
            if (std::isnan(e->v)) {
              value = "NaN";
            } else if (std::isinf(e->v)) {
              value = e->v > 0 ? "+Inf" : "-Inf";
            } else {
              char buf[400];
              auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), e->v, std::chars_format::fixed);
              value.assign(buf, ec == std::errc() ? end : buf);
            }
            counts[value] += 1;
            LabelsBuilder b(g.labels);
            b.Set(label, value);
            labels[value] = b.Build();
          }
          for (const auto& [value, n] : counts) O.push_back({labels[value], n, t});
          break;
        }
        case AggregateOp::kLimitRatio: {
          // Each series is kept or not by where its labels hash to in [0, 1), so that r and
          // -(1 - r) select complementary sets, at every step the same.
          const double r = std::clamp(param.scalars[i], -1.0, 1.0);
          if (r == 0) break;
          for (const Elem* e : E) {
            auto [hit, inserted] = ratio_offset.try_emplace(e->metric, 0.0);
            if (inserted) hit->second = RatioSampleOffset(e->metric);
            const double offset = hit->second;
            if ((r >= 0 && offset < r) || (r < 0 && offset >= 1 + r)) O.push_back({e->metric, e->v, t, e->drop_name});
          }
          break;
        }
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Functions

// absent()'s labels: each name given exactly once, by an equality matcher.
LabelsBuilder AbsentLabels(const std::vector<Matcher>& matchers) {
  std::map<std::string, int> uses;
  for (const Matcher& m : matchers) ++uses[m.name()];
  LabelsBuilder lb;
  for (const Matcher& m : matchers) {
    if (m.type() == MatchType::kEqual && m.name() != kMetricNameLabel && uses[m.name()] == 1) lb.Set(m.name(), m.value());
  }
  return lb;
}

// Classic histogram buckets ({le="..."} series) grouped by their other labels, name included
// (two histograms of different names are two groups, as in Prometheus): (upper bound, cumulative
// count) pairs. A series whose le is missing or not a number is left out with Prometheus's
// warning, naming the metric when names are dropped late (as Prometheus does).
std::map<Labels, std::vector<std::pair<double, double>>> ClassicBuckets(const Vector& v, bool name_in_warning,
                                                                      Annotations* annotations, PositionRange pos) {
  std::map<Labels, std::vector<std::pair<double, double>>> by;
  for (const Elem& el : v) {
    const std::string le(el.metric.Get("le"));
    char* end = nullptr;
    const double bound = le.empty() || std::isspace(static_cast<unsigned char>(le[0])) ? kNaN : std::strtod(le.c_str(), &end);
    if (end == nullptr || end != le.c_str() + le.size()) {
      std::string text = "bucket label \"le\" is missing or has a malformed value of " + GoQuote(le);
      if (name_in_warning && el.metric.Has(kMetricNameLabel)) text += " for metric name " + GoQuote(el.metric.MetricName());
      annotations->Warn(text, pos);
      continue;
    }
    LabelsBuilder b(el.metric);
    b.Del("le");
    by[b.Build()].push_back({bound, el.v});
  }
  return by;
}

Result<std::function<int64_t(int64_t)>> Evaluator::ReferenceTime(const Expr& e) {
  // The @ and offset of the first selector and of the subqueries around it, outermost first.
  struct Hop {
    AtModifier at;
    int64_t timestamp_ms;
    const Duration* offset;
  };
  std::vector<Hop> hops;
  std::function<bool(const Expr&)> find = [&](const Expr& x) {
    if (x.kind() == NodeKind::kVectorSelector) {
      const auto& vs = x.As<VectorSelector>();
      hops.push_back({vs.at, vs.timestamp_ms, &vs.offset});
      return true;
    }
    if (x.kind() == NodeKind::kSubquery) {
      const auto& sq = x.As<SubqueryExpr>();
      hops.push_back({sq.at, sq.timestamp_ms, &sq.offset});
      if (find(*sq.expr)) return true;
      hops.pop_back();
      return false;
    }
    bool found = false;
    ForEachChild(x, [&](const Expr& child) { found = found || find(child); });
    return found;
  };
  find(e);
  // From the selector outwards, offsets add up until an @ fixes the time.
  int64_t offset = 0;
  for (auto h = hops.rbegin(); h != hops.rend(); ++h) {
    TYTO_ASSIGN_OR_RETURN(const int64_t ms, Ms(*h->offset));
    offset += ms;
    if (h->at != AtModifier::kNone) {
      const int64_t fixed = At(h->at, h->timestamp_ms, offset, 0);
      return std::function<int64_t(int64_t)>([fixed](int64_t) { return fixed; });
    }
  }
  return std::function<int64_t(int64_t)>([offset](int64_t t) { return t - offset; });
}

Result<Val> Evaluator::EvalInfo(const Call& c, const Steps& steps) {
  TYTO_ASSIGN_OR_RETURN(Val base, Eval(*c.args[0], steps));
  // The second argument's __name__ matchers pick the info metrics: target_info without any,
  // those also named *_info with only negative ones. Its other matchers pick the data labels.
  std::vector<Matcher> info_names, data_matchers;
  if (c.args.size() > 1) {
    for (const Matcher& m : Unparenthesized(*c.args[1]).As<VectorSelector>().matchers) {
      (m.name() == kMetricNameLabel ? info_names : data_matchers).push_back(m);
    }
  }
  if (info_names.empty()) {
    TYTO_ASSIGN_OR_RETURN(Matcher m, Matcher::Make(MatchType::kEqual, std::string(kMetricNameLabel), "target_info"));
    info_names.push_back(std::move(m));
  } else if (std::none_of(info_names.begin(), info_names.end(), [](const Matcher& m) {
               return m.type() == MatchType::kEqual || m.type() == MatchType::kRegexMatch;
             })) {
    TYTO_ASSIGN_OR_RETURN(Matcher m, Matcher::Make(MatchType::kRegexMatch, std::string(kMetricNameLabel), ".+_info"));
    info_names.push_back(std::move(m));
  }
  // The values of the identifying labels among the series to enrich: the info series to read.
  std::map<std::string, std::set<std::string>> id_values;
  for (const Vector& vec : base.vectors) {
    for (const Elem& el : vec) {
      if (IsInfoSeries(el.metric, info_names)) continue;
      for (std::string_view name : {"instance", "job"}) {
        const std::string_view v = el.metric.Get(name);
        if (!v.empty()) id_values[std::string(name)].emplace(v);
      }
    }
  }
  const int64_t lookback = options_.lookback_delta.count();
  std::vector<int64_t> refs(steps.size());
  std::vector<Series> info;
  if (!id_values.empty()) {
    TYTO_ASSIGN_OR_RETURN(auto ref, ReferenceTime(*c.args[0]));
    for (size_t i = 0; i < steps.size(); ++i) refs[i] = ref(steps.At(i));
    VectorSelector select;
    select.matchers = info_names;
    select.matchers.insert(select.matchers.end(), data_matchers.begin(), data_matchers.end());
    for (const auto& [name, values] : id_values) {
      std::string re;
      for (const std::string& v : values) re += (re.empty() ? "" : "|") + RE2::QuoteMeta(v);
      TYTO_ASSIGN_OR_RETURN(Matcher m, Matcher::Make(MatchType::kRegexMatch, name, re));
      select.matchers.push_back(std::move(m));
    }
    SelectHints hints;
    hints.func = "info";
    const auto [lo, hi] = std::minmax_element(refs.begin(), refs.end());
    TYTO_ASSIGN_OR_RETURN(info, Load(select, *lo - lookback + 1, *hi, hints));
  }
  TYTO_RETURN_IF_ERROR(EnrichWithInfo(info, refs, lookback, info_names, data_matchers, &base));
  return base;
}

Result<Val> Evaluator::EvalCall(const Call& c, const Steps& steps) {
  const std::string_view name = c.func->name;
  Val out;
  out.type = c.func->return_type == ValueType::kScalar ? ValueType::kScalar : ValueType::kVector;
  if (out.type == ValueType::kScalar) {
    out.scalars.resize(steps.size());
  } else {
    out.vectors.resize(steps.size());
  }
  // Range-vector functions.
  const bool range_arg = !c.args.empty() && std::any_of(c.args.begin(), c.args.end(), [](const ExprPtr& a) {
    return a->type() == ValueType::kMatrix;
  });
  if (range_arg && name != "absent_over_time") {
    std::vector<Val> scalars;
    const Expr* matrix = nullptr;
    for (const ExprPtr& a : c.args) {
      if (a->type() == ValueType::kMatrix) {
        matrix = &Unparenthesized(*a);
      } else {
        TYTO_ASSIGN_OR_RETURN(Val v, Eval(*a, steps));
        scalars.push_back(std::move(v));
      }
    }
    if (matrix->kind() == NodeKind::kMatrixSelector) {
      // Extended range selectors hand their functions samples outside the range: only those
      // that pick the edges from them accept one.
      const VectorSelector& vs = *matrix->As<MatrixSelector>().selector;
      if (vs.anchored && name != "changes" && name != "delta" && name != "increase" && name != "rate" && name != "resets") {
        return RuntimeError("anchored modifier can only be used with: changes, delta, increase, rate, resets - not with " +
                            std::string(name));
      }
      if (vs.smoothed && name != "delta" && name != "increase" && name != "rate") {
        return RuntimeError("smoothed modifier can only be used with: delta, increase, rate - not with " + std::string(name));
      }
    }
    TYTO_ASSIGN_OR_RETURN(Windows windows, EvalWindows(*matrix, steps, name));
    const bool keep_name = name == "last_over_time" || name == "first_over_time";
    const bool drop_late = !keep_name && options_.delayed_name_removal;
    // Each series' result labels, computed once for all steps; duplicates among them (series
    // that differ only by name) are an error wherever two meet at one step.
    std::vector<Labels> metrics;
    metrics.reserve(windows.data.size());
    for (const Series& s : windows.data) metrics.push_back(keep_name || drop_late ? s.metric : DropName(s.metric));
    std::vector<int64_t> last_step(windows.data.size(), -1);
    std::map<Labels, size_t> first_of;
    std::vector<size_t> canonical(windows.data.size());
    for (size_t k = 0; k < metrics.size(); ++k) canonical[k] = first_of.emplace(metrics[k], k).first->second;
    const bool collisions = first_of.size() != metrics.size();
    // rate() and increase() over a metric not named like a counter get Prometheus's info.
    const bool counter_check = name == "rate" || name == "increase";
    std::vector<bool> had_value(counter_check ? windows.data.size() : 0, false);
    const bool quantile_check = name == "quantile_over_time";
    std::vector<double> args(scalars.size());
    const RangeFn fn = RangeFunctionId(name);
    for (size_t i = 0; i < steps.size(); ++i) {
      for (size_t a = 0; a < scalars.size(); ++a) args[a] = scalars[a].scalars.empty() ? 0 : scalars[a].scalars[i];
      if (quantile_check && !windows.steps[i].series.empty() && (std::isnan(args[0]) || args[0] < 0 || args[0] > 1)) {
        annotations_.Warn("quantile value should be between 0 and 1, got " + FormatGoFloat(args[0]),
                          Unparenthesized(*c.args[0]).position());
      }
      out.vectors[i].reserve(windows.steps[i].series.size());
      for (const SeriesView& view : windows.steps[i].series) {
        double v = 0;
        if (!RangeFunction(fn, view.points, windows.steps[i], args, &v)) continue;
        if (collisions) {
          int64_t& seen = last_step[canonical[view.index]];
          if (seen == static_cast<int64_t>(i)) return RuntimeError("vector cannot contain metrics with the same labelset");
          seen = static_cast<int64_t>(i);
        }
        if (counter_check) had_value[view.index] = true;
        out.vectors[i].push_back({metrics[view.index], v, steps.At(i), drop_late});
      }
    }
    std::string_view reported;  // series come sorted by labels, so by name: one message per name
    for (size_t k = 0; k < had_value.size(); ++k) {
      const std::string_view metric_name = windows.data[k].metric.MetricName();
      if (!had_value[k] || metric_name.empty()) continue;
      if (options_.type_and_unit_labels) {
        const std::string_view type = windows.data[k].metric.Get("__type__");
        if (type != "counter" && type != "histogram") {
          annotations_.Info("metric might not be a counter, __type__ label is not set to \"counter\" or \"histogram\", got " +
                                GoQuote(type) + ": " + GoQuote(metric_name),
                            matrix->position());
        }
        continue;
      }
      if (metric_name == reported) continue;
      reported = metric_name;
      static constexpr std::string_view kCounterSuffixes[] = {"_total", "_sum", "_count", "_bucket"};
      if (std::none_of(std::begin(kCounterSuffixes), std::end(kCounterSuffixes),
                       [&](std::string_view x) { return metric_name.ends_with(x); })) {
        annotations_.Info("metric might not be a counter, name does not end in _total/_sum/_count/_bucket: " +
                              GoQuote(metric_name),
                          matrix->position());
      }
    }
    return out;
  }
  if (name == "absent_over_time") {
    TYTO_ASSIGN_OR_RETURN(Windows windows, EvalWindows(*c.args[0], steps));
    const Expr* inner = c.args[0].get();
    while (inner->kind() == NodeKind::kParen) inner = inner->As<ParenExpr>().expr.get();
    LabelsBuilder lb;
    if (inner->kind() == NodeKind::kMatrixSelector) lb = AbsentLabels(inner->As<MatrixSelector>().selector->matchers);
    for (size_t i = 0; i < steps.size(); ++i) {
      if (windows.steps[i].series.empty()) out.vectors[i].push_back({lb.Build(), 1, steps.At(i)});
    }
    return out;
  }
  if (name == "info") return EvalInfo(c, steps);
  if (query_step_ != 0 && (name == "sort" || name == "sort_desc" || name == "sort_by_label" || name == "sort_by_label_desc")) {
    annotations_.Warn("sort is ineffective for range queries since results are always ordered by labels", c.position());
  }
  // Evaluate the arguments.
  std::vector<Val> args;
  for (const ExprPtr& a : c.args) {
    TYTO_ASSIGN_OR_RETURN(Val v, Eval(*a, steps));
    args.push_back(std::move(v));
  }
  if (name == "time") {
    for (size_t i = 0; i < steps.size(); ++i) out.scalars[i] = static_cast<double>(steps.At(i)) / 1000;
    return out;
  }
  if (name == "step" || name == "range" || name == "start" || name == "end") {
    double v = 0;
    if (name == "step") v = static_cast<double>(query_step_) / 1000;
    if (name == "range") v = static_cast<double>(query_end_ - query_start_) / 1000;
    if (name == "start") v = static_cast<double>(query_start_) / 1000;
    if (name == "end") v = static_cast<double>(query_end_) / 1000;
    for (double& x : out.scalars) x = v;
    return out;
  }
  if (name == "min_of" || name == "max_of") {
    // As Go's math.Min and math.Max: NaN if either is.
    const bool want_min = name == "min_of";
    for (size_t i = 0; i < steps.size(); ++i) {
      const double x = args[0].scalars[i], y = args[1].scalars[i];
      out.scalars[i] = std::isnan(x) || std::isnan(y) ? kNaN : want_min ? std::min(x, y) : std::max(x, y);
    }
    return out;
  }
  if (name == "pi") {
    for (double& s : out.scalars) s = std::numbers::pi;
    return out;
  }
  if (name == "scalar") {
    for (size_t i = 0; i < steps.size(); ++i) {
      out.scalars[i] = args[0].vectors[i].size() == 1 ? args[0].vectors[i][0].v : kNaN;
    }
    return out;
  }
  if (name == "vector") {
    for (size_t i = 0; i < steps.size(); ++i) out.vectors[i].push_back({Labels(), args[0].scalars[i], steps.At(i)});
    return out;
  }
  if (name == "absent") {
    LabelsBuilder lb;
    const Expr* inner = c.args[0].get();
    while (inner->kind() == NodeKind::kParen) inner = inner->As<ParenExpr>().expr.get();
    if (inner->kind() == NodeKind::kVectorSelector) lb = AbsentLabels(inner->As<VectorSelector>().matchers);
    for (size_t i = 0; i < steps.size(); ++i) {
      if (args[0].vectors[i].empty()) out.vectors[i].push_back({lb.Build(), 1, steps.At(i)});
    }
    return out;
  }
  auto for_each = [&](auto fn) -> Status {
    std::unordered_set<Labels, LabelsHash> seen;
    for (size_t i = 0; i < steps.size(); ++i) {
      seen.clear();
      out.vectors[i].reserve(args[0].vectors[i].size());
      for (const Elem& el : args[0].vectors[i]) {
        Elem r = el;
        r.t = steps.At(i);
        if (!fn(i, &r)) continue;
        if (!seen.insert(r.metric).second) return RuntimeError("vector cannot contain metrics with the same labelset");
        out.vectors[i].push_back(std::move(r));
      }
    }
    return Status::Ok();
  };
  if (ElementFn f = SimpleFunction(name)) {
    TYTO_RETURN_IF_ERROR(for_each([&](size_t, Elem* e) {
      e->v = f(e->v);
      DropNameOf(e);
      return true;
    }));
    return out;
  }
  if (name == "timestamp") {
    for (size_t i = 0; i < steps.size(); ++i) {
      for (const Elem& el : args[0].vectors[i]) {
        out.vectors[i].push_back(NameDropped(el, static_cast<double>(el.t) / 1000, steps.At(i)));
      }
    }
    return out;
  }
  if (name == "round") {
    TYTO_RETURN_IF_ERROR(for_each([&](size_t i, Elem* e) {
      const double to = args.size() > 1 ? args[1].scalars[i] : 1;
      const double inv = 1.0 / to;
      e->v = std::floor(e->v * inv + 0.5) / inv;
      DropNameOf(e);
      return true;
    }));
    return out;
  }
  if (name == "clamp" || name == "clamp_min" || name == "clamp_max") {
    TYTO_RETURN_IF_ERROR(for_each([&](size_t i, Elem* e) {
      double lo = -std::numeric_limits<double>::infinity(), hi = std::numeric_limits<double>::infinity();
      if (name == "clamp") {
        lo = args[1].scalars[i];
        hi = args[2].scalars[i];
        if (lo > hi) return false;
      } else if (name == "clamp_min") {
        lo = args[1].scalars[i];
      } else {
        hi = args[1].scalars[i];
      }
      e->v = std::isnan(lo) || std::isnan(hi) ? kNaN : std::max(lo, std::min(hi, e->v));
      DropNameOf(e);
      return true;
    }));
    return out;
  }
  if (name == "sort" || name == "sort_desc") {
    const bool desc = name == "sort_desc";
    for (size_t i = 0; i < steps.size(); ++i) {
      Vector v = args[0].vectors[i];
      std::stable_sort(v.begin(), v.end(), [desc](const Elem& x, const Elem& y) {
        if (std::isnan(x.v)) return false;
        if (std::isnan(y.v)) return true;
        return desc ? x.v > y.v : x.v < y.v;
      });
      out.vectors[i] = std::move(v);
    }
    return out;
  }
  if (name == "sort_by_label" || name == "sort_by_label_desc") {
    const bool desc = name == "sort_by_label_desc";
    for (size_t i = 0; i < steps.size(); ++i) {
      Vector v = args[0].vectors[i];
      std::stable_sort(v.begin(), v.end(), [&](const Elem& x, const Elem& y) {
        for (size_t k = 1; k < args.size(); ++k) {
          const std::string_view a = x.metric.Get(args[k].str), b = y.metric.Get(args[k].str);
          if (a != b) return desc ? NaturalLess(b, a) : NaturalLess(a, b);
        }
        return desc ? y.metric < x.metric : x.metric < y.metric;
      });
      out.vectors[i] = std::move(v);
    }
    return out;
  }
  if (name == "label_replace") {
    const std::string& dst = args[1].str;
    const std::string& repl = args[2].str;
    const std::string& src = args[3].str;
    RE2::Options opts;
    opts.set_dot_nl(true);
    opts.set_log_errors(false);
    RE2 re("^(?s:" + args[4].str + ")$", opts);
    if (!re.ok()) return RuntimeError("invalid regular expression in label_replace(): " + args[4].str);
    if (dst.empty() || !ValidUtf8(dst)) return RuntimeError("invalid destination label name in label_replace(): " + dst);
    // The same series come back at every step: each distinct label set is rewritten once.
    std::unordered_map<Labels, std::optional<Labels>, LabelsHash> rewritten;  // nullopt: no match
    TYTO_RETURN_IF_ERROR(for_each([&](size_t, Elem* e) {
      auto [it, fresh] = rewritten.try_emplace(e->metric);
      if (fresh) {
        const std::string value(e->metric.Get(src));
        std::vector<re2::StringPiece> pieces(static_cast<size_t>(re.NumberOfCapturingGroups()) + 1);
        if (re.Match(value, 0, value.size(), RE2::ANCHOR_BOTH, pieces.data(), static_cast<int>(pieces.size()))) {
          // Go's regexp.Expand, as label_replace uses it: relabelling's implementation.
          std::vector<std::string_view> groups;
          for (const re2::StringPiece& g : pieces) groups.emplace_back(g.data(), g.size());
          std::vector<std::string> names(pieces.size());
          for (const auto& [n, index] : re.NamedCapturingGroups()) names[static_cast<size_t>(index)] = n;
          const std::string expanded = relabel::Expand(repl, groups, names);
          LabelsBuilder b(e->metric);
          b.Set(dst, expanded);
          it->second = b.Build();
        }
      }
      if (it->second) {
        e->metric = *it->second;
        if (dst == kMetricNameLabel) e->drop_name = false;  // a name set here stays
      }
      return true;
    }));
    return out;
  }
  if (name == "label_join") {
    const std::string& dst = args[1].str;
    const std::string& sep = args[2].str;
    std::unordered_map<Labels, Labels, LabelsHash> rewritten;  // each distinct label set once
    TYTO_RETURN_IF_ERROR(for_each([&](size_t, Elem* e) {
      auto [it, fresh] = rewritten.try_emplace(e->metric);
      if (fresh) {
        std::string joined;
        for (size_t k = 3; k < args.size(); ++k) {
          if (k > 3) joined += sep;
          joined.append(e->metric.Get(args[k].str));
        }
        LabelsBuilder b(e->metric);
        b.Set(dst, joined);
        it->second = b.Build();
      }
      e->metric = it->second;
      if (dst == kMetricNameLabel) e->drop_name = false;
      return true;
    }));
    return out;
  }
  if (name == "histogram_fraction" || name == "histogram_quantile" || name == "histogram_quantiles") {
    // Classic histograms: histogram_fraction(lower, upper, v), histogram_quantile(φ, v) and
    // histogram_quantiles(v, "label", φ1, φ2, ...), the last giving one series per φ labelled
    // with it in OpenMetrics' canonical form ("0.0", "0.25", "1.0").
    const size_t vec_arg = name == "histogram_fraction" ? 2 : name == "histogram_quantile" ? 1 : 0;
    const PositionRange vec_pos = Unparenthesized(*c.args[vec_arg]).position();
    auto check_quantile = [&](double q, const Expr& arg) {
      if (std::isnan(q) || q < 0 || q > 1) {
        annotations_.Warn("quantile value should be between 0 and 1, got " + FormatGoFloat(q), Unparenthesized(arg).position());
      }
    };
    for (size_t i = 0; i < steps.size(); ++i) {
      const int64_t t = steps.At(i);
      auto emit = [&](Labels metric, double v) {
        Elem r{std::move(metric), v, t};
        DropNameOf(&r);
        out.vectors[i].push_back(std::move(r));
      };
      auto quantile = [&](double q, const Labels& metric, const std::vector<std::pair<double, double>>& buckets) {
        bool forced = false;
        const double v = BucketQuantile(q, buckets, &forced);
        if (forced) {
          std::string text =
              "input to histogram_quantile needed to be fixed for monotonicity (see "
              "https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile)";
          if (options_.delayed_name_removal && metric.Has(kMetricNameLabel)) text += " for metric name " + GoQuote(metric.MetricName());
          annotations_.Info(text, vec_pos);
        }
        return v;
      };
      if (name == "histogram_quantile") check_quantile(args[0].scalars[i], *c.args[0]);
      if (name == "histogram_quantiles") {
        for (size_t k = 2; k < args.size(); ++k) check_quantile(args[k].scalars[i], *c.args[k]);
      }
      const auto by = ClassicBuckets(args[vec_arg].vectors[i], options_.delayed_name_removal, &annotations_, vec_pos);
      if (name == "histogram_fraction") {
        for (const auto& [labels, buckets] : by) emit(labels, BucketFraction(args[0].scalars[i], args[1].scalars[i], buckets));
      } else if (name == "histogram_quantile") {
        for (const auto& [labels, buckets] : by) emit(labels, quantile(args[0].scalars[i], labels, buckets));
      } else {
        const std::string& label = args[1].str;
        for (size_t k = 2; k < args.size(); ++k) {
          const double q = args[k].scalars[i];
          std::string text;
          if (std::isnan(q)) {
            text = "NaN";
          } else if (std::isinf(q)) {
            text = q > 0 ? "+Inf" : "-Inf";
          } else {
            char buf[64];
            auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), q);
            text.assign(buf, ec == std::errc() ? end : buf);
            if (text.find_first_of(".e") == std::string::npos) text += ".0";
          }
          for (const auto& [labels, buckets] : by) {
            LabelsBuilder lb(labels);
            lb.Set(label, text);
            emit(lb.Build(), quantile(q, labels, buckets));
          }
        }
      }
    }
    return out;
  }
  if (name == "day_of_month" || name == "day_of_week" || name == "day_of_year" || name == "days_in_month" ||
      name == "hour" || name == "minute" || name == "month" || name == "year") {
    auto calc = [&](double secs) {
      const auto t = static_cast<time_t>(std::floor(secs));
      std::tm tm{};
      gmtime_r(&t, &tm);
      if (name == "day_of_month") return static_cast<double>(tm.tm_mday);
      if (name == "day_of_week") return static_cast<double>(tm.tm_wday);
      if (name == "day_of_year") return static_cast<double>(tm.tm_yday + 1);
      if (name == "hour") return static_cast<double>(tm.tm_hour);
      if (name == "minute") return static_cast<double>(tm.tm_min);
      if (name == "month") return static_cast<double>(tm.tm_mon + 1);
      if (name == "year") return static_cast<double>(tm.tm_year + 1900);
      static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
      const int y = tm.tm_year + 1900;
      const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
      return static_cast<double>(tm.tm_mon == 1 && leap ? 29 : kDays[tm.tm_mon]);
    };
    for (size_t i = 0; i < steps.size(); ++i) {
      if (args.empty()) {
        out.vectors[i].push_back({Labels(), calc(static_cast<double>(steps.At(i)) / 1000), steps.At(i)});
        continue;
      }
      for (const Elem& el : args[0].vectors[i]) {
        out.vectors[i].push_back(NameDropped(el, std::isnan(el.v) ? kNaN : calc(el.v), steps.At(i)));
      }
    }
    return out;
  }
  return RuntimeError("function \"" + std::string(name) + "\" is not supported yet");
}

QueryResult WithAnnotations(Evaluator* ev, QueryResult r) {
  r.warnings = ev->annotations().TakeWarnings();
  r.infos = ev->annotations().TakeInfos();
  return r;
}

// Annotations end with " (1:<byte offset + 1>)"; in a query of several lines that becomes the
// line and column, as Prometheus reports them.
Result<QueryResult> LocateAnnotations(std::string_view query, Result<QueryResult> r) {
  if (!r.ok() || query.find('\n') == std::string_view::npos) return r;
  for (std::vector<std::string>* list : {&r->warnings, &r->infos}) {
    for (std::string& a : *list) {
      const size_t open = a.rfind(" (1:");
      if (open == std::string::npos || a.back() != ')') continue;
      const size_t offset = std::strtoull(a.c_str() + open + 4, nullptr, 10) - 1;
      if (offset > query.size()) continue;
      const size_t line_start = query.rfind('\n', offset == 0 ? std::string_view::npos : offset - 1);
      const size_t line = static_cast<size_t>(std::count(query.begin(), query.begin() + static_cast<std::ptrdiff_t>(offset), '\n')) + 1;
      const size_t column = line_start == std::string_view::npos ? offset + 1 : offset - line_start;
      a.replace(open, std::string::npos, " (" + std::to_string(line) + ":" + std::to_string(column) + ")");
    }
  }
  return r;
}

}  // namespace

Result<QueryResult> Engine::Exec(const Expr& expr, int64_t start_ms, int64_t end_ms, int64_t step_ms, bool instant,
                                 const QueryContext& ctx) const {
  if (step_ms <= 0) return InvalidArgument("zero or negative query resolution step widths are not accepted");
  if (end_ms < start_ms) return InvalidArgument("end timestamp must not be before start time");
  std::chrono::milliseconds limit = options_.timeout;
  if (ctx.timeout && *ctx.timeout < limit) limit = *ctx.timeout;
  Stopper stop(Stopper::Clock::now() + limit, &ctx.cancelled);
  // The concurrency gate: wait for a slot, within the deadline, while the caller still wants it.
  if (options_.max_concurrency > 0) {
    MutexLock lock(&gate_mu_);
    while (running_ >= options_.max_concurrency) {
      TYTO_RETURN_IF_ERROR(stop.Check("query queue"));
      gate_cv_.wait_until(gate_mu_.native(), std::min(stop.deadline(), Stopper::Clock::now() + std::chrono::milliseconds(10)));
    }
    ++running_;
  }
  struct Slot {
    const Engine* engine;
    ~Slot() {
      if (engine->options_.max_concurrency <= 0) return;
      MutexLock lock(&engine->gate_mu_);
      --engine->running_;
      engine->gate_cv_.notify_one();
    }
  } slot{this};
  EngineOptions options = options_;
  if (ctx.max_samples > 0 && ctx.max_samples < options.max_samples) options.max_samples = ctx.max_samples;
  Evaluator ev(ctx.storage != nullptr ? ctx.storage : storage_, options, &stop, start_ms, end_ms,
               instant ? 0 : step_ms);
  const Steps steps{start_ms, end_ms, step_ms};
  QueryResult r;
  r.time = start_ms;
  if (expr.type() == ValueType::kMatrix) {
    if (!instant) return InvalidArgument("invalid expression type \"range vector\" for range query, must be Scalar or instant Vector");
    TYTO_ASSIGN_OR_RETURN(Windows w, ev.EvalWindows(expr, steps));
    r.type = ValueType::kMatrix;
    const Window& at = w.steps[0];
    for (const SeriesView& view : at.series) {
      if (at.anchored || at.smoothed) {
        // The samples at the range's edges, picked or interpolated, around those inside.
        std::vector<Point> points = ExtendFloats(view.points, at.end - at.range, at.end, at.smoothed);
        if (!points.empty()) r.matrix.push_back({w.data[view.index].metric, std::move(points)});
        continue;
      }
      r.matrix.push_back({w.data[view.index].metric, std::vector<Point>(view.points.begin(), view.points.end())});
    }
    return WithAnnotations(&ev, std::move(r));
  }
  TYTO_ASSIGN_OR_RETURN(Val v, ev.Eval(expr, steps));
  if (v.type == ValueType::kString) {
    if (!instant) return InvalidArgument("invalid expression type \"string\" for range query, must be Scalar or instant Vector");
    r.type = ValueType::kString;
    r.string = v.str;
    return WithAnnotations(&ev, std::move(r));
  }
  if (instant) {
    if (v.type == ValueType::kScalar) {
      r.type = ValueType::kScalar;
      r.scalar = v.scalars[0];
      return WithAnnotations(&ev, std::move(r));
    }
    r.type = ValueType::kVector;
    std::set<Labels> seen;
    for (Elem& e : v.vectors[0]) {
      if (e.drop_name) e.metric = DropName(e.metric);  // delayed name removal ends here
      if (!seen.insert(e.metric).second) return InvalidArgument("vector cannot contain metrics with the same labelset");
      r.vector.push_back({std::move(e.metric), e.v});
    }
    return WithAnnotations(&ev, std::move(r));
  }
  r.type = ValueType::kMatrix;
  // Each step's elements join their series (found by hash: the same label sets come back at
  // every step); a series given two values at one step is the duplicate-labels error.
  std::unordered_map<Labels, size_t, LabelsHash> index;
  for (size_t i = 0; i < steps.size(); ++i) {
    const int64_t t = steps.At(i);
    if (v.type == ValueType::kScalar) {
      if (r.matrix.empty()) r.matrix.push_back({Labels(), {}});
      r.matrix[0].points.push_back({t, v.scalars[i]});
      continue;
    }
    for (Elem& e : v.vectors[i]) {
      // Delayed name removal ends here: series that differ only by name become one, as long
      // as no two of them have a value at the same step.
      if (e.drop_name) e.metric = DropName(e.metric);
      auto [it, fresh] = index.try_emplace(e.metric, r.matrix.size());
      if (fresh) r.matrix.push_back({e.metric, {}});
      Series& s = r.matrix[it->second];
      if (!s.points.empty() && s.points.back().t == t) {
        return InvalidArgument("vector cannot contain metrics with the same labelset");
      }
      s.points.push_back({t, e.v});
    }
  }
  std::sort(r.matrix.begin(), r.matrix.end(), [](const Series& a, const Series& b) { return a.metric < b.metric; });
  return WithAnnotations(&ev, std::move(r));
}

Result<QueryResult> Engine::Instant(std::string_view query, int64_t time_ms, const QueryContext& ctx) const {
  TYTO_ASSIGN_OR_RETURN(ExprPtr expr, Parse(query));
  return LocateAnnotations(query, Exec(*expr, time_ms, time_ms, 1, /*instant=*/true, ctx));
}

Result<QueryResult> Engine::Range(std::string_view query, int64_t start_ms, int64_t end_ms, int64_t step_ms,
                                  const QueryContext& ctx) const {
  TYTO_ASSIGN_OR_RETURN(ExprPtr expr, Parse(query));
  return LocateAnnotations(query, Exec(*expr, start_ms, end_ms, step_ms, /*instant=*/false, ctx));
}

}  // namespace tyto::promql
