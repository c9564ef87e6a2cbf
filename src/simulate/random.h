// Random: the simulator's deterministic random numbers (xoshiro256**, seeded through
// splitmix64). Written out rather than taken from <random>, whose distributions differ between
// standard libraries: a seed must give the same fleet everywhere.
#pragma once

#include <cmath>
#include <cstdint>

namespace tyto::simulate {

// Mixes values into a seed (splitmix64's finaliser over a running hash).
inline uint64_t MixSeed(uint64_t a, uint64_t b) {
  uint64_t z = a ^ (b + 0x9e3779b97f4a7c15ull + (a << 6) + (a >> 2));
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

class Random {
 public:
  explicit Random(uint64_t seed) {
    for (uint64_t& s : s_) {
      seed += 0x9e3779b97f4a7c15ull;
      s = MixSeed(seed, 0);
    }
  }

  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, 1).
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }

  // Standard normal (Box-Muller; one value per call keeps the state simple).
  double Normal() {
    double u = Uniform();
    if (u < 1e-300) u = 1e-300;
    return std::sqrt(-2.0 * std::log(u)) * std::cos(6.283185307179586 * Uniform());
  }

  // A Poisson count with this mean: exact below 30, a rounded normal above.
  int64_t Poisson(double mean) {
    if (mean <= 0) return 0;
    if (mean >= 30) {
      double v = std::round(mean + std::sqrt(mean) * Normal());
      return v < 0 ? 0 : static_cast<int64_t>(v);
    }
    const double limit = std::exp(-mean);
    int64_t k = 0;
    double p = Uniform();
    while (p > limit) {
      ++k;
      p *= Uniform();
    }
    return k;
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace tyto::simulate
