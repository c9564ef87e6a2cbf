// libFuzzer target: any bytes through QuantileSketch, CategoryCounts and VectorReservoir
// Deserialize, as they arrive and with their last 4 bytes replaced by the right CRC-32 (so that
// the fuzzer reaches the field checks behind the checksum). Deserialize must never crash, hang
// or read out of bounds (the sanitizers watch), and whatever it accepts:
//   - serializes back to exactly the same bytes (one encoding per value);
//   - answers queries, takes more values, merges with itself and with a fresh one, and goes
//     through every drift test against itself and against a small fresh sample.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/coding.h"
#include "common/crc32.h"
#include "stats/category_counts.h"
#include "stats/drift.h"
#include "stats/mmd.h"
#include "stats/quantile_sketch.h"
#include "stats/vector_reservoir.h"

namespace {

using tyto::stats::CategoryCounts;
using tyto::stats::QuantileSketch;
using tyto::stats::Test;
using tyto::stats::VectorReservoir;

constexpr Test kTests[] = {Test::kKs,          Test::kChiSquare, Test::kZ, Test::kPsi, Test::kJensenShannon,
                           Test::kWasserstein, Test::kHellinger};

void CheckSketch(std::string_view bytes) {
  auto s = QuantileSketch::Deserialize(bytes);
  if (!s.ok()) return;
  if (s->Serialize() != bytes) __builtin_trap();
  (void)s->Quantile(0.5);
  (void)s->Cdf(0.0);
  (void)tyto::stats::CompareNumeric(*s, *s);
  QuantileSketch fresh;
  for (int i = 0; i < 300; ++i) fresh.Add(i * 0.25);
  for (Test t : kTests) {
    (void)tyto::stats::NumericDrift(*s, *s, t);
    (void)tyto::stats::NumericDrift(*s, fresh, t);
    (void)tyto::stats::NumericDrift(fresh, *s, t);
  }
  QuantileSketch merged = *s;
  merged.Merge(*s);
  merged.Merge(fresh);
  fresh.Merge(*s);
  for (int i = 0; i < 100; ++i) s->Add(static_cast<double>(i));
  if (merged.count() != 0 && !(merged.Quantile(0.9) >= merged.min())) __builtin_trap();
}

void CheckCounts(std::string_view bytes) {
  auto c = CategoryCounts::Deserialize(bytes);
  if (!c.ok()) return;
  if (c->Serialize() != bytes) __builtin_trap();
  CategoryCounts fresh;
  fresh.Add("a", 3);
  fresh.Add("b");
  for (Test t : kTests) {
    (void)tyto::stats::CategoricalDrift(*c, *c, t);
    (void)tyto::stats::CategoricalDrift(*c, fresh, t);
  }
  (void)tyto::stats::CompareCategorical(*c, fresh);
  c->Merge(*c);
  c->Add("zz");
}

void CheckReservoir(std::string_view bytes) {
  auto r = VectorReservoir::Deserialize(bytes);
  if (!r.ok()) return;
  if (r->Serialize() != bytes) __builtin_trap();
  (void)tyto::stats::MmdTest(*r, *r, 5, 1);
  VectorReservoir copy = *r;
  copy.Merge(*r);
  if (r->dim() > 0) {
    std::vector<float> v(r->dim(), 0.5F);
    copy.Add(v);
  }
}

void CheckAll(std::string_view bytes) {
  CheckSketch(bytes);
  CheckCounts(bytes);
  CheckReservoir(bytes);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  CheckAll(raw);
  if (size >= 9) {
    std::string fixed(raw.substr(0, size - 4));
    tyto::coding::PutFixed32(&fixed, tyto::Crc32(fixed));
    CheckAll(fixed);
  }
  return 0;
}
