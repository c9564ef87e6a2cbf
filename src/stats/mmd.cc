#include "stats/mmd.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <utility>
#include <vector>

#include "stats/random.h"

namespace tyto::stats {

namespace {

constexpr size_t kMaxSide = 1024;

// The pooled sample's kernel matrix and what every permutation's statistic needs from it.
class KernelMatrix {
 public:
  KernelMatrix(std::vector<double> k, size_t size) : k_(std::move(k)), size_(size), row_sums_(size, 0.0) {
    for (size_t i = 0; i < size_; ++i) {
      double s = 0;
      for (size_t j = 0; j < size_; ++j) s += at(i, j);
      row_sums_[i] = s;
      total_ += s;
    }
  }

  double at(size_t i, size_t j) const { return k_[i * size_ + j]; }

  // MMD^2_u for the split in which `group` (ascending indices) is one side and the rest the
  // other; the statistic is symmetric in the two sides.
  double Mmd2(const std::vector<size_t>& group) const {
    // in = sum over i, j in the group of K_ij (diagonal included); cross = sum over the group
    // and the rest; the rest's own sum follows from the total.
    double in = 0;
    double group_row_sums = 0;
    for (size_t i : group) {
      const double* row = &k_[i * size_];
      double s = 0;
      for (size_t j : group) s += row[j];
      in += s;
      group_row_sums += row_sums_[i];
    }
    const double cross = group_row_sums - in;
    const double out = total_ - in - 2 * cross;
    const double g = static_cast<double>(group.size());
    const double o = static_cast<double>(size_ - group.size());
    // Remove the diagonal (K_ii = 1) from the within-group sums.
    const double within_group = (in - g) / (g * (g - 1));
    const double within_other = (out - o) / (o * (o - 1));
    return within_group + within_other - 2 * cross / (g * o);
  }

 private:
  std::vector<double> k_;
  size_t size_;
  std::vector<double> row_sums_;
  double total_ = 0;
};

}  // namespace

MmdResult MmdTest(const VectorReservoir& reference, const VectorReservoir& current, int permutations, uint64_t seed) {
  MmdResult result;
  const std::vector<std::vector<float>>& x = reference.vectors();
  const std::vector<std::vector<float>>& y = current.vectors();
  result.reference_n = x.size();
  result.current_n = y.size();
  if (x.size() < 2) result.note = "reference has fewer than 2 vectors";
  if (y.size() < 2)
    result.note = result.note.empty() ? "current has fewer than 2 vectors" : "both sides have fewer than 2 vectors";
  if (result.note.empty() && reference.dim() != current.dim()) {
    result.note = "dimensions differ: reference " + std::to_string(reference.dim()) + ", current " +
                  std::to_string(current.dim());
  }
  if (!result.note.empty()) {
    result.mmd2 = std::numeric_limits<double>::quiet_NaN();
    result.p_value = std::numeric_limits<double>::quiet_NaN();
    return result;
  }
  permutations = std::max(permutations, 1);
  SplitMix64 rng(seed);
  // Larger samples are cut down to kMaxSide vectors each, chosen at random, so that the kernel
  // matrix stays within (2 kMaxSide)^2 entries (32 MiB).
  const auto subsample = [&rng](const std::vector<std::vector<float>>& side) {
    std::vector<const float*> out;
    out.reserve(side.size());
    for (const std::vector<float>& v : side) out.push_back(v.data());
    if (out.size() > kMaxSide) {
      for (size_t i = 0; i < kMaxSide; ++i) std::swap(out[i], out[i + static_cast<size_t>(rng.Below(out.size() - i))]);
      out.resize(kMaxSide);
    }
    return out;
  };
  std::vector<const float*> pooled = subsample(x);
  const size_t n = pooled.size();
  const std::vector<const float*> from_current = subsample(y);
  const size_t m = from_current.size();
  result.reference_n = n;
  result.current_n = m;
  pooled.insert(pooled.end(), from_current.begin(), from_current.end());
  const size_t size = n + m;
  const size_t dim = reference.dim();

  // Squared distances of every pair, and the distances themselves for the median.
  std::vector<double> d2(size * size, 0.0);
  std::vector<double> distances;
  distances.reserve(size * (size - 1) / 2);
  for (size_t i = 0; i < size; ++i) {
    for (size_t j = i + 1; j < size; ++j) {
      double s = 0;
      for (size_t c = 0; c < dim; ++c) {
        const double diff = static_cast<double>(pooled[i][c]) - static_cast<double>(pooled[j][c]);
        s += diff * diff;
      }
      d2[i * size + j] = s;
      d2[j * size + i] = s;
      distances.push_back(std::sqrt(s));
    }
  }
  const size_t mid = distances.size() / 2;
  std::nth_element(distances.begin(), distances.begin() + static_cast<std::ptrdiff_t>(mid), distances.end());
  double sigma = distances[mid];
  if (distances.size() % 2 == 0) {
    const double lower = *std::max_element(distances.begin(), distances.begin() + static_cast<std::ptrdiff_t>(mid));
    sigma = (sigma + lower) / 2;
  }
  if (sigma == 0) {
    double sum = 0;
    size_t nonzero = 0;
    for (double d : distances) {
      if (d > 0) {
        sum += d;
        ++nonzero;
      }
    }
    if (nonzero == 0) {
      result.mmd2 = 0;
      result.p_value = 1;
      result.bandwidth = 0;
      return result;
    }
    sigma = sum / static_cast<double>(nonzero);
  }
  result.bandwidth = sigma;
  const double scale = -1.0 / (2 * sigma * sigma);
  for (double& v : d2) v = std::exp(v * scale);  // the diagonal's 0 becomes exactly 1
  const KernelMatrix kernel(std::move(d2), size);

  // The smaller side is the group whose within-sum each permutation adds up.
  const size_t group_size = std::min(n, m);
  std::vector<size_t> group(group_size);
  std::iota(group.begin(), group.end(), n <= m ? 0 : n);
  const double observed = kernel.Mmd2(group);
  result.mmd2 = observed;

  std::vector<size_t> order(size);
  std::iota(order.begin(), order.end(), 0);
  int at_least = 0;
  for (int p = 0; p < permutations; ++p) {
    // A uniformly random group_size-subset: the first group_size places of a partial shuffle.
    for (size_t i = 0; i < group_size; ++i) {
      const size_t j = i + static_cast<size_t>(rng.Below(size - i));
      std::swap(order[i], order[j]);
    }
    group.assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(group_size));
    std::sort(group.begin(), group.end());
    if (kernel.Mmd2(group) >= observed) ++at_least;
  }
  result.p_value = static_cast<double>(at_least + 1) / static_cast<double>(permutations + 1);
  return result;
}

}  // namespace tyto::stats
