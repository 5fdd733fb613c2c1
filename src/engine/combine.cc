// SPDX-License-Identifier: Apache-2.0
// Fused reductions over vocab-sharded logits (see combine.h for the ordering).
#include "engine/combine.h"

#include <algorithm>
#include <cmath>

namespace lmhead {

bool RanksBefore(const Candidate& a, const Candidate& b) {
  const bool a_nan = std::isnan(a.value);
  const bool b_nan = std::isnan(b.value);
  if (a_nan != b_nan) return b_nan;  // NaN loses to every number.
  if (!a_nan && a.value != b.value) return a.value > b.value;
  return a.token_id < b.token_id;
}

std::vector<Candidate> SelectTopK(std::span<const float> row, int64_t id_offset, int k) {
  const size_t count = std::min(static_cast<size_t>(std::max(k, 0)), row.size());
  std::vector<Candidate> all(row.size());
  for (size_t col_idx = 0; col_idx < row.size(); ++col_idx) {
    all[col_idx] = Candidate{row[col_idx], 0, id_offset + static_cast<int64_t>(col_idx)};
  }
  // partial_sort is O(n log k): for k <= 1024 of n = V/D this is negligible
  // next to the matmul that produced the row.
  std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(count), all.end(),
                    RanksBefore);
  all.resize(count);
  return all;
}

std::vector<Candidate> MergeTopK(std::span<const std::vector<Candidate>> lists, int k) {
  std::vector<Candidate> all;
  for (const std::vector<Candidate>& list : lists) all.insert(all.end(), list.begin(), list.end());
  const size_t count = std::min(static_cast<size_t>(std::max(k, 0)), all.size());
  std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(count), all.end(),
                    RanksBefore);
  all.resize(count);
  return all;
}

LogSumExpPartial PartialLogSumExp(std::span<const float> row) {
  LogSumExpPartial partial;
  for (float x : row) {
    if (std::isnan(x)) return LogSumExpPartial{NAN, NAN};
    partial.max = std::max(partial.max, static_cast<double>(x));
  }
  if (std::isinf(partial.max)) {
    // +inf dominates; an empty or all -inf row keeps sum 0 (logsumexp -inf).
    return partial.max > 0 ? LogSumExpPartial{INFINITY, 1.0} : partial;
  }
  for (float x : row) partial.sum += std::exp(static_cast<double>(x) - partial.max);
  return partial;
}

LogSumExpPartial MergeLogSumExp(const LogSumExpPartial& a, const LogSumExpPartial& b) {
  if (std::isnan(a.max) || std::isnan(b.max)) return LogSumExpPartial{NAN, NAN};
  if (a.sum == 0.0) return b;
  if (b.sum == 0.0) return a;
  if (std::isinf(a.max) || std::isinf(b.max)) return LogSumExpPartial{INFINITY, 1.0};
  const double max = std::max(a.max, b.max);
  return LogSumExpPartial{max, a.sum * std::exp(a.max - max) + b.sum * std::exp(b.max - max)};
}

double FinishLogSumExp(const LogSumExpPartial& partial) {
  if (std::isnan(partial.max)) return NAN;
  if (partial.sum == 0.0) return -INFINITY;
  if (std::isinf(partial.max)) return INFINITY;
  return partial.max + std::log(partial.sum);
}

}  // namespace lmhead
