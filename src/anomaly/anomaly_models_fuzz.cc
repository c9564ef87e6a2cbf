// libFuzzer target: any bytes as a saved anomaly models file (docs/format/anomaly_models.md),
// through Runner::LoadModels, and as each detector's saved state. Nothing may crash, hang or
// read out of bounds (the sanitizers watch); a file is loaded or refused with kCorruption, and
// whatever loads must keep working (a step of every loaded model).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "anomaly/detectors.h"
#include "anomaly/runner.h"
#include "tyto/env.h"

namespace {

using namespace tyto::anomaly;

void Check(bool ok) {
  if (!ok) std::abort();
}

AnomalyConfig Config() {
  AnomalyConfig c;
  c.max_series = 50;
  DetectorConfig s;
  s.name = "s";
  s.query = "x";
  DetectorConfig t = s;
  t.name = "t";
  t.kind = "trend";
  DetectorConfig m = s;
  m.name = "m";
  m.kind = "multivariate";
  m.train_window = 60;
  c.detectors = {s, t, m};
  return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  {
    SeasonalOptions so;
    so.values_per_slot = 4;
    so.seasons = 2;
    SeasonalBaseline s(so);
    if (s.Load(bytes)) (void)s.Observe(1'700'000'000'000, 1);
    TrendForecaster t{TrendOptions{}};
    if (t.Load(bytes)) (void)t.Observe(1'700'000'000'000, 1);
    KMeansOptions ko;
    ko.train_window = 32;
    ko.min_train = 20;
    KMeansDetector k(ko);
    if (k.Load(bytes)) (void)k.Observe(1'700'000'000'000, 1);
  }
  static const std::string path = "/tmp/anomaly_models_fuzz." + std::to_string(::getpid());
  tyto::Env* env = tyto::Env::Default();
  Check(tyto::WriteFileAtomically(env, path, bytes).ok());
  // LoadModels uses neither the engine nor the storage.
  auto runner = Runner::Create(Config(), nullptr, nullptr, tyto::Clock::Real(), nullptr);
  Check(runner.ok());
  auto loaded = (*runner)->LoadModels(env, path);
  if (!loaded.ok()) {
    Check(loaded.status().code() == tyto::StatusCode::kCorruption);
    return 0;
  }
  Check(*loaded <= 150);
  Check((*runner)->SaveModels(env, path).ok());
  return 0;
}
