#include "quality/drift.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <utility>

#include "common/coding.h"
#include "common/crc32.h"
#include "common/log.h"
#include "quality/metrics.h"
#include "stats/mmd.h"

namespace tyto::quality {
namespace {

const log::Logger kLog("quality");

constexpr size_t kNumeric = 0, kCategorical = 1, kEmbedding = 2;
constexpr const char* kKindNames[] = {"numeric", "categorical", "embedding"};
constexpr std::string_view kMagic = "TYDRIFT1";
constexpr double kMmdThreshold = 0.05;
constexpr uint64_t kMmdSeed = 1;

size_t KindOf(const DriftMonitor::Values& v) { return v.index(); }

uint64_t RowsOf(const DriftMonitor::Values& v) {
  switch (v.index()) {
    case kNumeric:
      return std::get<stats::QuantileSketch>(v).count();
    case kCategorical:
      return std::get<stats::CategoryCounts>(v).total();
    default:
      return std::get<stats::VectorReservoir>(v).seen();
  }
}

size_t MemoryOf(const DriftMonitor::Values& v) {
  return std::visit([](const auto& x) { return x.MemoryBytes(); }, v);
}

void MergeInto(DriftMonitor::Values* into, const DriftMonitor::Values& from) {
  switch (from.index()) {
    case kNumeric:
      std::get<stats::QuantileSketch>(*into).Merge(std::get<stats::QuantileSketch>(from));
      break;
    case kCategorical:
      std::get<stats::CategoryCounts>(*into).Merge(std::get<stats::CategoryCounts>(from));
      break;
    default:
      (void)std::get<stats::VectorReservoir>(*into).Merge(std::get<stats::VectorReservoir>(from));
  }
}

std::string SerializeValues(const DriftMonitor::Values& v) {
  return std::visit([](const auto& x) { return x.Serialize(); }, v);
}

Result<DriftMonitor::Values> DeserializeValues(size_t kind, std::string_view bytes) {
  switch (kind) {
    case kNumeric: {
      TYTO_ASSIGN_OR_RETURN(stats::QuantileSketch s, stats::QuantileSketch::Deserialize(bytes));
      return DriftMonitor::Values(std::move(s));
    }
    case kCategorical: {
      TYTO_ASSIGN_OR_RETURN(stats::CategoryCounts c, stats::CategoryCounts::Deserialize(bytes));
      return DriftMonitor::Values(std::move(c));
    }
    case kEmbedding: {
      TYTO_ASSIGN_OR_RETURN(stats::VectorReservoir r, stats::VectorReservoir::Deserialize(bytes));
      return DriftMonitor::Values(std::move(r));
    }
  }
  return InvalidArgument("unknown column kind " + std::to_string(kind));
}

// Adds the value of `column` in `e` (its field `f`, or the token counts, latency or embedding) to
// `v`, of the column's kind. False when refused (an embedding of another dimension).
bool AddValue(DriftMonitor::Values* v, const std::string& column, const events::InferenceEvent& e,
              const events::Field* f) {
  switch (v->index()) {
    case kEmbedding:
      return std::get<stats::VectorReservoir>(*v).Add(e.embedding);
    case kCategorical:
      std::get<stats::CategoryCounts>(*v).Add(f->text);
      return true;
    default: {
      const double x = f != nullptr                    ? f->number
                       : column == kInputTokensColumn  ? static_cast<double>(e.input_tokens)
                       : column == kOutputTokensColumn ? static_cast<double>(e.output_tokens)
                                                       : e.latency_s;
      std::get<stats::QuantileSketch>(*v).Add(x);
      return true;
    }
  }
}

// 64-bit FNV-1a: a file name for a model name of any bytes.
uint64_t Fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

}  // namespace

void ForEachColumn(const events::InferenceEvent& e,
                   const std::function<void(const std::string&, size_t, const events::Field*)>& fn) {
  for (const events::Field& f : e.features) fn(f.name, f.is_number ? kNumeric : kCategorical, &f);
  for (const events::Field& f : e.prediction) {
    fn(f.name.empty() ? std::string("prediction") : "prediction." + f.name, f.is_number ? kNumeric : kCategorical, &f);
  }
  if (e.input_tokens >= 0) fn(kInputTokensColumn, kNumeric, nullptr);
  if (e.output_tokens >= 0) fn(kOutputTokensColumn, kNumeric, nullptr);
  if (std::isfinite(e.latency_s)) fn(kLatencyColumn, kNumeric, nullptr);
  if (!e.embedding.empty()) fn(kEmbeddingColumn, kEmbedding, nullptr);
}

DriftMonitor::DriftMonitor(const DriftConfig& config, std::string dir, Env* env, Metrics* metrics)
    : config_(config),
      dir_(std::move(dir)),
      env_(env),
      metrics_(metrics),
      slot_ms_(std::max<int64_t>(config.window.count() / std::max<int64_t>(config.slots, 1), 1)) {}

DriftMonitor::~DriftMonitor() = default;

DriftMonitor::Values DriftMonitor::NewValues(size_t kind) const {
  switch (kind) {
    case kNumeric:
      return stats::QuantileSketch(static_cast<uint32_t>(config_.sketch_k));
    case kCategorical:
      return stats::CategoryCounts(static_cast<size_t>(config_.max_categories));
    default:
      return stats::VectorReservoir(static_cast<size_t>(config_.embedding_reservoir));
  }
}

std::string DriftMonitor::PathOf(const std::string& model) const {
  char name[32];
  std::snprintf(name, sizeof name, "%016llx.ref", static_cast<unsigned long long>(Fnv1a(model)));
  return dir_ + "/" + name;
}

Status DriftMonitor::Load() {
  if (!env_->FileExists(dir_)) return Status::Ok();
  TYTO_ASSIGN_OR_RETURN(std::vector<std::string> names, env_->ListDir(dir_));
  MutexLock lock(&mu_);
  for (const std::string& name : names) {
    if (name.size() < 4 || name.compare(name.size() - 4, 4, ".ref") != 0) continue;
    const std::string path = dir_ + "/" + name;
    Result<std::string> bytes = env_->ReadFile(path);
    Result<DecodedReference> ref = bytes.ok() ? DecodeReference(*bytes) : Result<DecodedReference>(bytes.status());
    if (!ref.ok()) {
      kLog.Warn("drift reference skipped", {{"path", path}, {"error", ref.status().message()}});
      continue;
    }
    State& s = models_[ref->model];
    s.reference = std::make_unique<Reference>();
    s.reference->source = ref->source;
    s.reference->created_ms = ref->created_ms;
    s.reference->rows = ref->rows;
    s.reference->columns = std::move(ref->columns);
  }
  return Status::Ok();
}

void DriftMonitor::Advance(const std::string& model, State& s, int64_t slot) {
  const size_t slots = static_cast<size_t>(config_.slots);
  if (s.slot_ids.empty()) {
    s.slot_ids.assign(slots, -1);
    s.slot_rows.assign(slots, 0);
  }
  // A baseline that has filled its window becomes the reference, before its first slice goes.
  if (s.reference == nullptr && s.baseline_start_ms >= 0) {
    const int64_t last = s.baseline_start_ms / slot_ms_ + config_.slots - 1;
    if (slot > last) {
      auto ref = std::make_unique<Reference>();
      ref->source = "baseline";
      ref->created_ms = (last + 1) * slot_ms_;
      ref->rows = WindowRows(s, last);
      ref->columns = Window(s, last);
      kLog.Info("drift baseline taken", {{"model", model}, {"rows", std::to_string(ref->rows)}});
      to_persist_.emplace_back(model, *ref);
      s.reference = std::move(ref);
      s.baseline_start_ms = -1;
      s.last = ModelDrift();
      s.last_slot_computed = -1;
    }
  }
  const size_t ring = static_cast<size_t>(slot % config_.slots);
  if (s.slot_ids[ring] == slot) return;
  s.slot_ids[ring] = slot;
  s.slot_rows[ring] = 0;
  for (auto& [name, col] : s.columns) {
    if (RowsOf(col.slots[ring]) > 0) col.slots[ring] = NewValues(KindOf(col.slots[ring]));
  }
}

void DriftMonitor::Add(State& s, size_t ring, const std::string& column, size_t kind, const events::InferenceEvent& e,
                       const events::Field* f) {
  auto it = s.columns.find(column);
  if (it == s.columns.end()) {
    if (s.columns.size() >= static_cast<size_t>(config_.max_features)) {
      if (metrics_ != nullptr) metrics_->drift_ignored.WithLabels({"max_features"}).Inc();
      return;
    }
    Column c;
    c.slots.reserve(static_cast<size_t>(config_.slots));
    for (int64_t i = 0; i < config_.slots; ++i) c.slots.push_back(NewValues(kind));
    it = s.columns.emplace(column, std::move(c)).first;
  }
  Values& v = it->second.slots[ring];
  if (KindOf(v) != kind) {
    if (metrics_ != nullptr) metrics_->drift_ignored.WithLabels({"type_mismatch"}).Inc();
    return;
  }
  if (!AddValue(&v, column, e, f) && metrics_ != nullptr) metrics_->drift_ignored.WithLabels({"embedding_dim"}).Inc();
}

void DriftMonitor::Observe(const std::vector<events::InferenceEvent>& events, int64_t now_ms) {
  if (events.empty()) return;
  const int64_t slot = now_ms / slot_ms_;
  const size_t ring = static_cast<size_t>(slot % config_.slots);
  MutexLock lock(&mu_);
  State* s = nullptr;
  const std::string* current = nullptr;
  for (const events::InferenceEvent& e : events) {
    if (e.model.empty()) continue;
    if (current == nullptr || *current != e.model) {
      auto it = models_.find(e.model);
      if (it == models_.end()) {
        if (models_.size() >= static_cast<size_t>(config_.max_models)) {
          if (metrics_ != nullptr) metrics_->drift_ignored.WithLabels({"max_models"}).Inc();
          continue;
        }
        it = models_.emplace(e.model, State()).first;
      }
      s = &it->second;
      current = &it->first;
      if (s->reference == nullptr && s->baseline_start_ms < 0) s->baseline_start_ms = now_ms;
      Advance(it->first, *s, slot);
    }
    ++s->slot_rows[ring];
    ForEachColumn(
        e, [&](const std::string& column, size_t kind, const events::Field* f) { Add(*s, ring, column, kind, e, f); });
  }
}

std::map<std::string, DriftMonitor::Values> DriftMonitor::Window(const State& s, int64_t slot) const {
  std::map<std::string, Values> out;
  for (const auto& [name, col] : s.columns) {
    Values merged = NewValues(KindOf(col.slots[0]));
    for (size_t i = 0; i < col.slots.size(); ++i) {
      if (s.slot_ids[i] < 0 || s.slot_ids[i] <= slot - config_.slots || s.slot_ids[i] > slot) continue;
      MergeInto(&merged, col.slots[i]);
    }
    out.emplace(name, std::move(merged));
  }
  return out;
}

uint64_t DriftMonitor::WindowRows(const State& s, int64_t slot) const {
  uint64_t n = 0;
  for (size_t i = 0; i < s.slot_ids.size(); ++i) {
    if (s.slot_ids[i] > slot - config_.slots && s.slot_ids[i] <= slot) n += s.slot_rows[i];
  }
  return n;
}

void DriftMonitor::Compute(const std::string& model, State& s, int64_t now_ms) const {
  const int64_t slot = now_ms / slot_ms_;
  ModelDrift out;
  out.model = model;
  out.computed_ms = now_ms;
  const std::map<std::string, Values> window = Window(s, slot);
  out.current_rows = WindowRows(s, slot);
  std::vector<ColumnResult> results;
  for (const auto& [name, ref] : s.reference->columns) {
    auto cur_it = window.find(name);
    if (cur_it == window.end() || KindOf(cur_it->second) != KindOf(ref)) continue;
    const Values& cur = cur_it->second;
    ColumnResult r;
    r.column = name;
    r.kind = kKindNames[KindOf(ref)];
    r.current_rows = RowsOf(cur);
    r.reference_rows = RowsOf(ref);
    if (r.current_rows < static_cast<uint64_t>(config_.min_rows) ||
        r.reference_rows < static_cast<uint64_t>(config_.min_rows)) {
      continue;  // too few rows to say anything
    }
    const DriftTestOverride* override = nullptr;
    for (const DriftTestOverride& t : config_.tests) {
      if (t.feature == name) override = &t;
    }
    const double threshold = override != nullptr && override->threshold >= 0 ? override->threshold : std::nan("");
    if (KindOf(ref) == kEmbedding) {
      const stats::MmdResult m =
          stats::MmdTest(std::get<stats::VectorReservoir>(ref), std::get<stats::VectorReservoir>(cur),
                         static_cast<int>(config_.permutations), kMmdSeed);
      r.test = "mmd";
      r.statistic = m.mmd2;
      r.p_value = m.p_value;
      r.threshold = std::isnan(threshold) ? kMmdThreshold : threshold;
    } else {
      stats::DriftResult d;
      if (KindOf(ref) == kNumeric) {
        const auto& rs = std::get<stats::QuantileSketch>(ref);
        const auto& cs = std::get<stats::QuantileSketch>(cur);
        Result<stats::Test> t = override != nullptr ? stats::ParseTest(override->test)
                                                    : Result<stats::Test>(stats::DefaultNumericTest(rs, cs));
        if (!t.ok()) continue;  // the config schema checked the name
        d = stats::NumericDrift(rs, cs, *t, threshold);
      } else {
        const auto& rc = std::get<stats::CategoryCounts>(ref);
        const auto& cc = std::get<stats::CategoryCounts>(cur);
        Result<stats::Test> t = override != nullptr ? stats::ParseTest(override->test)
                                                    : Result<stats::Test>(stats::DefaultCategoricalTest(rc, cc));
        if (!t.ok()) continue;
        d = stats::CategoricalDrift(rc, cc, *t, threshold);
      }
      r.test = std::string(stats::TestName(d.test));
      r.statistic = d.statistic;
      r.p_value = d.p_value;
      r.threshold = d.threshold;
      r.drift = d.drift;
      r.note = d.note;
    }
    results.push_back(std::move(r));
  }
  // Correct the p-values across the model's columns.
  std::vector<double> p;
  for (const ColumnResult& r : results) p.push_back(r.p_value);
  const std::vector<double> corrected = config_.correction == "bonferroni" ? stats::BonferroniCorrect(p) : p;
  size_t tested = 0, drifted = 0;
  for (size_t i = 0; i < results.size(); ++i) {
    ColumnResult& r = results[i];
    r.corrected_p_value = corrected[i];
    if (!std::isnan(r.p_value)) r.drift = r.corrected_p_value < r.threshold;
    if (std::isnan(r.statistic)) continue;
    ++tested;
    if (r.drift) ++drifted;
  }
  out.columns = std::move(results);
  out.drift_share = tested > 0 ? static_cast<double>(drifted) / static_cast<double>(tested) : 0;
  out.dataset_drift = tested > 0 && out.drift_share >= config_.drift_share;
  s.last = std::move(out);
  s.last_slot_computed = slot;
}

ModelDrift DriftMonitor::Describe(const std::string& model, const State& s, int64_t now_ms) const {
  ModelDrift d = s.last;
  d.model = model;
  d.state = s.reference != nullptr ? "tracking" : s.baseline_start_ms >= 0 ? "baseline" : "no_reference";
  if (s.reference != nullptr) {
    d.reference_source = s.reference->source;
    d.reference_created_ms = s.reference->created_ms;
    d.reference_rows = s.reference->rows;
  }
  if (now_ms > 0 && !s.slot_ids.empty()) d.current_rows = WindowRows(s, now_ms / slot_ms_);
  return d;
}

void DriftMonitor::Flush(int64_t now_ms, inference::SeriesWriter& w) {
  const int64_t slot = now_ms / slot_ms_;
  size_t memory = 0, columns = 0;
  std::vector<std::pair<std::string, Reference>> to_persist;
  {
    MutexLock lock(&mu_);
    for (auto& [model, s] : models_) {
      if (!s.slot_ids.empty()) Advance(model, s, slot);
      if (s.reference != nullptr && s.last_slot_computed != slot) Compute(model, s, now_ms);

      memory += StateMemory(s);
      columns += s.columns.size();

      LabelsBuilder base;
      base.Set("model", model);
      auto write = [&](const char* name, double v, std::initializer_list<std::pair<const char*, std::string>> extra) {
        if (std::isnan(v)) return;
        LabelsBuilder b = base;
        b.Set("__name__", name);
        for (const auto& [k, val] : extra) b.Set(k, val);
        w.Write(b.Build(), v);
      };
      write("tyto_drift_rows", static_cast<double>(WindowRows(s, slot)), {{"window", "current"}});
      if (s.reference == nullptr) continue;
      write("tyto_drift_rows", static_cast<double>(s.reference->rows), {{"window", "reference"}});
      if (s.last.computed_ms == 0) continue;
      write("tyto_drift_dataset_drift", s.last.dataset_drift ? 1 : 0, {});
      write("tyto_drift_share", s.last.drift_share, {});
      for (const ColumnResult& r : s.last.columns) {
        write("tyto_drift_score", r.statistic, {{"feature", r.column}, {"test", r.test}});
        write("tyto_drift_p_value", r.corrected_p_value, {{"feature", r.column}, {"test", r.test}});
        write("tyto_drift_detected", r.drift ? 1 : 0, {{"feature", r.column}, {"test", r.test}});
      }
    }
    to_persist.swap(to_persist_);
  }
  if (metrics_ != nullptr) {
    metrics_->drift_memory_bytes.Set(static_cast<double>(memory));
    metrics_->drift_columns.Set(static_cast<double>(columns));
  }
  for (const auto& [model, ref] : to_persist) {
    Status st = Persist(model, ref);
    if (!st.ok()) kLog.Warn("drift reference not saved", {{"model", model}, {"error", st.message()}});
  }
}

Status DriftMonitor::Persist(const std::string& model, const Reference& r) const {
  TYTO_RETURN_IF_ERROR(env_->CreateDirs(dir_));
  return WriteFileAtomically(env_, PathOf(model), EncodeReference(model, r.source, r.created_ms, r.rows, r.columns));
}

Result<ModelDrift> DriftMonitor::SetReferenceFromCurrent(const std::string& model, int64_t now_ms) {
  Reference copy;
  ModelDrift out;
  {
    MutexLock lock(&mu_);
    auto it = models_.find(model);
    if (it == models_.end() || it->second.slot_ids.empty())
      return NotFound("no requests of model '" + model + "' seen");
    State& s = it->second;
    const int64_t slot = now_ms / slot_ms_;
    Advance(model, s, slot);
    auto ref = std::make_unique<Reference>();
    ref->source = "current";
    ref->created_ms = now_ms;
    ref->rows = WindowRows(s, slot);
    if (ref->rows == 0) return FailedPrecondition("model '" + model + "' has no requests in the current window");
    ref->columns = Window(s, slot);
    copy = *ref;
    s.reference = std::move(ref);
    s.baseline_start_ms = -1;
    s.last = ModelDrift();
    s.last_slot_computed = -1;
    out = Describe(model, s, now_ms);
  }
  TYTO_RETURN_IF_ERROR(Persist(model, copy));
  return out;
}

Result<ModelDrift> DriftMonitor::SetReferenceFromRows(const std::string& model,
                                                      const std::vector<events::InferenceEvent>& rows, int64_t now_ms) {
  if (rows.empty()) return InvalidArgument("no rows");
  Reference ref;
  ref.source = "upload";
  ref.created_ms = now_ms;
  ref.rows = rows.size();
  size_t ignored = 0;
  for (const events::InferenceEvent& e : rows) {
    ForEachColumn(e, [&](const std::string& column, size_t kind, const events::Field* f) {
      auto it = ref.columns.find(column);
      if (it == ref.columns.end()) {
        if (ref.columns.size() >= static_cast<size_t>(config_.max_features)) {
          ++ignored;
          return;
        }
        it = ref.columns.emplace(column, NewValues(kind)).first;
      }
      Values& v = it->second;
      if (KindOf(v) != kind) {
        ++ignored;
        return;
      }
      if (!AddValue(&v, column, e, f)) ++ignored;
    });
  }
  if (ignored > 0 && metrics_ != nullptr) metrics_->drift_ignored.WithLabels({"type_mismatch"}).Inc(double(ignored));
  TYTO_RETURN_IF_ERROR(Persist(model, ref));
  MutexLock lock(&mu_);
  auto it = models_.find(model);
  if (it == models_.end()) {
    if (models_.size() >= static_cast<size_t>(config_.max_models)) {
      return ResourceExhausted("quality.drift.max_models (" + std::to_string(config_.max_models) +
                               ") models are tracked already");
    }
    it = models_.emplace(model, State()).first;
  }
  State& s = it->second;
  s.reference = std::make_unique<Reference>(std::move(ref));
  s.baseline_start_ms = -1;
  s.last = ModelDrift();
  s.last_slot_computed = -1;
  return Describe(model, s, now_ms);
}

Status DriftMonitor::ResetReference(const std::string& model, int64_t now_ms) {
  {
    MutexLock lock(&mu_);
    auto it = models_.find(model);
    if (it == models_.end()) return NotFound("no drift state for model '" + model + "'");
    it->second.reference.reset();
    it->second.baseline_start_ms = now_ms;
    it->second.last = ModelDrift();
    it->second.last_slot_computed = -1;
  }
  const std::string path = PathOf(model);
  if (env_->FileExists(path)) TYTO_RETURN_IF_ERROR(env_->RemoveFile(path));
  return Status::Ok();
}

std::vector<ModelDrift> DriftMonitor::Models(int64_t now_ms) const {
  std::vector<ModelDrift> out;
  MutexLock lock(&mu_);
  for (const auto& [model, s] : models_) {
    out.push_back(Describe(model, s, now_ms));
    out.back().columns.clear();
  }
  return out;
}

Result<ModelDrift> DriftMonitor::Model(const std::string& model, int64_t now_ms) const {
  MutexLock lock(&mu_);
  auto it = models_.find(model);
  if (it == models_.end()) return NotFound("no drift state for model '" + model + "'");
  return Describe(model, it->second, now_ms);
}

Result<std::vector<ColumnHistogram>> DriftMonitor::Histograms(const std::string& model, int64_t now_ms) const {
  MutexLock lock(&mu_);
  auto it = models_.find(model);
  if (it == models_.end()) return NotFound("no drift state for model '" + model + "'");
  const State& s = it->second;
  std::vector<ColumnHistogram> out;
  if (s.reference == nullptr || s.slot_ids.empty()) return out;
  const std::map<std::string, Values> window = Window(s, now_ms / slot_ms_);
  for (const auto& [name, ref] : s.reference->columns) {
    auto cur = window.find(name);
    if (cur == window.end() || KindOf(cur->second) != KindOf(ref) || KindOf(ref) == kEmbedding) continue;
    ColumnHistogram h;
    h.column = name;
    h.histogram = KindOf(ref) == kNumeric ? stats::CompareNumeric(std::get<stats::QuantileSketch>(ref),
                                                                  std::get<stats::QuantileSketch>(cur->second))
                                          : stats::CompareCategorical(std::get<stats::CategoryCounts>(ref),
                                                                      std::get<stats::CategoryCounts>(cur->second));
    out.push_back(std::move(h));
  }
  return out;
}

size_t DriftMonitor::MemoryBytes() const {
  size_t n = 0;
  MutexLock lock(&mu_);
  for (const auto& [model, s] : models_) n += StateMemory(s);
  return n;
}

size_t DriftMonitor::StateMemory(const State& s) {
  size_t n = 0;
  for (const auto& [name, col] : s.columns) {
    for (const Values& v : col.slots) n += MemoryOf(v);
  }
  if (s.reference != nullptr) {
    for (const auto& [name, v] : s.reference->columns) n += MemoryOf(v);
  }
  return n;
}

std::string EncodeReference(const std::string& model, const std::string& source, int64_t created_ms, uint64_t rows,
                            const std::map<std::string, DriftMonitor::Values>& columns) {
  std::string out(kMagic);
  coding::PutLengthPrefixed(&out, model);
  coding::PutLengthPrefixed(&out, source);
  coding::PutFixed64(&out, static_cast<uint64_t>(created_ms));
  coding::PutFixed64(&out, rows);
  coding::PutVarint64(&out, columns.size());
  for (const auto& [name, v] : columns) {
    coding::PutLengthPrefixed(&out, name);
    out.push_back(static_cast<char>(KindOf(v)));
    coding::PutLengthPrefixed(&out, SerializeValues(v));
  }
  coding::PutFixed32(&out, Crc32(out));
  return out;
}

Result<DecodedReference> DecodeReference(std::string_view bytes) {
  if (bytes.size() < kMagic.size() + 4 || bytes.substr(0, kMagic.size()) != kMagic) {
    return InvalidArgument("not a drift reference (bad magic)");
  }
  const uint32_t crc = coding::DecodeFixed32(bytes.data() + bytes.size() - 4);
  if (Crc32(bytes.substr(0, bytes.size() - 4)) != crc) return Corruption("drift reference: checksum mismatch");
  const char* p = bytes.data() + kMagic.size();
  const char* end = bytes.data() + bytes.size() - 4;
  DecodedReference out;
  std::string_view s;
  if ((p = coding::GetLengthPrefixed(p, end, &s)) == nullptr)
    return Corruption("drift reference: model name cut short");
  out.model = std::string(s);
  if ((p = coding::GetLengthPrefixed(p, end, &s)) == nullptr) return Corruption("drift reference: source cut short");
  out.source = std::string(s);
  if (end - p < 16) return Corruption("drift reference: header cut short");
  out.created_ms = static_cast<int64_t>(coding::DecodeFixed64(p));
  out.rows = coding::DecodeFixed64(p + 8);
  p += 16;
  uint64_t n = 0;
  if ((p = coding::GetVarint64(p, end, &n)) == nullptr) return Corruption("drift reference: column count cut short");
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view name, payload;
    if ((p = coding::GetLengthPrefixed(p, end, &name)) == nullptr || p >= end) {
      return Corruption("drift reference: column " + std::to_string(i) + " cut short");
    }
    const size_t kind = static_cast<unsigned char>(*p++);
    if ((p = coding::GetLengthPrefixed(p, end, &payload)) == nullptr) {
      return Corruption("drift reference: column " + std::to_string(i) + " cut short");
    }
    Result<DriftMonitor::Values> v = DeserializeValues(kind, payload);
    if (!v.ok()) return Corruption("drift reference: column '" + std::string(name) + "': " + v.status().message());
    out.columns.emplace(std::string(name), std::move(*v));
  }
  if (p != end) return Corruption("drift reference: trailing bytes");
  return out;
}

}  // namespace tyto::quality
