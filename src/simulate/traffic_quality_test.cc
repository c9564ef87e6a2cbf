// What the simulated traffic gives quality and drift monitoring: feedback that names earlier
// predictions and comes after its delay, never before; classifiers about 0.9 accurate and
// calibrated, worse during a quality_drop; features, categories and embeddings that shift during a
// data_drift and not outside it (nor for the models it does not name); and LLM answers of every
// kind the quality evaluators look for. Windows are compared by their means and shares, over
// simulated minutes (a FakeClock; nothing sleeps).
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "events/jsonl_decode.h"
#include "simulate/corpus.h"
#include "simulate/fleet.h"
#include "simulate/traffic.h"
#include "simulate/traffic_json.h"
#include "simulate/traffic_models.h"
#include "testing/fake_clock.h"

namespace tyto::simulate {
namespace {

using std::chrono::seconds;

constexpr int64_t kStartMillis = 1'700'000'000'000;
constexpr std::string_view kLlm = "meta-llama/Llama-3.1-70B-Instruct";

int64_t Nanos(seconds offset) { return (kStartMillis + offset.count() * 1000) * 1'000'000; }
bool In(int64_t t_ns, seconds from, seconds to) { return t_ns > Nanos(from) && t_ns <= Nanos(to); }

const FieldValue* FieldOf(const std::vector<FieldValue>& fields, std::string_view name) {
  for (const FieldValue& f : fields) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

double Mean(const std::vector<double>& v) {
  double sum = 0;
  for (double x : v) sum += x;
  return v.empty() ? NAN : sum / static_cast<double>(v.size());
}

double Median(std::vector<double> v) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

class TrafficQualityTest : public ::testing::Test {
 protected:
  // A 4 x 8 GPU fleet running `scenario_yaml` (no scenario when empty).
  void Make(const std::string& scenario_yaml, TrafficOptions options = {}) {
    FleetOptions o;
    if (!scenario_yaml.empty()) {
      auto s = ParseScenario(scenario_yaml, "test.yml");
      ASSERT_TRUE(s.ok()) << s.status().ToString();
      o.scenario = std::move(s).value();
    }
    auto f = Fleet::Create(o, &clock_);
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    fleet_ = std::move(f).value();
    generator_ = fleet_->NewTrafficGenerator(options);
  }
  // Generates ticks [from, to], one at a time, into batch_; remembers the tick of every request.
  void Generate(int64_t from, int64_t to) {
    for (int64_t t = from; t <= to; ++t) {
      TrafficBatch b;
      generator_->Generate(t, &b);
      for (size_t i = 0; i < b.inferences.size(); ++i) {
        const InferenceRecord& e = b.inferences[i];
        sent_tick_[e.request_id] = t;
        if (!e.prediction.empty()) predictions_[e.request_id] = batch_.inferences.size() + i;
      }
      for (const SpanRecord& s : b.spans) {
        for (const KeyValue& kv : s.attributes) {
          if (kv.key == "gen_ai.response.id") sent_tick_[std::get<std::string>(kv.value)] = t;
        }
      }
      feedback_tick_.insert(feedback_tick_.end(), b.feedback.size(), t);
      std::move(b.inferences.begin(), b.inferences.end(), std::back_inserter(batch_.inferences));
      std::move(b.spans.begin(), b.spans.end(), std::back_inserter(batch_.spans));
      std::move(b.feedback.begin(), b.feedback.end(), std::back_inserter(batch_.feedback));
    }
  }
  // The events of `model` that ended in (from, to].
  std::vector<const InferenceRecord*> Events(std::string_view model, seconds from, seconds to) const {
    std::vector<const InferenceRecord*> out;
    for (const InferenceRecord& e : batch_.inferences) {
      if (e.model == model && In(e.end_unix_nano, from, to)) out.push_back(&e);
    }
    return out;
  }
  // Mean (or median) of numeric feature `name` over `events` that carry it.
  static double FeatureMean(const std::vector<const InferenceRecord*>& events, std::string_view name,
                            bool median = false) {
    std::vector<double> v;
    for (const InferenceRecord* e : events) {
      if (const FieldValue* f = FieldOf(e->features, name)) v.push_back(f->number);
    }
    return median ? Median(std::move(v)) : Mean(v);
  }
  // Share of `events` whose categorical feature `name` is `value`.
  static double FeatureShare(const std::vector<const InferenceRecord*>& events, std::string_view name,
                             std::string_view value) {
    double n = 0, hits = 0;
    for (const InferenceRecord* e : events) {
      const FieldValue* f = FieldOf(e->features, name);
      if (f == nullptr) continue;
      ++n;
      hits += f->text == value;
    }
    return n > 0 ? hits / n : NAN;
  }
  // The mean embedding of `events` that carry one.
  static std::vector<double> MeanEmbedding(const std::vector<const InferenceRecord*>& events) {
    std::vector<double> sum;
    double n = 0;
    for (const InferenceRecord* e : events) {
      if (e->embedding.empty()) continue;
      sum.resize(e->embedding.size());
      for (size_t i = 0; i < sum.size(); ++i) sum[i] += e->embedding[i];
      ++n;
    }
    for (double& x : sum) x /= std::max(n, 1.0);
    return sum;
  }
  static double Distance(const std::vector<double>& a, const std::vector<double>& b) {
    double d = 0;
    for (size_t i = 0; i < a.size() && i < b.size(); ++i) d += (a[i] - b[i]) * (a[i] - b[i]);
    return std::sqrt(d);
  }
  // Accuracy of the labels that came back for `model`'s predictions made in (from, to], and the
  // number of them.
  std::pair<double, int> Accuracy(std::string_view model, seconds from, seconds to, double min_score = 0,
                                  double max_score = 1) const {
    int n = 0, right = 0;
    for (const FeedbackRecord& f : batch_.feedback) {
      if (f.model != model || f.label.empty()) continue;
      const InferenceRecord& e = batch_.inferences[predictions_.at(f.request_id)];
      if (!In(e.end_unix_nano, from, to)) continue;
      const double score = FieldOf(e.prediction, "score")->number;
      if (score < min_score || score > max_score) continue;
      ++n;
      right += FieldOf(e.prediction, "label")->text == f.label;
    }
    return {n > 0 ? static_cast<double>(right) / n : NAN, n};
  }
  // Mean rating of the LLM's answers given in (from, to] (by the request's time).
  double MeanRating(seconds from, seconds to) const {
    std::vector<double> v;
    for (const FeedbackRecord& f : batch_.feedback) {
      if (f.rating > 0 && In(f.request_unix_nano, from, to)) v.push_back(f.rating);
    }
    return Mean(v);
  }

  testing::FakeClock clock_{kStartMillis};
  std::unique_ptr<Fleet> fleet_;
  std::unique_ptr<TrafficGenerator> generator_;
  TrafficBatch batch_;
  std::map<std::string, int64_t> sent_tick_;   // request id -> tick it was generated in
  std::map<std::string, size_t> predictions_;  // request id -> index in batch_.inferences
  std::vector<int64_t> feedback_tick_;         // per batch_.feedback
};

// Every label refers to a prediction sent in an earlier tick, every rating to an LLM request sent
// earlier; each comes within its delay of its request and in the tick it falls due.
TEST_F(TrafficQualityTest, FeedbackFollowsEarlierPredictionsAfterItsDelay) {
  Make("");
  Generate(1, 400);
  ASSERT_EQ(feedback_tick_.size(), batch_.feedback.size());
  int labels = 0, ratings = 0, corrections = 0;
  for (size_t i = 0; i < batch_.feedback.size(); ++i) {
    const FeedbackRecord& f = batch_.feedback[i];
    const int64_t tick = feedback_tick_[i];
    ASSERT_TRUE(sent_tick_.count(f.request_id)) << f.request_id << " was never sent";
    EXPECT_LT(sent_tick_.at(f.request_id), tick) << f.request_id;
    // The delay counts from the gateway's answer, at most a minute after the classifier's call.
    const int64_t delay_ns = f.time_unix_nano - f.request_unix_nano;
    EXPECT_GE(delay_ns, 20'000'000'000) << f.request_id;
    EXPECT_LE(delay_ns, 180'000'000'000) << f.request_id;
    // Due in its tick: after the previous tick's end, by this one's.
    EXPECT_GT(f.time_unix_nano, Nanos(seconds(tick - 1)));
    EXPECT_LE(f.time_unix_nano, Nanos(seconds(tick)));
    EXPECT_TRUE(!f.label.empty() || f.rating > 0);
    if (!f.label.empty()) {
      ++labels;
      ASSERT_TRUE(predictions_.count(f.request_id)) << "a label for " << f.request_id << ", which predicted nothing";
      const InferenceRecord& e = batch_.inferences[predictions_.at(f.request_id)];
      EXPECT_EQ(e.model, f.model);
      EXPECT_EQ(e.end_unix_nano, f.request_unix_nano);
      EXPECT_EQ(f.rating, 0);
    } else {
      ++ratings;
      EXPECT_EQ(f.model, kLlm);
      EXPECT_GE(f.rating, 1);
      EXPECT_LE(f.rating, 5);
      EXPECT_FALSE(predictions_.count(f.request_id));
      corrections += !f.correction.empty();
    }
  }
  // 30% of the predictions made early enough for their label to be due by now.
  int due_predictions = 0;
  for (const auto& [id, index] : predictions_) {
    due_predictions += batch_.inferences[index].end_unix_nano <= Nanos(seconds(400 - 120));
  }
  ASSERT_GT(due_predictions, 3000);
  EXPECT_GT(labels, 0.25 * due_predictions);
  EXPECT_LT(labels, 0.40 * due_predictions);
  EXPECT_GT(ratings, 200);
  EXPECT_GT(corrections, 0);
  // What is not yet due waits: memory for about two minutes of feedback.
  EXPECT_GT(generator_->feedback_pending(), 100u);
  EXPECT_EQ(generator_->feedback_not_scheduled(), 0u);
}

// Feedback waiting for its time is bounded: beyond max_pending_feedback it is not scheduled.
TEST_F(TrafficQualityTest, PendingFeedbackIsBounded) {
  TrafficOptions options;
  options.max_pending_feedback = 50;
  options.feedback_delay_min = std::chrono::minutes(30);
  options.feedback_delay_max = std::chrono::hours(4);
  Make("", options);
  Generate(1, 120);
  EXPECT_EQ(generator_->feedback_pending(), 50u);
  EXPECT_GT(generator_->feedback_not_scheduled(), 100u);
  EXPECT_TRUE(batch_.feedback.empty());  // nothing due within two minutes
}

// Labels agree with the predictions about 90% of the time, more for confident ones; a quality
// drop (5 to 10 minutes, every model) makes the classifiers wrong more often, users rate the
// LLM's answers lower, and more of its answers run to max_tokens (as its metrics show too).
TEST_F(TrafficQualityTest, AccuracyIsHighWithoutIncidentsAndFallsDuringAQualityDrop) {
  Make("incidents:\n  - {kind: quality_drop, at: 5m, duration: 5m, ramp: 30s, severity: 1}\n");
  Generate(1, 960);
  const seconds before_from(0), before_to(300), during_from(330), during_to(600), after_from(600), after_to(780);
  for (std::string_view model : {kIntentRouter, kEscalationClassifier}) {
    const auto [before, n_before] = Accuracy(model, before_from, before_to);
    const auto [during, n_during] = Accuracy(model, during_from, during_to);
    const auto [after, n_after] = Accuracy(model, after_from, after_to);
    ASSERT_GT(n_before, 500) << model;
    ASSERT_GT(n_during, 500) << model;
    ASSERT_GT(n_after, 300) << model;
    EXPECT_NEAR(before, 0.9, 0.04) << model;
    EXPECT_NEAR(after, 0.9, 0.04) << model;
    EXPECT_LT(during, 0.62) << model;
    // Calibrated: the confident predictions are right more often than the unsure ones.
    const auto [sure, n_sure] = Accuracy(model, before_from, before_to, 0.95, 1);
    const auto [unsure, n_unsure] = Accuracy(model, before_from, before_to, 0, 0.8);
    ASSERT_GT(n_sure, 100) << model;
    ASSERT_GT(n_unsure, 30) << model;
    EXPECT_GT(sure, 0.93) << model;
    EXPECT_LT(unsure, 0.82) << model;
  }
  const double rating_before = MeanRating(before_from, before_to);
  const double rating_during = MeanRating(during_from, during_to);
  EXPECT_GT(rating_before, 3.8);
  EXPECT_LT(rating_during, rating_before - 0.6);
  auto length_share = [&](seconds from, seconds to) {
    double n = 0, length = 0;
    for (const InferenceRecord* e : Events(kLlm, from, to)) {
      if (!e->ok) continue;
      ++n;
      length += e->finish_reason == "length";
    }
    return length / n;
  };
  EXPECT_LT(length_share(before_from, before_to), 0.07);
  EXPECT_GT(length_share(during_from, during_to), 0.09);
}

// A data drift on the escalation classifier (5 to 10 minutes, 1.5 standard deviations): its users
// get younger and newer, its countries and channels change, its embeddings move; before and after
// it, and for the intent router all along, the distributions stay where they were.
TEST_F(TrafficQualityTest, FeaturesShiftDuringADataDriftAndNotOutsideIt) {
  Make(
      "incidents:\n"
      "  - {kind: data_drift, at: 5m, duration: 5m, ramp: 30s, model: escalation-classifier, factor: 1.5}\n");
  Generate(1, 900);
  // The conditions change at a tick's end; a classifier's event is a few seconds older than its
  // request's end: windows keep clear of the edges.
  const auto before = Events(kEscalationClassifier, seconds(0), seconds(290));
  const auto during = Events(kEscalationClassifier, seconds(330), seconds(590));
  const auto after = Events(kEscalationClassifier, seconds(610), seconds(900));
  ASSERT_GT(before.size(), 1000u);
  ASSERT_GT(during.size(), 1000u);
  ASSERT_GT(after.size(), 1000u);

  const double age_before = FeatureMean(before, "user_age");
  EXPECT_NEAR(age_before, 37, 1.5);
  EXPECT_LT(FeatureMean(during, "user_age"), age_before - 10);
  EXPECT_NEAR(FeatureMean(after, "user_age"), age_before, 1.5);
  const double tenure_before = FeatureMean(before, "account_tenure_days");
  EXPECT_LT(FeatureMean(during, "account_tenure_days"), tenure_before / 3);
  EXPECT_NEAR(FeatureMean(after, "account_tenure_days") / tenure_before, 1, 0.15);
  // Medians: a prompt too long for the context window (400, 0.06% of requests) is 30 times the
  // usual length.
  const double length_before = FeatureMean(before, "prompt_length", true);
  EXPECT_GT(FeatureMean(during, "prompt_length", true), length_before * 1.5);
  EXPECT_NEAR(FeatureMean(after, "prompt_length", true) / length_before, 1, 0.1);
  for (auto [feature, value] : {std::pair<std::string_view, std::string_view>{"country", "US"},
                                {"channel", "mobile"},
                                {"plan", "free"},
                                {"region", "latam"}}) {
    const double share_before = FeatureShare(before, feature, value);
    const double share_during = FeatureShare(during, feature, value);
    EXPECT_GT(std::abs(share_during - share_before), 0.05) << feature << "=" << value;
    EXPECT_NEAR(FeatureShare(after, feature, value), share_before, 0.05) << feature << "=" << value;
  }
  const double moved = Distance(MeanEmbedding(before), MeanEmbedding(during));
  const double still = Distance(MeanEmbedding(before), MeanEmbedding(after));
  EXPECT_GT(moved, 3 * still) << moved << " vs " << still;

  // The intent router sees the same users through its own, undrifted, features.
  const auto intent_before = Events(kIntentRouter, seconds(0), seconds(290));
  const auto intent_during = Events(kIntentRouter, seconds(330), seconds(590));
  EXPECT_NEAR(FeatureMean(intent_during, "prompt_length", true) / FeatureMean(intent_before, "prompt_length", true), 1,
              0.1);
  EXPECT_NEAR(FeatureShare(intent_during, "country", "US"), FeatureShare(intent_before, "country", "US"), 0.05);
  EXPECT_NEAR(FeatureShare(intent_during, "channel", "mobile"), FeatureShare(intent_before, "channel", "mobile"), 0.05);
  EXPECT_LT(Distance(MeanEmbedding(intent_before), MeanEmbedding(intent_during)), moved / 3);
  // Without a drift every model sees the same user: the same country for one request.
  std::map<std::string, std::string> country_of_trace;
  int compared = 0;
  for (const InferenceRecord& e : batch_.inferences) {
    const FieldValue* c = FieldOf(e.features, "country");
    if (c == nullptr || !In(e.end_unix_nano, seconds(0), seconds(290))) continue;
    auto [it, inserted] = country_of_trace.emplace(e.trace_id, c->text);
    if (!inserted) {
      EXPECT_EQ(it->second, c->text) << e.trace_id;
      ++compared;
    }
  }
  EXPECT_GT(compared, 500);
}

// `feature` restricts a drift to one feature of the model.
TEST_F(TrafficQualityTest, ADriftOfOneFeatureLeavesTheOthers) {
  Make(
      "incidents:\n  - {kind: data_drift, at: 2m, ramp: 10s, model: escalation-classifier, feature: user_age, "
      "factor: 1}\n");
  Generate(1, 300);
  const auto before = Events(kEscalationClassifier, seconds(0), seconds(110));
  const auto during = Events(kEscalationClassifier, seconds(140), seconds(300));
  EXPECT_LT(FeatureMean(during, "user_age"), FeatureMean(before, "user_age") - 7);
  EXPECT_NEAR(FeatureMean(during, "account_tenure_days") / FeatureMean(before, "account_tenure_days"), 1, 0.2);
  EXPECT_NEAR(FeatureShare(during, "country", "US"), FeatureShare(before, "country", "US"), 0.05);
  EXPECT_LT(Distance(MeanEmbedding(before), MeanEmbedding(during)), 0.15);
}

bool ParsesAsJson(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.c_str(), text.size());
  return !doc.HasParseError() && doc.IsObject();
}

// The LLM's answers, as the events carry them: mostly the corpus's answer to the prompt, and each
// kind of bad answer the quality evaluators look for; more bad ones during a quality drop.
TEST_F(TrafficQualityTest, AnswersExerciseTheQualityEvaluators) {
  TrafficOptions options;
  options.content_share = 1;
  Make("incidents:\n  - {kind: quality_drop, at: 5m, ramp: 10s, model: meta-llama/Llama-3.1-70B-Instruct}\n", options);
  Generate(1, 600);
  std::map<std::string_view, std::string_view> answer_of;  // prompt -> the corpus's answer
  for (const CorpusEntry& e : Corpus()) answer_of[e.prompt] = e.response;
  for (const CorpusEntry& e : StructuredCorpus()) {
    EXPECT_TRUE(ParsesAsJson(std::string(e.response))) << e.response;
    answer_of[e.prompt] = e.response;
  }
  const std::set<std::string_view> refusals(Refusals().begin(), Refusals().end());
  std::set<std::string_view> wrong_language;
  for (const WrongLanguageAnswer& w : WrongLanguageAnswers()) {
    EXPECT_TRUE(answer_of.count(w.prompt)) << w.prompt;
    wrong_language.insert(w.response);
  }
  struct Counts {
    int answers = 0, good = 0, refusal = 0, empty = 0, truncated = 0, loop = 0, wrong_language = 0, irrelevant = 0,
        json_valid = 0, json_invalid = 0, pii = 0;
  };
  auto count = [&](seconds from, seconds to) -> Counts {
    Counts c;
    for (const InferenceRecord* e : Events(kLlm, from, to)) {
      if (!e->ok) {
        EXPECT_TRUE(e->response.empty());
        continue;
      }
      ++c.answers;
      const std::string& r = e->response;
      if (!answer_of.count(e->prompt)) {
        ADD_FAILURE() << "a prompt from nowhere: " << e->prompt;
        continue;
      }
      const std::string_view right = answer_of.at(e->prompt);
      if (e->endpoint == "/v1/extract") {
        (ParsesAsJson(r) ? c.json_valid : c.json_invalid)++;
        if (ParsesAsJson(r)) {
          EXPECT_EQ(r, right);
        }
        continue;
      }
      c.pii += e->prompt.find("@example.") != std::string::npos;
      if (r == right) {
        ++c.good;
      } else if (refusals.count(r)) {
        ++c.refusal;
      } else if (r.empty()) {
        ++c.empty;
      } else if (e->finish_reason == "length") {
        EXPECT_EQ(right.rfind(r, 0), 0u) << "a truncated answer is the start of the right one: " << r;
        ++c.truncated;
      } else if (wrong_language.count(r)) {
        ++c.wrong_language;
      } else if (r.find(r.substr(0, 12), 12) != std::string::npos) {
        ++c.loop;
      } else {
        ++c.irrelevant;
        EXPECT_NE(r, right);
      }
    }
    return c;
  };
  const Counts before = count(seconds(0), seconds(300));
  const Counts during = count(seconds(320), seconds(600));
  ASSERT_GT(before.answers, 2000);
  EXPECT_GT(before.good, 0.8 * before.answers);
  for (int n : {before.refusal, before.empty, before.truncated, before.loop, before.wrong_language, before.irrelevant,
                before.json_valid, before.json_invalid, before.pii}) {
    EXPECT_GT(n, 0);
  }
  EXPECT_GT(before.json_valid, 4 * before.json_invalid);
  const auto bad_share = [](const Counts& c) {
    return static_cast<double>(c.refusal + c.empty + c.truncated + c.loop + c.wrong_language + c.irrelevant) /
           c.answers;
  };
  EXPECT_LT(bad_share(before), 0.15);
  EXPECT_GT(bad_share(during), 0.35);
  EXPECT_GT(during.refusal, 2 * before.refusal);
}

// The feedback's JSON lines decode with Tyto's own decoder, naming the requests they label.
TEST_F(TrafficQualityTest, FeedbackDecodesWithTytosDecoder) {
  Make("");
  Generate(1, 150);
  ASSERT_GT(batch_.feedback.size(), 100u);
  const std::string body = FeedbackJsonLines(batch_.feedback);
  const events::DecodedFeedback decoded = events::DecodeFeedbackJsonLines(body, 0, events::DecodeLimits{});
  EXPECT_EQ(decoded.report.rejected, 0u) << (decoded.report.errors.empty() ? "" : decoded.report.errors[0].message);
  EXPECT_EQ(decoded.report.warnings_total, 0u);
  ASSERT_EQ(decoded.items.size(), batch_.feedback.size());
  for (size_t i = 0; i < decoded.items.size(); ++i) {
    const events::Feedback& got = decoded.items[i];
    const FeedbackRecord& sent = batch_.feedback[i];
    EXPECT_EQ(got.request_id, sent.request_id);
    EXPECT_EQ(got.model, sent.model);
    EXPECT_EQ(got.timestamp_ms, sent.time_unix_nano / 1'000'000);
    EXPECT_EQ(got.has_label, !sent.label.empty());
    if (got.has_label) {
      EXPECT_FALSE(got.label.is_number);
      EXPECT_EQ(got.label.text, sent.label);
    }
    if (sent.rating > 0) {
      EXPECT_EQ(got.rating, sent.rating);
    } else {
      EXPECT_TRUE(std::isnan(got.rating));
    }
    EXPECT_EQ(got.correction, sent.correction);
  }
  EXPECT_EQ(FeedbackJsonLines({}), "");
}

}  // namespace
}  // namespace tyto::simulate
