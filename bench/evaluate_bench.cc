// Heuristic evaluator throughput (issue 8's target: at least 20,000 responses per second per core,
// all of them together and each alone) on realistic samples: a prompt of about 1 KiB (instructions,
// context, a question) and a response of 1-2 KiB (prose, lists, a code block; one in eight in
// Spanish, French, German, Russian or Chinese; a few refusals), 256 samples, one thread.
//
// Rows:
//   Evaluator/<name>   one builtin with its default options
//   FormatSchema       format with a JSON Schema, over JSON responses of about 1.5 KiB
//   AllBuiltins        all eight builtins (format: json) on each sample, one after another on
//                      one thread: items_per_second is samples scored by all eight per second
//   AllBuiltinsApart   the same, but each evaluator sees its own copy of the sample (one more
//                      trailing space each), as if each ran on another thread: nothing of the
//                      per-thread text analysis (src/evaluate/analysis.h) is shared
// Counters: items_per_second (samples), bytes_per_second (prompt + response bytes).
// Run: build/bench/evaluate_bench [--benchmark_filter=AllBuiltins]
#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "evaluate/registry.h"

namespace tyto::evaluate {
namespace {

constexpr size_t kSamples = 256;

const std::vector<std::string>& PromptSentences() {
  static const std::vector<std::string> s = {
      "You are a helpful assistant for the platform team; answer precisely and cite the relevant settings. ",
      "Context: our inference fleet runs vLLM on 48 H100 nodes behind an Envoy gateway with retries enabled. ",
      "The p99 time to first token rose from 350 ms to 1.9 s after Tuesday's deployment of version 3.12. ",
      "GPU utilisation stayed near 85 percent while the request queue on each replica kept growing. ",
      "We use Prometheus for metrics, Grafana dashboards, and a custom autoscaler keyed on queue depth. ",
      "Batch sizes are capped at 256 sequences and the KV cache uses 90 percent of GPU memory. ",
      "Please explain the most likely causes, how to confirm each one, and what to change first. ",
      "Keep the answer under 300 words and use a short list where it helps the reader. ",
      "Also mention which metrics and alerts we should add so that this regression is caught earlier. ",
      "Question: why would latency increase while throughput and GPU utilisation look unchanged? ",
  };
  return s;
}

const std::vector<std::string>& ResponseSentences() {
  static const std::vector<std::string> s = {
      "The most likely cause is queueing: when the scheduler admits fewer sequences, requests wait longer. ",
      "Check the vllm:num_requests_waiting metric per replica and compare it with the deployment time. ",
      "A smaller KV cache after the upgrade would force preemption, which shows up as recomputation. ",
      "Confirm it by graphing vllm:num_preemptions_total alongside time to first token. ",
      "GPU utilisation can stay high while useful work drops, because recomputed prefills still use the GPU. ",
      "Roll back the memory fraction setting first, since it is the cheapest change to test. ",
      "Add an alert on the ratio of waiting to running requests, with a threshold tuned per model. ",
      "- Compare the batch size distribution before and after the release.\n",
      "- Verify that the gateway's retry budget did not double the effective load.\n",
      "```yaml\nalert: QueueBacklog\nexpr: sum(vllm:num_requests_waiting) by (model) > 50\nfor: 5m\n```\n",
      "Finally, record the tokens per second per replica so that capacity planning uses real numbers. ",
      "If the regression persists, profile one replica with a fixed load to isolate the scheduler. ",
  };
  return s;
}

const std::vector<std::string>& OtherLanguages() {
  static const std::vector<std::string> s = {
      "La causa más probable es la cola: cuando el planificador admite menos secuencias, las peticiones esperan "
      "más tiempo y la latencia sube aunque la GPU siga ocupada. ",
      "La cause la plus probable est la file d'attente : quand l'ordonnanceur admet moins de séquences, les "
      "requêtes attendent plus longtemps et la latence augmente. ",
      "Die wahrscheinlichste Ursache ist die Warteschlange: Wenn der Scheduler weniger Sequenzen zulässt, warten "
      "die Anfragen länger und die Latenz steigt. ",
      "Наиболее вероятная причина — очередь: когда планировщик принимает меньше последовательностей, запросы ждут "
      "дольше, и задержка растёт. ",
      "最可能的原因是排队：当调度器接纳的序列变少时，请求等待的时间更长，即使GPU仍然繁忙，延迟也会上升。",
  };
  return s;
}

std::string Fill(const std::vector<std::string>& pool, size_t bytes, std::mt19937* rng) {
  std::string out;
  while (out.size() < bytes) out += pool[(*rng)() % pool.size()];
  return out;
}

std::vector<Sample> MakeSamples() {
  std::mt19937 rng(7);
  std::vector<Sample> samples;
  for (size_t i = 0; i < kSamples; ++i) {
    Sample s;
    s.request_id = "req-" + std::to_string(i);
    s.model = "llama-3.1-70b-instruct";
    s.prompt = Fill(PromptSentences(), 1024, &rng);
    const size_t response_bytes = 1024 + rng() % 1024;
    if (i % 8 == 3) {
      s.response = Fill(OtherLanguages(), response_bytes, &rng);
    } else if (i % 32 == 5) {
      s.response = "I'm sorry, but I can't help with that request.";
    } else {
      s.response = Fill(ResponseSentences(), response_bytes, &rng);
    }
    s.finish_reasons = {i % 16 == 9 ? "length" : "stop"};
    s.output_tokens = static_cast<int64_t>(s.response.size() / 4);
    samples.push_back(std::move(s));
  }
  return samples;
}

const std::vector<Sample>& Samples() {
  static const std::vector<Sample> s = MakeSamples();
  return s;
}

const Registry& Builtins() {
  static const Registry* r = [] {
    auto* reg = new Registry();
    RegisterBuiltins(reg);
    return reg;
  }();
  return *r;
}

std::unique_ptr<Evaluator> Make(const std::string& name, const Options& options = {}) {
  auto e = Builtins().Create(name, options);
  if (!e.ok()) std::abort();  // a broken benchmark configuration
  return std::move(e).value();
}

void Score(benchmark::State& state, const std::vector<Evaluator*>& evaluators, const std::vector<Sample>& samples) {
  size_t i = 0;
  int64_t bytes = 0;
  for (auto _ : state) {
    const Sample& s = samples[i++ % samples.size()];
    for (Evaluator* e : evaluators) {
      auto r = e->Evaluate(s);
      benchmark::DoNotOptimize(r);
    }
    bytes += static_cast<int64_t>(s.prompt.size() + s.response.size());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(bytes);
}

void BM_Evaluator(benchmark::State& state, const std::string& name) {
  auto e = Make(name);
  Score(state, {e.get()}, Samples());
}

void BM_AllBuiltins(benchmark::State& state) {
  std::vector<std::unique_ptr<Evaluator>> owned;
  std::vector<Evaluator*> all;
  for (const Descriptor& d : Builtins().List()) {
    owned.push_back(Make(d.name));
    all.push_back(owned.back().get());
  }
  Score(state, all, Samples());
}

void BM_AllBuiltinsApart(benchmark::State& state) {
  std::vector<std::unique_ptr<Evaluator>> all;
  for (const Descriptor& d : Builtins().List()) all.push_back(Make(d.name));
  // copies[i][k]: sample i as evaluator k sees it.
  std::vector<std::vector<Sample>> copies;
  for (const Sample& s : Samples()) {
    copies.emplace_back();
    for (size_t k = 0; k < all.size(); ++k) {
      Sample c = s;
      c.prompt.append(k + 1, ' ');
      c.response.append(k + 1, ' ');
      copies.back().push_back(std::move(c));
    }
  }
  size_t i = 0;
  int64_t bytes = 0;
  for (auto _ : state) {
    const std::vector<Sample>& c = copies[i++ % copies.size()];
    for (size_t k = 0; k < all.size(); ++k) {
      auto r = all[k]->Evaluate(c[k]);
      benchmark::DoNotOptimize(r);
    }
    bytes += static_cast<int64_t>(c[0].prompt.size() + c[0].response.size());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(bytes);
}

void BM_FormatSchema(benchmark::State& state) {
  auto e = Make("format", {{"format", "json_schema"},
                           {"schema", R"({"type": "object", "required": ["incidents"],
                                          "properties": {"incidents": {"type": "array", "items": {
                                            "type": "object", "required": ["id", "severity", "summary"],
                                            "properties": {"id": {"type": "string", "pattern": "^INC-\\d+$"},
                                                           "severity": {"enum": ["low", "medium", "high"]},
                                                           "summary": {"type": "string", "maxLength": 200},
                                                           "replicas": {"type": "integer", "minimum": 0}},
                                            "additionalProperties": false}}}})"}});
  std::vector<Sample> samples = Samples();
  for (size_t i = 0; i < samples.size(); ++i) {
    std::string json = "{\"incidents\": [";
    for (int k = 0; json.size() < 1400; ++k) {
      if (k > 0) json += ", ";
      json += "{\"id\": \"INC-" + std::to_string(1000 + i * 10 + k) +
              "\", \"severity\": \"high\", \"summary\": \"Queue backlog on replica " + std::to_string(k) +
              " after the deployment\", \"replicas\": " + std::to_string(k + 1) + "}";
    }
    samples[i].response = json + "]}";
  }
  Score(state, {e.get()}, samples);
}

BENCHMARK_CAPTURE(BM_Evaluator, completeness, std::string("completeness"));
BENCHMARK_CAPTURE(BM_Evaluator, format, std::string("format"));
BENCHMARK_CAPTURE(BM_Evaluator, language, std::string("language"));
BENCHMARK_CAPTURE(BM_Evaluator, pii, std::string("pii"));
BENCHMARK_CAPTURE(BM_Evaluator, refusal, std::string("refusal"));
BENCHMARK_CAPTURE(BM_Evaluator, relevance, std::string("relevance"));
BENCHMARK_CAPTURE(BM_Evaluator, repetition, std::string("repetition"));
BENCHMARK_CAPTURE(BM_Evaluator, safety, std::string("safety"));
BENCHMARK(BM_FormatSchema);
BENCHMARK(BM_AllBuiltins);
BENCHMARK(BM_AllBuiltinsApart);

}  // namespace
}  // namespace tyto::evaluate

BENCHMARK_MAIN();
