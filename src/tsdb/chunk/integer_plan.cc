// Choosing an integer chunk's parameters for a given run of samples. Value bits and timestamp
// bits are independent, so each half is chosen on its own. Candidates are compared by running
// the real encoder functions over a BitCounter (timestamps) or by an exact tally of the Rice
// code (values); only the Rice parameter is first narrowed down by an estimate.
//
// This runs once per chunk cut, so it is kept to a few passes over the samples.
#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <limits>
#include <memory>
#include <numeric>
#include <optional>
#include <utility>
#include <vector>

#include "tsdb/chunk/integer_chunk.h"

namespace tyto::tsdb::chunk {
namespace {

using Mantissas = std::vector<std::optional<int64_t>>;

constexpr uint64_t kNoCost = std::numeric_limits<uint64_t>::max();

bool FitsInt64(Int128 v) {
  return v >= std::numeric_limits<int64_t>::min() && v <= std::numeric_limits<int64_t>::max();
}

uint64_t Magnitude(int64_t v) { return v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v); }

// What an escape that writes the mantissa whole costs.
uint64_t AbsoluteEscapeBits(int64_t m) { return kRiceEscapeOnes + 2 + BitVarintBits(coding::ZigZag(m)); }
// What an escape costs for a residual z (zig-zagged, divided by the step) of mantissa m.
uint64_t EscapeBits(uint64_t z, int64_t m) {
  return std::min<uint64_t>(kRiceEscapeOnes + 1 + BitVarintBits(z), AbsoluteEscapeBits(m));
}

// Samples after the first whose values repeat the first value's bits.
int LeadingRepeats(const Samples& samples) {
  if (samples.empty()) return 0;
  const auto first = std::bit_cast<uint64_t>(samples[0].second);
  size_t i = 1;
  while (i < samples.size() && std::bit_cast<uint64_t>(samples[i].second) == first) ++i;
  return static_cast<int>(i - 1);
}

struct ValueChoice {
  int order = 1;
  int64_t drift = 0;
  int rice = 0;
  uint64_t bits = kNoCost;
};

// Buffers reused across candidates.
struct Scratch {
  std::vector<uint64_t> residuals;     // zig-zagged residuals / gcd, for Rice-coded samples
  std::vector<uint64_t> escape_costs;  // what each costs instead if its quotient escapes
};

// The value bits of `m` (mantissas; nullopt for raw values) under one prediction, with the
// best Rice parameter. Residuals do not depend on the Rice parameter: an escape re-bases the
// prediction on the absolute value exactly as a coded residual would.
ValueChoice PriceOrder(const Mantissas& m, int repeats, int order, int64_t drift, uint64_t gcd, Scratch& scratch) {
  uint64_t fixed = 0;
  scratch.residuals.clear();
  scratch.escape_costs.clear();
  IntegerState s;
  for (size_t i = 0; i < m.size(); ++i) {
    if (i >= 1 && i <= static_cast<size_t>(repeats)) continue;  // free
    const auto& mi = m[i];
    if (!mi) {
      fixed += s.have_integer ? kRiceEscapeOnes + 2 + 64 : 1 + 64;
      continue;
    }
    if (!s.have_integer) {
      fixed += 1 + BitVarintBits(coding::ZigZag(*mi));
    } else {
      const Int128 r = s.Residual(order, drift, *mi);
      int64_t e = 0;
      if (FitsInt64(r) && DivideExactly(static_cast<int64_t>(r), gcd, &e)) {
        scratch.residuals.push_back(coding::ZigZag(e));
        scratch.escape_costs.push_back(EscapeBits(scratch.residuals.back(), *mi));
      } else {
        fixed += AbsoluteEscapeBits(*mi);
      }
    }
    s.PushInteger(*mi);
  }
  ValueChoice best{order, drift, 0, fixed};
  if (scratch.residuals.empty()) return best;

  // Estimate the cost of each parameter from a histogram of residual bit widths (a residual of
  // width b has a quotient of about 1.5 * 2^(b-1-k)), then tally the best few exactly.
  std::array<uint32_t, 65> width_count{};
  uint64_t escape_sum = 0;
  int max_width = 0;
  for (size_t i = 0; i < scratch.residuals.size(); ++i) {
    const int b = std::bit_width(scratch.residuals[i]);
    ++width_count[b];
    max_width = std::max(max_width, b);
    escape_sum += scratch.escape_costs[i];
  }
  const double escape_mean = static_cast<double>(escape_sum) / static_cast<double>(scratch.residuals.size());
  int estimate_k = 0;
  double estimate_best = 0;
  for (int k = 0; k <= std::min(max_width, 63); ++k) {
    double cost = 0;
    for (int b = 0; b <= max_width; ++b) {
      if (width_count[b] == 0) continue;
      double each = 1.0 + k;
      if (b > k) {
        const int shift = b - 1 - k;
        const double quotient = shift < 16 ? 1.5 * (1 << shift) : kRiceEscapeOnes;
        each = quotient >= kRiceEscapeOnes ? escape_mean : 1.0 + k + quotient;
      }
      cost += each * width_count[b];
    }
    if (k == 0 || cost < estimate_best) {
      estimate_best = cost;
      estimate_k = k;
    }
  }
  best.bits = kNoCost;
  for (int k = std::max(0, estimate_k - 1); k <= std::min(63, estimate_k + 1); ++k) {
    uint64_t bits = fixed;
    for (size_t i = 0; i < scratch.residuals.size(); ++i) {
      const uint64_t q = scratch.residuals[i] >> k;
      bits += q < kRiceEscapeOnes ? q + 1 + static_cast<uint64_t>(k) : scratch.escape_costs[i];
    }
    if (bits < best.bits) {
      best.bits = bits;
      best.rice = k;
    }
  }
  return best;
}

// Chooses scale, prediction, drift, step and Rice parameter; returns the mantissas at the
// chosen scale.
Mantissas PlanValues(const Samples& samples, const std::vector<std::optional<Decimal>>& decimals, IntegerParams* p) {
  const size_t n = samples.size();
  p->scale = 0;
  p->order = 1;
  p->gcd = 1;
  p->drift = 0;
  p->rice = 0;
  p->repeats = LeadingRepeats(samples);
  std::array<int, kMaxScale + 1> per_scale{};
  int max_scale = -1;
  for (const auto& d : decimals) {
    if (!d) continue;
    ++per_scale[d->scale];
    max_scale = std::max(max_scale, d->scale);
  }
  if (max_scale < 0) return Mantissas(n);  // no decimals: every value is raw
  // The scale that keeps every decimal, and the most common one (a single long decimal among
  // short ones is cheaper raw than inflating every mantissa).
  const int common_scale = static_cast<int>(std::max_element(per_scale.begin(), per_scale.end()) - per_scale.begin());
  std::array<int, 2> scales = {max_scale, common_scale};
  const int scale_count = common_scale == max_scale ? 1 : 2;

  Scratch scratch;
  std::array<Mantissas, 2> mantissas;
  int best_scale_index = 0;
  uint64_t best_bits = kNoCost;
  std::vector<int64_t> deltas;
  for (int si = 0; si < scale_count; ++si) {
    const int scale = scales[si];
    Mantissas& m = mantissas[si];
    m.resize(n);
    uint64_t gcd = 0;
    deltas.clear();
    std::optional<int64_t> last;
    for (size_t i = 0; i < n; ++i) {
      if (decimals[i]) m[i] = ScaleDecimal(*decimals[i], samples[i].second, scale);
      if (!m[i]) continue;
      if (last) {
        const Int128 d = Int128{*m[i]} - *last;
        if (FitsInt64(d)) {
          deltas.push_back(static_cast<int64_t>(d));
          if (d != 0) gcd = std::gcd(gcd, Magnitude(static_cast<int64_t>(d)));
        }
      }
      last = m[i];
    }
    if (gcd == 0 || gcd > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) gcd = 1;
    // Order 1's drift: the median increase (a multiple of gcd, being one of the deltas).
    int64_t drift = 0;
    if (!deltas.empty()) {
      std::nth_element(deltas.begin(), deltas.begin() + static_cast<ptrdiff_t>(deltas.size() / 2), deltas.end());
      drift = deltas[deltas.size() / 2];
    }
    struct Candidate {
      int order;
      int64_t drift;
    };
    std::array<Candidate, 4> candidates = {{{0, 0}, {1, 0}, {2, 0}, {1, drift}}};
    const int candidate_count = drift != 0 ? 4 : 3;
    for (int ci = 0; ci < candidate_count; ++ci) {
      const auto [order, d] = candidates[ci];
      const ValueChoice c = PriceOrder(m, p->repeats, order, d, gcd, scratch);
      IntegerParams header;
      header.gcd = gcd;
      header.drift = d;
      const uint64_t total = c.bits + 8 * IntegerHeaderSize(header);
      if (total < best_bits) {
        best_bits = total;
        p->scale = scale;
        p->order = order;
        p->drift = d;
        p->gcd = gcd;
        p->rice = c.rice;
        best_scale_index = si;
      }
    }
  }
  return std::move(mantissas[best_scale_index]);
}

// Timestamp bits after the first sample, plus the grid's header bytes, for parameters `p`.
uint64_t PriceTimestamps(const Samples& samples, const IntegerParams& p) {
  BitCounter counter;
  IntegerState s;
  PutFirstTimestamp(counter, s, p, samples[0].first);
  const uint64_t first_bits = counter.bits();
  for (size_t i = 1; i < samples.size(); ++i) PutTimestamp(counter, s, p, samples[i].first);
  IntegerParams header;
  header.timestamp_mode = p.timestamp_mode;
  header.grid_interval = p.grid_interval;
  header.grid_offset = p.grid_offset;
  return counter.bits() - first_bits + 8 * (IntegerHeaderSize(header) - IntegerHeaderSize(IntegerParams{}));
}

// Sample i's distance from the grid t0 + k * interval nearest to it, in [-interval/2, interval/2].
int64_t GridDistance(int64_t t, int64_t t0, size_t i, uint64_t interval) {
  const auto iv = static_cast<int64_t>(interval);  // < 2^63
  const int64_t half = iv / 2;
  int64_t r = 0;
  int64_t step = 0;
  if (!__builtin_sub_overflow(t, t0, &r) && !__builtin_mul_overflow(static_cast<int64_t>(i), iv, &step) &&
      !__builtin_sub_overflow(r, step, &r) && r >= -half && r <= half) {
    return r;  // the usual case: no wrap-around
  }
  const Int128 r128 = Int128{t} - t0 - static_cast<Int128>(i) * iv;
  Int128 q = (r128 + half) / iv;
  if ((r128 + half) % iv < 0) --q;
  return static_cast<int64_t>(r128 - q * iv);
}

// Grid parameters for `interval`: an offset and width that fit the samples' distances from
// the grid into few bits (a missed scrape moves the grid by whole intervals and costs one
// escape, so distances are taken modulo the interval). Windows spanning the distances with up
// to three outliers on either side left out are priced at `width` bits per sample plus about
// 16 per escape.
IntegerParams GridFor(const Samples& samples, uint64_t interval) {
  constexpr int kTrim = 4;  // extremes kept per side: the outliers a window may leave out, plus one
  const int64_t t0 = samples[0].first;
  std::array<int64_t, kTrim> low;   // the smallest distances, ascending
  std::array<int64_t, kTrim> high;  // the largest, descending
  low.fill(std::numeric_limits<int64_t>::max());
  high.fill(std::numeric_limits<int64_t>::min());
  for (size_t i = 1; i < samples.size(); ++i) {
    const int64_t d = GridDistance(samples[i].first, t0, i, interval);
    if (d < low[kTrim - 1]) {
      int j = kTrim - 1;
      for (; j > 0 && low[j - 1] > d; --j) low[j] = low[j - 1];
      low[j] = d;
    }
    if (d > high[kTrim - 1]) {
      int j = kTrim - 1;
      for (; j > 0 && high[j - 1] < d; --j) high[j] = high[j - 1];
      high[j] = d;
    }
  }
  const int count = static_cast<int>(samples.size()) - 1;
  const int trims = std::min(kTrim - 1, (count - 1) / 2);
  IntegerParams grid;
  grid.timestamp_mode = TimestampMode::kGrid;
  grid.grid_interval = interval;
  uint64_t best_cost = kNoCost;
  for (int a = 0; a <= trims; ++a) {
    for (int b = 0; b <= trims; ++b) {
      if (low[a] > high[b]) continue;
      const uint64_t range = static_cast<uint64_t>(high[b]) - static_cast<uint64_t>(low[a]);
      const int width = std::max(1, std::min(63, static_cast<int>(std::bit_width(range + 1))));
      constexpr uint64_t kTypicalEscapeBits = 16;
      const uint64_t cost = static_cast<uint64_t>(count) * width + static_cast<uint64_t>(a + b) * kTypicalEscapeBits;
      if (cost < best_cost) {
        best_cost = cost;
        grid.grid_width = width;
        grid.grid_offset = low[a];
      }
    }
  }
  return grid;
}

void PlanTimestamps(const Samples& samples, IntegerParams* p) {
  p->timestamp_mode = TimestampMode::kDeltaOfDelta;
  p->grid_width = 0;
  p->grid_interval = 0;
  p->grid_offset = 0;
  const size_t n = samples.size();
  if (n < 3) return;
  uint64_t best = PriceTimestamps(samples, *p);
  // Interval candidates: the mean over the chunk (exact when no scrape was missed), and the
  // median positive delta (robust when some were).
  std::vector<uint64_t> intervals;
  const Int128 span = Int128{samples.back().first} - samples.front().first;
  if (span > 0) {
    const Int128 mean = (span + static_cast<Int128>(n - 1) / 2) / static_cast<Int128>(n - 1);
    if (mean > 0 && FitsInt64(mean)) intervals.push_back(static_cast<uint64_t>(mean));
  }
  std::vector<int64_t> buffer;
  buffer.reserve(n);
  for (size_t i = 1; i < n; ++i) {
    int64_t d = 0;
    if (!__builtin_sub_overflow(samples[i].first, samples[i - 1].first, &d) && d > 0) buffer.push_back(d);
  }
  if (!buffer.empty()) {
    std::nth_element(buffer.begin(), buffer.begin() + static_cast<ptrdiff_t>(buffer.size() / 2), buffer.end());
    const auto median = static_cast<uint64_t>(buffer[buffer.size() / 2]);
    if (intervals.empty() || intervals[0] != median) intervals.push_back(median);
  }
  for (const uint64_t interval : intervals) {
    const IntegerParams grid = GridFor(samples, interval);
    const uint64_t bits = PriceTimestamps(samples, grid);
    if (bits < best) {
      best = bits;
      p->timestamp_mode = TimestampMode::kGrid;
      p->grid_width = grid.grid_width;
      p->grid_interval = grid.grid_interval;
      p->grid_offset = grid.grid_offset;
    }
  }
}

Mantissas Plan(const Samples& samples, const std::vector<std::optional<Decimal>>& decimals, IntegerParams* p) {
  *p = IntegerParams{};
  if (samples.empty()) return {};
  Mantissas m = PlanValues(samples, decimals, p);
  PlanTimestamps(samples, p);
  return m;
}

std::vector<std::optional<Decimal>> FindDecimals(const Samples& samples) {
  std::vector<std::optional<Decimal>> decimals(samples.size());
  for (size_t i = 0; i < samples.size(); ++i) decimals[i] = FindDecimal(samples[i].second);
  return decimals;
}

}  // namespace

IntegerParams PlanInteger(const Samples& samples) {
  IntegerParams p;
  Plan(samples, FindDecimals(samples), &p);
  return p;
}

std::unique_ptr<IntegerChunk> EncodeInteger(const Samples& samples,
                                            const std::vector<std::optional<Decimal>>& decimals) {
  IntegerParams p;
  const Mantissas m = Plan(samples, decimals, &p);
  auto chunk = std::make_unique<IntegerChunk>(p);
  for (size_t i = 0; i < samples.size(); ++i) chunk->Append(samples[i].first, samples[i].second, m[i]);
  return chunk;
}

std::unique_ptr<IntegerChunk> EncodeIntegerValues(const Samples& samples,
                                                  const std::vector<std::optional<Decimal>>& decimals) {
  IntegerParams p;
  const Mantissas m = samples.empty() ? Mantissas{} : PlanValues(samples, decimals, &p);
  p.timestamp_mode = TimestampMode::kNone;
  auto chunk = std::make_unique<IntegerChunk>(p);
  for (size_t i = 0; i < samples.size(); ++i) chunk->Append(samples[i].first, samples[i].second, m[i]);
  return chunk;
}

std::unique_ptr<IntegerChunk> EncodeInteger(const Samples& samples) {
  return EncodeInteger(samples, FindDecimals(samples));
}

}  // namespace tyto::tsdb::chunk
