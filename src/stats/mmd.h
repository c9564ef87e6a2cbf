// Embedding drift: the maximum mean discrepancy (MMD) two-sample test between a reference and a
// current sample of embedding vectors (VectorReservoir), with a permutation p-value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "stats/vector_reservoir.h"

namespace tyto::stats {

struct MmdResult {
  double mmd2 = 0;       // unbiased estimate of MMD^2 (can be slightly negative)
  double p_value = 1;    // NaN when not computed
  double bandwidth = 0;  // the RBF kernel's sigma
  size_t reference_n = 0;
  size_t current_n = 0;
  // Why the test was not computed ("reference has fewer than 2 vectors"), or "" when it was.
  std::string note;
};

// Gretton et al., "A Kernel Two-Sample Test" (JMLR 2012): kernel k(x, y) = exp(-|x - y|^2 /
// (2 sigma^2)), sigma = the median Euclidean distance over all pairs of the pooled sample (the
// median heuristic; the mean of the two middle distances for an even number of pairs; if that
// is 0, the mean of the nonzero distances). MMD^2_u = sum_{i != j} k(x_i, x_j) / (n (n-1)) +
// sum_{i != j} k(y_i, y_j) / (m (m-1)) - 2 sum_{i,j} k(x_i, y_j) / (n m). The p-value is
// ((permutations whose MMD^2_u >= the observed) + 1) / (permutations + 1), each permutation a
// random relabelling of the pooled sample into groups of n and m drawn from a SplitMix64 seeded
// with `seed`, so the result is reproducible. Cost: one (n+m)^2 kernel matrix (dim operations
// per entry) and one matrix-vector product per permutation; about 512^2 * (dim + permutations)
// multiply-adds for two full reservoirs of 256. Needs at least 2 vectors on each side and equal
// dimensions; otherwise p_value is NaN and note says why. All vectors identical: MMD^2 = 0,
// p-value 1. permutations < 1 is raised to 1. A side of more than 1024 vectors (a reservoir
// with a capacity above the default 256) is cut to 1024 chosen at random, which bounds the
// kernel matrix to 2048^2 entries; reference_n and current_n are the sizes used.
MmdResult MmdTest(const VectorReservoir& reference, const VectorReservoir& current, int permutations = 200,
                  uint64_t seed = 1);

}  // namespace tyto::stats
