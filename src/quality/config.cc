#include "quality/config.h"

#include <set>
#include <utility>

namespace tyto::quality {

using config::Diagnostics;
using config::Node;
using config::Section;

namespace {

constexpr const char* kTests[] = {"ks", "chisquare", "z", "psi", "jensenshannon", "wasserstein", "hellinger"};

// `options:` of an evaluator: a mapping of option names to scalars, or to lists of scalars (kept
// as their items joined with '\n', as evaluate::Options expects).
void DecodeOptions(const Node& n, std::map<std::string, std::string>* out, Diagnostics* d) {
  if (n.IsNull()) return;
  if (!n.IsMap()) {
    d->Add(n.position(), "expected a mapping of option names to values, got " + std::string(n.KindName()));
    return;
  }
  for (const auto& [k, v] : n.entries()) {
    if (!k.IsScalar()) {
      d->Add(k.position(), "expected an option name");
      continue;
    }
    std::string value;
    if (v.IsScalar()) {
      value = v.scalar();
    } else if (v.IsSequence()) {
      bool first = true;
      for (const Node& item : v.items()) {
        if (!item.IsScalar()) {
          d->Add(item.position(), "option '" + k.scalar() + "': expected a list of strings");
          continue;
        }
        if (!first) value += '\n';
        value += item.scalar();
        first = false;
      }
    } else if (!v.IsNull()) {
      d->Add(v.position(), "option '" + k.scalar() + "': expected a value or a list, got " + std::string(v.KindName()));
      continue;
    }
    if (!out->emplace(k.scalar(), std::move(value)).second) {
      d->Add(k.position(), "duplicate option '" + k.scalar() + "'");
    }
  }
}

}  // namespace

const Section<QualityConfig>& QualitySchema() {
  static const auto* schema_table = [] {
    Section<EvaluatorConfig> evaluator("quality.evaluation.evaluators",
                                       "An evaluator run on sampled requests (docs/evaluators.md).");
    evaluator.String("name", &EvaluatorConfig::name, "Its name: the `evaluator` label of tyto_quality_score.")
        .String("type", &EvaluatorConfig::type,
                "The plugin (relevance, safety, pii, refusal, completeness, format, repetition, language, "
                "llm_judge); empty: the same as name.")
        .StringList("models", &EvaluatorConfig::models, "Models it evaluates; empty: every model.")
        .Number("weight", &EvaluatorConfig::weight, "Its weight in the composite score; 0 leaves it out.", 0)
        .Option(
            "options", "mapping", "The plugin's options (its table is in docs/evaluators.md).",
            [](const Node& n, EvaluatorConfig& c, Diagnostics& d) { DecodeOptions(n, &c.options, &d); },
            [](const EvaluatorConfig&) { return std::string("{}"); }, nullptr,
            [](const EvaluatorConfig& c, config::Writer& w) {
              w.BeginMap();
              for (const auto& [k, v] : c.options) {
                w.Key(k);
                w.String(v);
              }
              w.EndMap();
            })
        .Validate([](const EvaluatorConfig& c, const Node& n, Diagnostics& d) {
          if (c.name.empty()) d.Add(n.position(), "quality.evaluation.evaluators: name is required");
        });

    Section<ModelRate> model_rate("quality.evaluation.models", "A model's own evaluation sample rate.");
    model_rate.String("model", &ModelRate::model, "The model.")
        .Number("sample_rate", &ModelRate::sample_rate, "Share of its requests evaluated.", 0, 1)
        .Validate([](const ModelRate& m, const Node& n, Diagnostics& d) {
          if (m.model.empty()) d.Add(n.position(), "quality.evaluation.models: model is required");
        });

    Section<EvaluationConfig> evaluation("quality.evaluation", "Evaluators run on a sample of requests.");
    evaluation.Bool("enabled", &EvaluationConfig::enabled, "Evaluate sampled requests.")
        .Number("sample_rate", &EvaluationConfig::sample_rate,
                "Share of requests with a response that are evaluated (decided on a hash of the request or trace "
                "id), unless the model has its own rate.",
                0, 1)
        .List("models", &EvaluationConfig::models, model_rate)
        .Number("max_per_second", &EvaluationConfig::max_per_second,
                "Budget: requests evaluated per second, every model together; sampled requests beyond it are "
                "skipped (counted).",
                0)
        .Number("remote_max_per_second", &EvaluationConfig::remote_max_per_second,
                "Budget: calls per second to remote evaluators (the LLM judge), which cost tokens.", 0)
        .Int("remote_workers", &EvaluationConfig::remote_workers,
             "Threads waiting on remote evaluators (each evaluator also limits its own concurrency).", 1, 256)
        .Int("queue_size", &EvaluationConfig::queue_size,
             "Requests waiting to be evaluated; more are dropped (counted).", 1)
        .List("evaluators", &EvaluationConfig::evaluators, evaluator)
        .Validate([](const EvaluationConfig& c, const Node& n, Diagnostics& d) {
          std::set<std::string> names;
          for (const EvaluatorConfig& e : c.evaluators) {
            if (e.name == "composite") {
              d.Add(n.position(), "quality.evaluation.evaluators: 'composite' is the name of the composite score");
            }
            if (!names.insert(e.name).second) {
              d.Add(n.position(), "quality.evaluation.evaluators: '" + e.name + "' is listed twice");
            }
          }
          std::set<std::string> models;
          for (const ModelRate& m : c.models) {
            if (!models.insert(m.model).second) {
              d.Add(n.position(), "quality.evaluation.models: model '" + m.model + "' is listed twice");
            }
          }
        });

    Section<GroundTruthConfig> ground_truth("quality.ground_truth",
                                            "Feedback (POST /api/v1/feedback) joined to predictions.");
    ground_truth.Bool("enabled", &GroundTruthConfig::enabled, "Keep predictions and join feedback to them.")
        .Duration("window", &GroundTruthConfig::window,
                  "Accuracy, precision, recall, F1, calibration, ratings and fairness gaps are computed over the "
                  "feedback received in this window.",
                  std::chrono::seconds(1))
        .Duration("max_age", &GroundTruthConfig::max_age,
                  "Predictions are kept this long for feedback to join; later feedback is unmatched.",
                  std::chrono::minutes(1))
        .String("prediction_field", &GroundTruthConfig::prediction_field,
                "The prediction field holding the predicted class; \"\" for a bare prediction.")
        .String("score_field", &GroundTruthConfig::score_field,
                "The prediction field holding the predicted class's probability (for the calibration error).")
        .String("positive_label", &GroundTruthConfig::positive_label,
                "The positive class for binary precision, recall and fairness; empty: 'true', '1', 'yes' or "
                "'positive' when a model has two classes.")
        .String("segment_feature", &GroundTruthConfig::segment_feature,
                "The feature whose values are the segments compared by the fairness gaps; empty: none.");

    Section<DriftTestOverride> test("quality.drift.tests", "The test of one feature, instead of the default.");
    test.String("feature", &DriftTestOverride::feature, "The feature (as the drift series' feature label shows it).")
        .Enum("test", &DriftTestOverride::test, std::vector<std::string>(std::begin(kTests), std::end(kTests)),
              "The test.")
        .Number("threshold", &DriftTestOverride::threshold,
                "Its threshold (a p-value for ks, chisquare and z; a distance for the others); below 0: the "
                "test's default.",
                -1);

    Section<DriftConfig> drift("quality.drift", "Data and prediction drift against a reference.");
    drift.Bool("enabled", &DriftConfig::enabled, "Track feature, prediction and embedding distributions.")
        .Duration("window", &DriftConfig::window, "The current window (sliding) compared with the reference.",
                  std::chrono::seconds(1))
        .Int("slots", &DriftConfig::slots, "The window is kept as this many slices; it slides by one slice.", 1, 60)
        .Int("min_rows", &DriftConfig::min_rows, "A window or reference with fewer rows is not tested.", 1)
        .Enum("correction", &DriftConfig::correction, {"bonferroni", "none"},
              "Correction of p-values across a model's features.")
        .Number("drift_share", &DriftConfig::drift_share,
                "The data set drifts when at least this share of its columns drift.", 0, 1)
        .List("tests", &DriftConfig::tests, test)
        .Int("max_models", &DriftConfig::max_models, "Models tracked at most; more are ignored (counted).", 1)
        .Int("max_features", &DriftConfig::max_features,
             "Columns tracked per model at most; more are ignored (counted).", 1)
        .Int("max_categories", &DriftConfig::max_categories,
             "Categories counted per column; more are counted together as __other__.", 2)
        .Int("sketch_k", &DriftConfig::sketch_k,
             "Accuracy of the quantile sketches (KLL's k): memory grows with it, rank error shrinks.", 8, 65535)
        .Int("embedding_reservoir", &DriftConfig::embedding_reservoir,
             "Embeddings kept per window and reference for the MMD test.", 8, 4096)
        .Int("permutations", &DriftConfig::permutations, "Permutations of the MMD test.", 10, 10000)
        .Validate([](const DriftConfig& c, const Node& n, Diagnostics& d) {
          std::set<std::string> seen;
          for (const DriftTestOverride& t : c.tests) {
            if (t.feature.empty()) d.Add(n.position(), "quality.drift.tests: feature is required");
            if (!seen.insert(t.feature).second) {
              d.Add(n.position(), "quality.drift.tests: feature '" + t.feature + "' is listed twice");
            }
          }
        });

    auto* sec = new Section<QualityConfig>(
        "quality", "Model quality: evaluators on sampled responses, ground truth, drift (docs/quality.md).");
    sec->Nested("evaluation", &QualityConfig::evaluation, evaluation)
        .Nested("ground_truth", &QualityConfig::ground_truth, ground_truth)
        .Nested("drift", &QualityConfig::drift, drift);
    return sec;
  }();
  return *schema_table;
}

}  // namespace tyto::quality
