// The models of the simulated inference traffic (traffic.h), and what their requests carry for
// quality and drift monitoring:
//   - the LLM the vLLM replicas serve (meta-llama/Llama-3.1-70B-Instruct): its answers, good or
//     not (refused, irrelevant, truncated, empty, degenerate loops, the wrong language; valid or
//     invalid JSON on the structured-output endpoint), request-level features on the events of
//     the replicas without OpenTelemetry, prompt embeddings, and users' ratings that come later;
//   - two classic classifiers the gateway calls for a request, reported as JSON-lines inference
//     events with features, a prediction {"label", "score"} and a prompt embedding:
//     intent-router (the prompt's topic, 8 classes) and escalation-classifier (binary: will the
//     conversation need a human agent, "true" or "false"); their true labels come later.
// The scenario's data_drift and quality_drop incidents (scenario.h) name these models and their
// features; ConditionsAt turns the incidents into what one model is subject to at one instant.
//
// Every function here is a pure function of its arguments (draws already made from a Random, or a
// Random passed in), so the traffic stays deterministic under a seed.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "simulate/corpus.h"
#include "simulate/random.h"
#include "simulate/scenario.h"
#include "simulate/traffic.h"

namespace tyto::simulate {

inline constexpr std::string_view kIntentRouter = "intent-router";
inline constexpr std::string_view kEscalationClassifier = "escalation-classifier";
// data_drift's name for the prompt embeddings, beside the models' feature names.
inline constexpr std::string_view kEmbeddingFeature = "embedding";
// The escalation classifier's classes; "true" is the positive one.
inline constexpr std::string_view kPositiveLabel = "true";
inline constexpr std::string_view kNegativeLabel = "false";

struct TrafficModel {
  std::string_view name;
  std::string_view version;
  std::vector<std::string_view> features;  // the names its events' `features` carry, in that order
  bool classifier = false;                 // its events carry a prediction, its feedback a label
};

// The LLM, the intent router and the escalation classifier, in that order.
const std::vector<TrafficModel>& TrafficModels();
// nullptr when no model has this name.
const TrafficModel* FindTrafficModel(std::string_view name);

// What the scenario does to one model at one instant.
struct ModelConditions {
  // data_drift: how far each feature is shifted, factor x ramp summed over the incidents that
  // apply (standard deviations for numbers; the mix moves min(1, shift / 4) of the way towards
  // another for categories). Indexed by Shift.
  std::array<double, 12> shift{};
  double quality = 0;  // quality_drop: severity x ramp, the largest that applies; 0..1

  enum Shift {
    kPromptLength,
    kUserAge,
    kTenure,
    kInputTokens,
    kMaxTokens,
    kTemperature,
    kCountry,  // also region's
    kPlan,
    kChannel,
    kLanguage,
    kTopic,  // what people ask about: shifts only with an incident naming no feature
    kEmbedding,
  };
  double Mix(Shift s) const;  // a categorical shift as a mixing weight, 0..1
};

// The conditions of `model` (a TrafficModels() name) at `offset` after the fleet's start.
ModelConditions ConditionsAt(const Scenario& scenario, std::string_view model, std::chrono::milliseconds offset);

// The facts of one request that do not depend on the model that sees them.
struct RequestFacts {
  std::string_view plan;  // the tenant's: "enterprise", "pro", "free"
  int64_t input_tokens = 0;
  int64_t max_tokens = 0;
  double temperature = 0;
  std::string_view language;  // the prompt's, when its content is known; else empty
  std::string_view topic;     // the prompt's, when its content is known; else empty
};

// The draws behind one request's user and features, made once; each model sees them through its
// own conditions, so without a drift every model sees the same user.
struct RequestDraws {
  double age = 0, tenure = 0, length = 0;  // standard normals
  // Uniforms: which category, and whether a drifted mix applies.
  double country = 0, country_mix = 0, plan = 0, plan_mix = 0, channel = 0, channel_mix = 0;
  double language = 0, language_mix = 0, topic = 0, topic_mix = 0;
  // Uniforms behind the classifiers: the true escalation, the scores, whether each is right, and
  // the wrong class when it is not.
  double escalation = 0, escalation_score = 0, escalation_right = 0;
  double intent_score = 0, intent_right = 0, intent_wrong = 0;
  uint64_t embedding_seed = 0;
};
RequestDraws DrawRequest(Random& rng);

// The features `model` reports for the request (names in model.features, in order).
std::vector<FieldValue> FeaturesFor(const TrafficModel& model, const RequestFacts& facts, const RequestDraws& draws,
                                    const ModelConditions& conditions);

// The request's true topic (one of the corpus's eight) as `conditions` shift the mix.
std::string_view TopicOf(const RequestFacts& facts, const RequestDraws& draws, const ModelConditions& conditions);

// A prediction and the truth it will be judged against. `score` is the model's probability of
// `label`: the model is calibrated (right with probability `score`) until a quality drop makes it
// right less often while as sure of itself.
struct Prediction {
  std::string label;
  double score = 0;  // rounded to 3 decimals
  std::string truth;
};
// The intent router's (model kIntentRouter) or the escalation classifier's.
Prediction Classify(std::string_view model, const RequestFacts& facts, const RequestDraws& draws,
                    const ModelConditions& conditions);

// The prompt's embedding: `dims` numbers of unit length around its topic's direction (directions
// fixed by `seed`), moved along a drift direction by conditions.shift[kEmbedding]; rounded to 4
// decimals.
std::vector<double> Embedding(std::string_view topic, const RequestDraws& draws, const ModelConditions& conditions,
                              int dims, uint64_t seed);

// What the LLM answered, for quality evaluators.
enum class Answer {
  kGood,           // the corpus's answer
  kRefusal,        // "I can't help with that."
  kIrrelevant,     // an answer to another prompt
  kTruncated,      // cut off at max_tokens (finish reason "length")
  kEmpty,          // nothing
  kDegenerate,     // one phrase repeated in a loop
  kWrongLanguage,  // a right answer in another language than the prompt's
  kJsonValid,      // the structured-output endpoint's JSON
  kJsonInvalid,    // JSON that does not parse (a trailing comma, single quotes, prose around it, ...)
};
std::string_view AnswerName(Answer a);
bool IsGoodAnswer(Answer a);  // kGood, kJsonValid

// Draws the answer of a successful request: `truncated` when it finished by length, `structured`
// on the structured-output endpoint; `quality` (0..1) makes bad answers more likely.
Answer DrawAnswer(Random& rng, bool structured, bool truncated, double quality);

// The prompt and response text of an answer. `entry` is the request's corpus entry (of
// StructuredCorpus() on the structured-output endpoint); a wrong-language answer changes the prompt
// to one of WrongLanguageAnswers().
struct AnswerText {
  std::string_view prompt;
  std::string response;
  std::string_view topic;
  std::string_view language;  // the prompt's
};
AnswerText WriteAnswer(Answer a, const CorpusEntry& entry, Random& rng);

// A user's rating (1 to 5) of an answer: mostly 4 and 5 for good ones, 1 and 2 for bad ones.
int RateAnswer(Answer a, Random& rng);

}  // namespace tyto::simulate
