// Tests of the quality monitor's parts: the `quality:` section, ground truth joined to
// predictions (metrics worked by hand below), drift against a baseline (an unchanged stream stays
// quiet, a shifted one is flagged within one window), references on disk, and evaluations
// (sampling, budget, composite, OpenTelemetry evaluation records).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "config/yaml.h"
#include "crypto/field_encryption.h"
#include "crypto/keyring.h"
#include "eventstore/config.h"
#include "eventstore/store.h"
#include "instrumentation/metrics.h"
#include "quality/config.h"
#include "quality/drift.h"
#include "quality/evaluation.h"
#include "quality/ground_truth.h"
#include "quality/metrics.h"
#include "redact/redactor.h"
#include "testing/fake_clock.h"
#include "testing/recording_appender.h"
#include "testing/temp_dir.h"

namespace tyto::quality {
namespace {

using ::testing::HasSubstr;
using testing::RecordingAppender;

constexpr int64_t kT0 = 1'800'000'000'000;

std::string Key(std::string_view name, std::initializer_list<std::pair<std::string_view, std::string_view>> labels) {
  LabelsBuilder b;
  b.Set("__name__", name);
  for (const auto& [k, v] : labels) b.Set(k, v);
  return b.Build().ToString();
}

Result<QualityConfig> Parse(const std::string& yaml) {
  TYTO_ASSIGN_OR_RETURN(config::Node root, config::ParseYaml(yaml, "tyto.yml"));
  QualityConfig c;
  config::Diagnostics d;
  QualitySchema().Decode(root, &c, &d);
  TYTO_RETURN_IF_ERROR(d.ToStatus());
  return c;
}

TEST(QualityConfigTest, DefaultsAndErrors) {
  Result<QualityConfig> c = Parse("{}");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(*c, QualityConfig());
  c = Parse(
      "evaluation:\n  sample_rate: 0.5\n  evaluators:\n    - name: judge\n      type: llm_judge\n      weight: 2\n"
      "      options: {url: 'http://127.0.0.1:1/v1/chat/completions', model: m, rubric: [a, b]}\n"
      "drift:\n  window: 10m\n  tests: [{feature: age, test: psi, threshold: 0.2}]\n");
  ASSERT_TRUE(c.ok()) << c.status().message();
  ASSERT_EQ(c->evaluation.evaluators.size(), 1u);
  EXPECT_EQ(c->evaluation.evaluators[0].options.at("rubric"), "a\nb");
  EXPECT_EQ(c->evaluation.evaluators[0].weight, 2);
  EXPECT_EQ(c->drift.window, std::chrono::minutes(10));
  EXPECT_EQ(c->drift.tests[0].test, "psi");

  EXPECT_THAT(Parse("evaluation: {sample_rate: 2}").status().message(),
              HasSubstr("tyto.yml:1:27: value 2 out of range [0, 1]"));
  EXPECT_THAT(Parse("drift: {tests: [{feature: a, test: kolmogorov}]}").status().message(), HasSubstr("kolmogorov"));
  EXPECT_THAT(Parse("evaluation: {evaluators: [{name: a}, {name: a}]}").status().message(),
              HasSubstr("'a' is listed twice"));
  EXPECT_THAT(Parse("evaluation: {evaluators: [{name: composite}]}").status().message(),
              HasSubstr("name of the composite score"));
  EXPECT_THAT(Parse("evaluation: {evaluators: [{name: a, options: {x: {y: 1}}}]}").status().message(),
              HasSubstr("option 'x': expected a value or a list"));
  EXPECT_THAT(Parse("drift: {correction: holm}").status().message(), HasSubstr("holm"));
}

events::InferenceEvent Prediction(std::string id, std::string label, double score, std::string region,
                                  int64_t t = kT0) {
  events::InferenceEvent e;
  e.timestamp_ms = t;
  e.request_id = std::move(id);
  e.model = "clf";
  e.model_version = "v1";
  events::Field l;
  l.name = "label";
  l.is_number = false;
  l.text = std::move(label);
  events::Field s;
  s.name = "score";
  s.number = score;
  e.prediction = {l, s};
  events::Field r;
  r.name = "region";
  r.is_number = false;
  r.text = std::move(region);
  e.features = {r};
  return e;
}

events::Feedback Label(std::string id, std::string label, double rating = std::nan("")) {
  events::Feedback f;
  f.timestamp_ms = kT0 + 3'600'000;
  f.request_id = std::move(id);
  f.has_label = !label.empty();
  f.label.is_number = false;
  f.label.text = std::move(label);
  f.rating = rating;
  return f;
}

// Five predictions and their late labels (positive class "yes", guessed from the two classes):
//   r1 yes 0.9 A -> yes   r2 yes 0.8 A -> no   r3 no 0.7 B -> no   r4 no 0.6 B -> yes   r5 yes 0.9 B -> yes
// accuracy 3/5; "yes": TP 2, FP 1, FN 1 -> precision = recall = F1 = 2/3; "no": TP 1, FP 1, FN 1
// -> 1/2; macro F1 (2/3 + 1/2) / 2 = 7/12. Calibration (10 bins; each score alone in its bin but
// the two 0.9s): |1 - .9|·2/5 + |0 - .8|/5 + |1 - .7|/5 + |0 - .6|/5 = .04 + .16 + .06 + .12 = .38.
// Fairness by region: A predicts yes 2/2, B 1/3 -> parity gap 2/3; true-positive rate A 1/1, B
// 1/2 -> opportunity gap 1/2. Ratings 5 and 3 -> 4.
TEST(GroundTruthTest, JoinsLateFeedbackAndComputesMetrics) {
  testing::TempDir dir;
  instrumentation::Registry registry;
  Metrics metrics(&registry);
  GroundTruthConfig config;
  config.segment_feature = "region";
  {
    Result<std::unique_ptr<GroundTruth>> gt = GroundTruth::Open(config, dir.path(), &metrics, kT0);
    ASSERT_TRUE(gt.ok()) << gt.status().message();
    (*gt)->Record(Prediction("r1", "yes", 0.9, "A"));
    (*gt)->Record(Prediction("r2", "yes", 0.8, "A"));
    (*gt)->Record(Prediction("r3", "no", 0.7, "B"));
    (*gt)->Record(Prediction("r4", "no", 0.6, "B"));
    (*gt)->Record(Prediction("r5", "yes", 0.9, "B"));
    events::InferenceEvent unlabelled = Prediction("", "yes", 0.9, "B");  // no request id: not kept
    (*gt)->Record(unlabelled);
    ASSERT_TRUE((*gt)->Commit().ok());

    Result<FeedbackResult> r =
        (*gt)->Ingest({Label("r1", "yes", 5), Label("r2", "no"), Label("r3", "no", 3), Label("r4", "yes"),
                       Label("r5", "yes"), Label("r1", "no"), Label("nope", "yes")},
                      kT0 + 3'600'000);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->matched, 5u);
    EXPECT_EQ(r->duplicate, 1u);
    EXPECT_EQ(r->unmatched, 1u);

    RecordingAppender app;
    inference::SeriesWriter w;
    w.Begin(&app, kT0 + 3'600'000);
    (*gt)->Flush(kT0 + 3'600'000, w);
    ASSERT_TRUE(w.End().ok());
    auto last = [&](std::string_view name, std::initializer_list<std::pair<std::string_view, std::string_view>> extra) {
      LabelsBuilder b;
      b.Set("__name__", name);
      b.Set("model", "clf");
      b.Set("version", "v1");
      for (const auto& [k, v] : extra) b.Set(k, v);
      return app.Last(b.Build().ToString());
    };
    EXPECT_DOUBLE_EQ(last("tyto_quality_labelled_requests", {}), 5);
    EXPECT_DOUBLE_EQ(last("tyto_quality_accuracy", {}), 0.6);
    EXPECT_DOUBLE_EQ(last("tyto_quality_precision", {{"average", "binary"}}), 2.0 / 3);
    EXPECT_DOUBLE_EQ(last("tyto_quality_recall", {{"average", "binary"}}), 2.0 / 3);
    EXPECT_DOUBLE_EQ(last("tyto_quality_f1", {{"average", "binary"}}), 2.0 / 3);
    EXPECT_DOUBLE_EQ(last("tyto_quality_f1", {{"average", "macro"}}), 7.0 / 12);
    EXPECT_NEAR(last("tyto_quality_calibration_error", {}), 0.38, 1e-12);
    EXPECT_DOUBLE_EQ(last("tyto_quality_user_rating", {}), 4);
    EXPECT_NEAR(last("tyto_quality_demographic_parity_difference", {{"segment_feature", "region"}}), 2.0 / 3, 1e-12);
    EXPECT_NEAR(last("tyto_quality_equal_opportunity_difference", {{"segment_feature", "region"}}), 0.5, 1e-12);
  }
  // After a restart the window's feedback is counted again, and labelled requests stay labelled.
  Result<std::unique_ptr<GroundTruth>> gt = GroundTruth::Open(config, dir.path(), &metrics, kT0 + 3'700'000);
  ASSERT_TRUE(gt.ok()) << gt.status().message();
  std::vector<GroundTruth::Summary> s = (*gt)->Summaries(kT0 + 3'700'000);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].labelled, 5u);
  EXPECT_DOUBLE_EQ(s[0].accuracy, 0.6);
  EXPECT_DOUBLE_EQ(s[0].mean_rating, 4);
  Result<FeedbackResult> again = (*gt)->Ingest({Label("r2", "yes")}, kT0 + 3'700'000);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->duplicate, 1u);
  // Past max_age a prediction no longer joins.
  (*gt)->Record(Prediction("old", "yes", 0.9, "A", kT0));
  Result<FeedbackResult> late = (*gt)->Ingest({Label("old", "yes")}, kT0 + config.max_age.count() + 1);
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(late->unmatched, 1u);
  // The window passes: the metrics go.
  EXPECT_TRUE((*gt)->Summaries(kT0 + 3'600'000 + config.window.count() + 3'600'000).empty());
}

TEST(GroundTruthTest, NumericLabelsAndModelScopedIds) {
  testing::TempDir dir;
  GroundTruthConfig config;
  config.prediction_field = "";
  Result<std::unique_ptr<GroundTruth>> gt = GroundTruth::Open(config, dir.path(), nullptr, kT0);
  ASSERT_TRUE(gt.ok()) << gt.status().message();
  for (const char* model : {"a", "b"}) {
    events::InferenceEvent e;
    e.timestamp_ms = kT0;
    e.request_id = "same";
    e.model = model;
    events::Field p;
    p.number = std::string(model) == "a" ? 1 : 0;
    e.prediction = {p};
    (*gt)->Record(e);
  }
  events::Feedback f;
  f.timestamp_ms = kT0;
  f.request_id = "same";
  f.model = "a";
  f.has_label = true;
  f.label.number = 1.0;  // 1.0 and 1 are the same class
  Result<FeedbackResult> r = (*gt)->Ingest({f}, kT0);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->matched, 1u);
  std::vector<GroundTruth::Summary> s = (*gt)->Summaries(kT0);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].model, "a");
  EXPECT_DOUBLE_EQ(s[0].accuracy, 1);
}

// A stream of requests from `rng`: x ~ N(mean, 1), c from a mix, a 4-number embedding ~ N(shift, 1).
std::vector<events::InferenceEvent> Stream(std::mt19937_64& rng, int n, double mean, std::vector<double> mix,
                                           float shift) {
  std::normal_distribution<double> normal(0, 1);
  std::discrete_distribution<int> pick(mix.begin(), mix.end());
  std::vector<events::InferenceEvent> out;
  for (int i = 0; i < n; ++i) {
    events::InferenceEvent e;
    e.model = "m";
    events::Field x;
    x.name = "x";
    x.number = mean + normal(rng);
    events::Field c;
    c.name = "c";
    c.is_number = false;
    c.text = std::string(1, static_cast<char>('a' + pick(rng)));
    e.features = {x, c};
    for (int d = 0; d < 4; ++d) e.embedding.push_back(shift + static_cast<float>(normal(rng)));
    out.push_back(std::move(e));
  }
  return out;
}

DriftConfig SmallWindow() {
  DriftConfig c;
  c.window = std::chrono::minutes(1);
  c.slots = 6;
  c.min_rows = 50;
  c.permutations = 100;
  return c;
}

// Feeds `events` spread over the minute after `start`, flushing after each slice.
void Feed(DriftMonitor& d, const std::vector<events::InferenceEvent>& events, int64_t start) {
  const size_t per_slice = events.size() / 6;
  for (int s = 0; s < 6; ++s) {
    std::vector<events::InferenceEvent> slice(events.begin() + s * per_slice, events.begin() + (s + 1) * per_slice);
    d.Observe(slice, start + s * 10'000 + 1);
  }
}

double DriftSeries(const RecordingAppender& app, const char* name, std::string_view feature, std::string_view test) {
  return app.Last(Key(name, {{"feature", feature}, {"model", "m"}, {"test", test}}));
}

TEST(DriftTest, BaselineThenQuietThenShifted) {
  testing::TempDir dir;
  std::mt19937_64 rng(7);
  DriftMonitor d(SmallWindow(), dir.Path("drift"), Env::Default(), nullptr);
  ASSERT_TRUE(d.Load().ok());
  RecordingAppender app;
  inference::SeriesWriter w;
  auto flush = [&](int64_t t) {
    w.Begin(&app, t);
    d.Flush(t, w);
    ASSERT_TRUE(w.End().ok());
  };
  Feed(d, Stream(rng, 600, 0, {5, 3, 2}, 0), kT0);
  flush(kT0 + 30'000);
  EXPECT_EQ(d.Model("m", kT0 + 200'000)->state, "baseline");
  flush(kT0 + 60'001);  // a window after the first request: the baseline is taken
  ASSERT_EQ(d.Model("m", kT0 + 200'000)->state, "tracking");
  EXPECT_EQ(d.Model("m", kT0 + 200'000)->reference_source, "baseline");
  EXPECT_EQ(d.Model("m", kT0 + 200'000)->reference_rows, 600u);

  // The same distributions for a window: quiet.
  Feed(d, Stream(rng, 600, 0, {5, 3, 2}, 0), kT0 + 60'001);
  flush(kT0 + 120'002);
  EXPECT_EQ(app.Last(Key("tyto_drift_dataset_drift", {{"model", "m"}})), 0);
  EXPECT_EQ(DriftSeries(app, "tyto_drift_detected", "x", "ks"), 0);
  EXPECT_EQ(DriftSeries(app, "tyto_drift_detected", "c", "chisquare"), 0);
  EXPECT_EQ(DriftSeries(app, "tyto_drift_detected", "_embedding", "mmd"), 0);
  EXPECT_GT(DriftSeries(app, "tyto_drift_p_value", "x", "ks"), 0.05);

  // x moves by one standard deviation, the mix turns, the embeddings move: flagged within the window.
  Feed(d, Stream(rng, 600, 1, {2, 3, 5}, 1), kT0 + 120'002);
  flush(kT0 + 180'003);
  EXPECT_EQ(DriftSeries(app, "tyto_drift_detected", "x", "ks"), 1);
  EXPECT_EQ(DriftSeries(app, "tyto_drift_detected", "c", "chisquare"), 1);
  EXPECT_EQ(DriftSeries(app, "tyto_drift_detected", "_embedding", "mmd"), 1);
  EXPECT_LT(DriftSeries(app, "tyto_drift_p_value", "x", "ks"), 1e-6);
  EXPECT_EQ(app.Last(Key("tyto_drift_dataset_drift", {{"model", "m"}})), 1);
  EXPECT_EQ(app.Last(Key("tyto_drift_share", {{"model", "m"}})), 1);
  Result<std::vector<ColumnHistogram>> h = d.Histograms("m", kT0 + 180'003);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->size(), 2u);  // x and c (embeddings have none)

  // The reference survives a restart; a reset starts a new baseline and removes the file.
  DriftMonitor again(SmallWindow(), dir.Path("drift"), Env::Default(), nullptr);
  ASSERT_TRUE(again.Load().ok());
  ASSERT_TRUE(again.Model("m", kT0 + 200'000).ok());
  EXPECT_EQ(again.Model("m", kT0 + 200'000)->reference_rows, 600u);
  EXPECT_EQ(again.Model("m", kT0 + 200'000)->state, "tracking");
  ASSERT_TRUE(again.ResetReference("m", kT0 + 200'000).ok());
  EXPECT_EQ(again.Model("m", kT0 + 200'000)->state, "baseline");
  DriftMonitor third(SmallWindow(), dir.Path("drift"), Env::Default(), nullptr);
  ASSERT_TRUE(third.Load().ok());
  EXPECT_FALSE(third.Model("m", kT0 + 200'000).ok());
}

// An unchanged stream, window after window against its baseline: how often is a column, or the
// data set, flagged? Reported (the figure is in docs/performance.md) and bounded loosely: with
// Bonferroni over three columns at 0.05, a column should be flagged in well under 5% of windows,
// and the data set (two of three columns) almost never.
TEST(DriftTest, FalseAlarmRateOfAnUnchangedStream) {
  testing::TempDir dir;
  std::mt19937_64 rng(2026);
  DriftMonitor d(SmallWindow(), dir.Path("drift"), Env::Default(), nullptr);
  RecordingAppender app;
  inference::SeriesWriter w;
  constexpr int kWindows = 100;
  int column_alarms = 0, dataset_alarms = 0;
  std::map<std::string, int> by_column;
  for (int i = 0; i <= kWindows; ++i) {
    const int64_t start = kT0 + i * 60'000;
    Feed(d, Stream(rng, 300, 0, {5, 3, 2}, 0), start);
    w.Begin(&app, start + 60'000);
    d.Flush(start + 60'000, w);  // the first flush takes the baseline
    ASSERT_TRUE(w.End().ok());
    if (i == 0) continue;
    for (const auto& [feature, test] : {std::pair{"x", "ks"}, {"c", "chisquare"}, {"_embedding", "mmd"}}) {
      const double v = DriftSeries(app, "tyto_drift_detected", feature, test);
      ASSERT_FALSE(std::isnan(v)) << feature << " window " << i;
      column_alarms += v == 1;
      by_column[feature] += v == 1;
    }
    dataset_alarms += app.Last(Key("tyto_drift_dataset_drift", {{"model", "m"}})) == 1;
  }
  const double column_rate = column_alarms / (3.0 * kWindows), dataset_rate = dataset_alarms / double(kWindows);
  std::printf("false alarms over %d unchanged windows: columns %.3f, data set %.3f\n", kWindows, column_rate,
              dataset_rate);
  for (const auto& [c, n] : by_column) std::printf("  %s: %d\n", c.c_str(), n);
  RecordProperty("column_false_alarm_rate", std::to_string(column_rate));
  RecordProperty("dataset_false_alarm_rate", std::to_string(dataset_rate));
  EXPECT_LT(column_rate, 0.05);
  EXPECT_LT(dataset_rate, 0.02);
}

TEST(DriftTest, UploadedAndFrozenReferences) {
  testing::TempDir dir;
  std::mt19937_64 rng(11);
  DriftMonitor d(SmallWindow(), dir.Path("drift"), Env::Default(), nullptr);
  Result<ModelDrift> up = d.SetReferenceFromRows("m", Stream(rng, 300, 5, {1, 1, 1}, 0), kT0);
  ASSERT_TRUE(up.ok()) << up.status().message();
  EXPECT_EQ(up->reference_source, "upload");
  EXPECT_EQ(up->reference_rows, 300u);
  EXPECT_FALSE(d.SetReferenceFromRows("m", {}, kT0).ok());
  EXPECT_EQ(d.SetReferenceFromCurrent("other", kT0).status().code(), StatusCode::kNotFound);
  Feed(d, Stream(rng, 600, 0, {1, 1, 1}, 0), kT0);
  RecordingAppender app;
  inference::SeriesWriter w;
  w.Begin(&app, kT0 + 50'000);
  d.Flush(kT0 + 50'000, w);
  ASSERT_TRUE(w.End().ok());
  EXPECT_EQ(DriftSeries(app, "tyto_drift_detected", "x", "ks"), 1);  // mean 5 uploaded, 0 seen
  Result<ModelDrift> frozen = d.SetReferenceFromCurrent("m", kT0 + 50'000);
  ASSERT_TRUE(frozen.ok()) << frozen.status().message();
  EXPECT_EQ(frozen->reference_source, "current");
  EXPECT_EQ(frozen->reference_rows, 600u);  // the six slices fed
}

TEST(DriftTest, ReferenceFileRoundTripAndDamage) {
  std::map<std::string, DriftMonitor::Values> cols;
  stats::QuantileSketch q;
  for (int i = 0; i < 1000; ++i) q.Add(i);
  cols.emplace("x", q);
  stats::CategoryCounts c;
  c.Add("a", 3);
  cols.emplace("c", c);
  const std::string bytes = EncodeReference("model/one", "upload", kT0, 1000, cols);
  Result<DecodedReference> r = DecodeReference(bytes);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->model, "model/one");
  EXPECT_EQ(r->rows, 1000u);
  EXPECT_EQ(std::get<stats::QuantileSketch>(r->columns.at("x")).count(), 1000u);
  EXPECT_EQ(std::get<stats::CategoryCounts>(r->columns.at("c")).total(), 3u);
  for (size_t i = 0; i < bytes.size(); i += 7) {
    std::string damaged = bytes;
    damaged[i] ^= 0x5a;
    EXPECT_FALSE(DecodeReference(damaged).ok()) << "byte " << i;
  }
  EXPECT_FALSE(DecodeReference(bytes.substr(0, bytes.size() / 2)).ok());
  EXPECT_FALSE(DecodeReference("").ok());

  // A damaged file is skipped at load, not fatal.
  testing::TempDir dir;
  ASSERT_TRUE(Env::Default()->CreateDirs(dir.Path("drift")).ok());
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), dir.Path("drift/0000000000000001.ref"), "garbage").ok());
  DriftMonitor d(SmallWindow(), dir.Path("drift"), Env::Default(), nullptr);
  EXPECT_TRUE(d.Load().ok());
  EXPECT_TRUE(d.Models(kT0).empty());
}

// Evaluators for the tests: "len" scores 1 for a non-empty response, "half" is remote and scores
// 0.5 spending 10 + 2 tokens.
class LenEvaluator : public evaluate::Evaluator {
 public:
  const evaluate::Descriptor& descriptor() const override { return d_; }
  Result<evaluate::Score> Evaluate(const evaluate::Sample& s) override {
    evaluate::Score r;
    r.value = s.response.empty() ? 0 : 1;
    r.label = s.response.empty() ? "empty" : "ok";
    r.explanation = "response has " + std::to_string(s.response.size()) + " bytes; mail a@b.example";
    return r;
  }
  evaluate::Descriptor d_{"len", "length", false, {}};
};
class HalfEvaluator : public evaluate::Evaluator {
 public:
  const evaluate::Descriptor& descriptor() const override { return d_; }
  Result<evaluate::Score> Evaluate(const evaluate::Sample&) override {
    evaluate::Score r;
    r.value = 0.5;
    r.input_tokens = 10;
    r.output_tokens = 2;
    r.cost = 0.01;
    return r;
  }
  evaluate::Descriptor d_{"half", "half", true, {}};
};

evaluate::Registry TestRegistry() {
  evaluate::Registry r;
  EXPECT_TRUE(r.Register({"len", "length", false, {}}, [](const evaluate::Options&) {
                 return Result<std::unique_ptr<evaluate::Evaluator>>(std::make_unique<LenEvaluator>());
               }).ok());
  EXPECT_TRUE(r.Register({"half", "half", true, {}}, [](const evaluate::Options&) {
                 return Result<std::unique_ptr<evaluate::Evaluator>>(std::make_unique<HalfEvaluator>());
               }).ok());
  return r;
}

events::InferenceEvent Answered(std::string id, std::string response) {
  events::InferenceEvent e;
  e.timestamp_ms = kT0;
  e.request_id = std::move(id);
  e.model = "llm";
  e.model_version = "v2";
  e.prompt = "q";
  e.response = std::move(response);
  e.trace_id = "5b8efff798038103d269b633813fc60c";
  e.span_id = "051581bf3cb55c13";
  return e;
}

TEST(EvaluationTest, ScoresCompositeRecordsAndBudget) {
  testing::TempDir dir;
  testing::FakeClock clock(kT0);
  eventstore::EventStoreOptions opts;
  Result<std::unique_ptr<eventstore::EventStore>> store =
      eventstore::EventStore::Open(Env::Default(), &clock, dir.Path("events"), opts);
  ASSERT_TRUE(store.ok()) << store.status().message();
  redact::Redactor redactor = *redact::Redactor::Create(redact::RedactionConfig());
  instrumentation::Registry registry;
  Metrics metrics(&registry);
  const evaluate::Registry plugins = TestRegistry();

  EvaluationConfig config;
  config.sample_rate = 1;
  config.max_per_second = 3;
  config.remote_max_per_second = 100;
  config.evaluators = {{"len", "", {}, 1, {}}, {"judge", "half", {"llm"}, 3, {}}};
  Result<std::unique_ptr<Evaluations>> ev = Evaluations::Create(
      config, plugins, {.store = store->get(), .redactor = &redactor, .metrics = &metrics, .clock = &clock}, kT0);
  ASSERT_TRUE(ev.ok()) << ev.status().message();
  for (int i = 0; i < 5; ++i) {
    events::InferenceEvent e = Answered("r" + std::to_string(i), "an answer");
    if (i == 0) e.org = "team-q";  // its evaluation records are that tenant's
    (*ev)->Offer(e, kT0);
  }
  (*ev)->Offer(Answered("nothing", ""), kT0);  // no response, no finish reasons: not evaluated
  (*ev)->RunPending(kT0);

  RecordingAppender app;
  inference::SeriesWriter w;
  w.Begin(&app, kT0);
  (*ev)->Flush(kT0, w);
  ASSERT_TRUE(w.End().ok());
  auto series = [&](std::string_view name, std::string_view evaluator, std::string_view le = "") {
    LabelsBuilder b;
    b.Set("__name__", name);
    b.Set("model", "llm");
    b.Set("version", "v2");
    b.Set("evaluator", evaluator);
    if (!le.empty()) b.Set("le", le);
    return app.Last(b.Build().ToString());
  };
  // The budget of 3 a second let three of the five through.
  EXPECT_EQ(series("tyto_quality_score_count", "len"), 3);
  EXPECT_EQ(series("tyto_quality_score_sum", "len"), 3);
  EXPECT_EQ(series("tyto_quality_score_sum", "judge"), 1.5);
  EXPECT_EQ(series("tyto_quality_score_bucket", "judge", "0.4"), 0);
  EXPECT_EQ(series("tyto_quality_score_bucket", "judge", "0.5"), 3);
  // Composite: (1·1 + 3·0.5) / 4 = 0.625 each.
  EXPECT_DOUBLE_EQ(series("tyto_quality_score_sum", "composite"), 3 * 0.625);
  EXPECT_EQ(metrics.evaluations_skipped.WithLabels({"budget"}).Value(), 2);
  EXPECT_EQ(metrics.evaluator_tokens.WithLabels({"judge", "input"}).Value(), 30);

  eventstore::LogQuery q;
  q.attributes = {{"gen_ai.evaluation.name", "len"}};
  Result<std::vector<eventstore::LogEntry>> logs = (*store)->SearchLogs(q);
  ASSERT_TRUE(logs.ok()) << logs.status().message();
  ASSERT_EQ(logs->size(), 2u);  // the default tenant's
  q.org = "team-q";
  ASSERT_EQ((*store)->SearchLogs(q)->size(), 1u);
  const events::LogRecord& r = (*logs)[0].record;
  EXPECT_EQ(r.trace_id, "5b8efff798038103d269b633813fc60c");
  EXPECT_EQ(*events::FindAttribute(r.attributes, "event.name"), "gen_ai.evaluation.result");
  EXPECT_EQ(*events::FindAttribute(r.attributes, "gen_ai.evaluation.score.value"), "1");
  EXPECT_EQ(*events::FindAttribute(r.attributes, "gen_ai.evaluation.score.label"), "ok");
  EXPECT_THAT(*events::FindAttribute(r.attributes, "gen_ai.evaluation.explanation"),
              HasSubstr("[REDACTED:email]"));  // explanations are redacted before storing

  // Unknown plugins and bad options fail creation, naming the evaluator.
  config.evaluators = {{"x", "nope", {}, 1, {}}};
  EXPECT_THAT(Evaluations::Create(config, plugins, {.clock = &clock}, kT0).status().message(),
              HasSubstr("quality.evaluation.evaluators.x"));
}

TEST(EvaluationTest, SamplingIsByRequestIdAndPerModel) {
  testing::FakeClock clock(kT0);
  const evaluate::Registry plugins = TestRegistry();
  EvaluationConfig config;
  config.sample_rate = 0.2;
  config.max_per_second = 1e9;
  config.models = {{"never", 0}};
  config.evaluators = {{"len", "", {}, 1, {}}};
  Result<std::unique_ptr<Evaluations>> ev = Evaluations::Create(config, plugins, {.clock = &clock}, kT0);
  ASSERT_TRUE(ev.ok()) << ev.status().message();
  for (int i = 0; i < 5000; ++i) {
    (*ev)->Offer(Answered("req-" + std::to_string(i), "a"), kT0);
    events::InferenceEvent never = Answered("req-" + std::to_string(i), "a");
    never.model = "never";
    (*ev)->Offer(never, kT0);
  }
  (*ev)->RunPending(kT0);
  RecordingAppender app;
  inference::SeriesWriter w;
  w.Begin(&app, kT0);
  (*ev)->Flush(kT0, w);
  ASSERT_TRUE(w.End().ok());
  const double n =
      app.Last(Key("tyto_quality_score_count", {{"evaluator", "len"}, {"model", "llm"}, {"version", "v2"}}));
  EXPECT_NEAR(n, 1000, 100);  // 20% of 5,000, by the hash of the request id
  EXPECT_TRUE(std::isnan(
      app.Last(Key("tyto_quality_score_count", {{"evaluator", "len"}, {"model", "never"}, {"version", "v2"}}))));
}

// The worker threads: offers from two threads while the remote pool answers; Stop evaluates what
// is queued, so every offer is scored once.
TEST(EvaluationTest, ThreadsEvaluateEveryOfferOnce) {
  testing::FakeClock clock(kT0);
  const evaluate::Registry plugins = TestRegistry();
  EvaluationConfig config;
  config.sample_rate = 1;
  config.max_per_second = 1e9;
  config.remote_max_per_second = 1e9;
  config.remote_workers = 3;
  config.evaluators = {{"len", "", {}, 1, {}}, {"judge", "half", {}, 1, {}}};
  Result<std::unique_ptr<Evaluations>> ev = Evaluations::Create(config, plugins, {.clock = &clock}, kT0);
  ASSERT_TRUE(ev.ok()) << ev.status().message();
  (*ev)->Start();
  auto offer = [&](int from) {
    for (int i = 0; i < 500; ++i) (*ev)->Offer(Answered("t" + std::to_string(from + i), "a"), kT0);
  };
  std::thread a(offer, 0), b(offer, 1000);
  a.join();
  b.join();
  (*ev)->Stop();
  RecordingAppender app;
  inference::SeriesWriter w;
  w.Begin(&app, kT0);
  (*ev)->Flush(kT0, w);
  ASSERT_TRUE(w.End().ok());
  for (const char* e : {"len", "judge", "composite"}) {
    EXPECT_EQ(app.Last(Key("tyto_quality_score_count", {{"evaluator", e}, {"model", "llm"}, {"version", "v2"}})), 1000)
        << e;
  }
}


// Encryption at rest (issue 12): a correction is free text a user wrote about a response, kept in
// ground_truth.db; with a key file none of its bytes are on disk. The run without one is the
// control: the same scan finds it.
TEST(GroundTruthTest, CorrectionsAreEncryptedWithAKeyFile) {
  const std::string secret = "PLANTED-correction-wombat-7713";
  for (bool encrypt : {true, false}) {
    testing::TempDir dir;
    testing::TempDir keys;
    std::shared_ptr<const crypto::FieldEncryption> encryption;
    if (encrypt) {
      ASSERT_TRUE(crypto::GenerateKeyFile(keys.Path("keys")).ok());
      auto fe = crypto::LoadFieldEncryption(keys.Path("keys"), {});
      ASSERT_TRUE(fe.ok()) << fe.status().ToString();
      encryption = *fe;
    }
    {
      Result<std::unique_ptr<GroundTruth>> gt = GroundTruth::Open(GroundTruthConfig{}, dir.path(), nullptr, kT0, encryption);
      ASSERT_TRUE(gt.ok()) << gt.status().message();
      (*gt)->Record(Prediction("r1", "yes", 0.9, "A"));
      events::Feedback f = Label("r1", "no");
      f.correction = "the right answer was: " + secret;
      Result<FeedbackResult> r = (*gt)->Ingest({f}, kT0 + 3'600'000);
      ASSERT_TRUE(r.ok()) << r.status().message();
      EXPECT_EQ(testing::AllFileBytes(dir.path()).find(secret) != std::string::npos, !encrypt) << "open, encrypt=" << encrypt;
    }
    EXPECT_EQ(testing::AllFileBytes(dir.path()).find(secret) != std::string::npos, !encrypt) << "closed, encrypt=" << encrypt;
  }
}

// Erasure (issue 12): the predictions and feedback of the erased request ids leave no byte in
// the files (unencrypted here, so the control scan would find them); others stay.
TEST(GroundTruthTest, ErasedRequestsLeaveNoByteOnDisk) {
  const std::string secret = "PLANTED-correction-quokka-5520";
  testing::TempDir dir;
  Result<std::unique_ptr<GroundTruth>> gt = GroundTruth::Open(GroundTruthConfig{}, dir.path(), nullptr, kT0);
  ASSERT_TRUE(gt.ok()) << gt.status().message();
  (*gt)->Record(Prediction("req-erased-4471", "yes", 0.9, "A"));
  (*gt)->Record(Prediction("req-kept-9902", "yes", 0.8, "A"));
  events::Feedback f = Label("req-erased-4471", "no");
  f.correction = "the right answer was: " + secret;
  ASSERT_TRUE((*gt)->Ingest({f, Label("req-kept-9902", "yes")}, kT0 + 1000).ok());
  (*gt)->Record(Prediction("req-noted-only", "no", 0.5, "A"));  // noted, not yet committed
  ASSERT_NE(testing::AllFileBytes(dir.path()).find(secret), std::string::npos) << "the control";
  uint64_t predictions = 0, feedback = 0;
  ASSERT_TRUE((*gt)->Erase({"req-erased-4471", "req-noted-only", "req-unknown"}, &predictions, &feedback).ok());
  EXPECT_EQ(predictions, 2u);
  EXPECT_EQ(feedback, 1u);
  const std::string bytes = testing::AllFileBytes(dir.path());
  EXPECT_EQ(bytes.find(secret), std::string::npos);
  EXPECT_EQ(bytes.find("req-erased-4471"), std::string::npos);
  EXPECT_EQ(bytes.find("req-noted-only"), std::string::npos);
  EXPECT_NE(bytes.find("req-kept-9902"), std::string::npos);
  ASSERT_TRUE((*gt)->Erase({}, &predictions, &feedback).ok());
  EXPECT_EQ(predictions + feedback, 0u);
}

}  // namespace
}  // namespace tyto::quality
