// anomaly_eval: precision and recall of the anomaly detectors (src/anomaly) on labelled incidents
// of the simulated fleet, against a static threshold. docs/anomaly.md gives the command and the
// results; src/anomaly/evaluation.h says what is measured.
//
//   anomaly_eval [--days N] [--warmup-days N] [--seed N] [--gpus N]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "anomaly/evaluation.h"

int main(int argc, char** argv) {
  tyto::anomaly::EvaluationOptions o;
  for (int i = 1; i < argc; ++i) {
    const char* arg = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
    auto number = [&](long long lo, long long hi) {
      char* end = nullptr;
      const long long v = value == nullptr ? lo - 1 : std::strtoll(value, &end, 10);
      if (value == nullptr || *end != '\0' || v < lo || v > hi) {
        std::fprintf(stderr, "anomaly_eval: %s needs a number in [%lld, %lld]\n", arg, lo, hi);
        std::exit(2);
      }
      ++i;
      return v;
    };
    if (std::strcmp(arg, "--days") == 0) {
      o.days = static_cast<int>(number(1, 400));
    } else if (std::strcmp(arg, "--warmup-days") == 0) {
      o.warmup_days = static_cast<int>(number(0, 399));
    } else if (std::strcmp(arg, "--seed") == 0) {
      o.seed = static_cast<uint64_t>(number(0, 1LL << 62));
    } else if (std::strcmp(arg, "--gpus") == 0) {
      o.gpus = static_cast<int>(number(1, 64));
    } else {
      std::fprintf(stderr, "usage: anomaly_eval [--days N] [--warmup-days N] [--seed N] [--gpus N]\n");
      return 2;
    }
  }
  const auto start = std::chrono::steady_clock::now();
  auto report = tyto::anomaly::Evaluate(o);
  if (!report.ok()) {
    std::fprintf(stderr, "anomaly_eval: %s\n", report.status().ToString().c_str());
    return 1;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%d simulated days (%d warm-up, %d incident-free scored), seed %llu, %d GPUs; %.1f s\n\n", o.days,
              o.warmup_days, report->clean_days, static_cast<unsigned long long>(o.seed), o.gpus, seconds);
  std::printf("%s", report->ToMarkdown().c_str());
  return 0;
}
