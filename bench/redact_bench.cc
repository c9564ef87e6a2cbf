// Redaction throughput: redact::Redactor over realistic prompts and responses of about 2 KiB each
// (chat requests, code, logs, JSON message lists; timestamps, versions, decimals and ids that
// look like findings but are not), 512 of them, one Redact call per prompt as the ingest path
// makes them.
//
// Rows:
//   Clean/<redactor>      prompts with nothing to redact (the common case)
//   Findings/<redactor>   the same with a finding in about one sentence in four (email, phone,
//                         card, addresses, keys, secrets): about one finding per 250 bytes
//   InPlaceClean          RedactInPlace on clean prompts: no copy when nothing is found
//   Rule/<rule>           one built-in rule alone on clean prompts, to see what each costs
// <redactor>: 0 the default (every built-in rule), 1 the default plus two custom RE2 rules.
// Counter: bytes_per_second (prompt bytes).
// Run: build/bench/redact_bench [--benchmark_filter=Clean]
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "redact/redactor.h"

namespace tyto::redact {
namespace {

constexpr size_t kPrompts = 512;
constexpr size_t kPromptBytes = 2048;

const std::vector<std::string>& CleanSentences() {
  static const std::vector<std::string> s = {
      "Can you help me refactor this function so that it retries with exponential backoff? ",
      "The deployment on 2024-03-18 at 14:22:05 rolled out version 3.12.1 to 48 replicas. ",
      "Here is the stack trace: File \"main.py\", line 42, in handler: KeyError: 'user_id'\n",
      "{\"role\": \"user\", \"content\": \"Summarise the attached report in 5 bullet points.\"} ",
      "Our p99 latency went from 1.85s to 2.40s after the upgrade; GPU utilisation stayed near 87%. ",
      "def add(a, b):\n    return a + b\n\nprint(add(2, 3))\n",
      "Please translate into French: the meeting is moved to Thursday at 10:30. ",
      "Order 48213 shipped with 3 items totalling 129.99 EUR on 18/03/2024. ",
      "The model llama-3.1-8b-instruct generated 512 tokens with temperature 0.7 and top_p 0.9. ",
      "std::vector<int> v{1, 2, 3}; for (auto x : v) sum += x; // C++20\n",
      "2024-03-18T14:22:06.001Z WARN upstream slow (p99 1.85s) model=mistral-7b max_tokens: 4096\n",
      "Write a haiku about observability, with a title and no more than 17 syllables. ",
      "Trace 4bf92f3577b34da6a3ce929d0e0e4736 span 00f067aa0ba902b7 took 1710771726001000000 ns. ",
      "Las ventas crecieron un 12,5 % en el primer trimestre; 我们下周再讨论。 ",
  };
  return s;
}

const std::vector<std::string>& FindingSentences() {
  static const std::vector<std::string> s = {
      "Email me at maria.gonzalez@example.com when it is done. ",
      "Call me on +1 (415) 555-0132 tomorrow morning. ",
      "My card is 4111 1111 1111 1111, expiring 09/27. ",
      "The server at 10.20.0.15 refused the connection; try 2001:db8::17 instead. ",
      "client = OpenAI(api_key=\"sk-proj-Zx8kQ2vN4mP7rT1wY5uB9cE3hJ6lA0dF\")\n",
      "DB_PASSWORD=Tr0ub4dor&3 is in the env file. ",
      "Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyLTQyIn0.c2lnbmF0dXJl\n",
  };
  return s;
}

// kPrompts prompts of about kPromptBytes each; with `findings`, one sentence in four has one.
std::vector<std::string> MakePrompts(bool findings) {
  std::mt19937_64 rng(findings ? 11 : 7);
  const auto& clean = CleanSentences();
  const auto& found = FindingSentences();
  std::vector<std::string> prompts;
  for (size_t p = 0; p < kPrompts; ++p) {
    std::string s;
    while (s.size() < kPromptBytes) {
      if (findings && rng() % 4 == 0) {
        s += found[rng() % found.size()];
      } else {
        s += clean[rng() % clean.size()];
      }
    }
    prompts.push_back(std::move(s));
  }
  return prompts;
}

Redactor MakeRedactor(RedactionConfig c) {
  auto r = Redactor::Create(c);
  if (!r.ok()) std::abort();
  return std::move(r).value();
}

Redactor ByArg(int64_t arg) {
  RedactionConfig c;
  if (arg == 1) {
    c.rules = {{"employee_id", R"(EMP-\d{6})", ""}, {"patient", R"((?i)patient id:\s*\d+)", "<patient>"}};
  }
  return MakeRedactor(c);
}

size_t TotalBytes(const std::vector<std::string>& prompts) {
  size_t n = 0;
  for (const std::string& p : prompts) n += p.size();
  return n;
}

void Run(benchmark::State& state, const Redactor& r, const std::vector<std::string>& prompts) {
  Stats stats;
  for (auto _ : state) {
    for (const std::string& p : prompts) {
      std::string out = r.Redact(p, &stats);
      benchmark::DoNotOptimize(out);
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * TotalBytes(prompts)));
  state.counters["findings_per_prompt"] =
      static_cast<double>(stats.Total()) / static_cast<double>(state.iterations() * prompts.size());
}

void BM_Clean(benchmark::State& state) {
  static const std::vector<std::string> prompts = MakePrompts(false);
  Run(state, ByArg(state.range(0)), prompts);
}
BENCHMARK(BM_Clean)->Arg(0)->Arg(1);

void BM_Findings(benchmark::State& state) {
  static const std::vector<std::string> prompts = MakePrompts(true);
  Run(state, ByArg(state.range(0)), prompts);
}
BENCHMARK(BM_Findings)->Arg(0)->Arg(1);

void BM_InPlaceClean(benchmark::State& state) {
  static const std::vector<std::string> prompts = MakePrompts(false);
  const Redactor r = ByArg(0);
  std::vector<std::string> copies = prompts;
  for (auto _ : state) {
    for (std::string& p : copies) benchmark::DoNotOptimize(r.RedactInPlace(&p));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * TotalBytes(prompts)));
}
BENCHMARK(BM_InPlaceClean);

void BM_Rule(benchmark::State& state) {
  static const std::vector<std::string> prompts = MakePrompts(false);
  RedactionConfig c;
  c.builtin = {std::string(kBuiltinRuleNames[static_cast<size_t>(state.range(0))])};
  state.SetLabel(c.builtin[0]);
  Run(state, MakeRedactor(c), prompts);
}
BENCHMARK(BM_Rule)->DenseRange(0, kBuiltinRuleCount - 1);

}  // namespace
}  // namespace tyto::redact

BENCHMARK_MAIN();
