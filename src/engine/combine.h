// SPDX-License-Identifier: Apache-2.0
// Fused reductions over vocab-sharded logits: per-device partials, exact merges.
//
// Design goals: a caller can pick tokens (argmax, top-k) or normalise
// (logsumexp) without moving any device's V/D logits; only k candidates or one
// (max, sum) pair per row cross the mesh. Merging the per-device partials gives
// the same answer as reducing the concatenated logits.
// Non-goals: sampling itself (temperature, top-p) belongs to the caller.
//
// Ordering, used everywhere: a larger value wins; equal values are broken by
// the smaller token id (numpy's argmax convention); NaN loses to every number.
#ifndef LMHEAD_ENGINE_COMBINE_H_
#define LMHEAD_ENGINE_COMBINE_H_

#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

namespace lmhead {

// One token of a top-k list. POD so a list can be sent as bytes between ranks.
struct Candidate {
  float value;
  int32_t pad_ = 0;  // Explicit padding keeps the wire format deterministic.
  int64_t token_id;
};
static_assert(sizeof(Candidate) == 16);

// True when `a` ranks strictly before `b` in the ordering above.
bool RanksBefore(const Candidate& a, const Candidate& b);

// The k best entries of `row`, best first. Entry j has token id id_offset + j.
// Returns min(k, row.size()) candidates.
std::vector<Candidate> SelectTopK(std::span<const float> row, int64_t id_offset, int k);

// The k best of several best-first lists (one per device), best first.
std::vector<Candidate> MergeTopK(std::span<const std::vector<Candidate>> lists, int k);

// log(sum(exp(x))) of a row, kept as (max, sum of exp(x - max)) so partials merge
// without overflow. Accumulated in double: the merged result differs from a
// float64 reduction of the concatenated row only by summation order (~1e-16).
struct LogSumExpPartial {
  double max = -INFINITY;  // -inf for an empty row.
  double sum = 0.0;        // sum of exp(x - max).
};

LogSumExpPartial PartialLogSumExp(std::span<const float> row);
LogSumExpPartial MergeLogSumExp(const LogSumExpPartial& a, const LogSumExpPartial& b);
// The final value; -inf for an empty row, NaN if the row held a NaN, +inf if it held +inf.
double FinishLogSumExp(const LogSumExpPartial& partial);

}  // namespace lmhead

#endif  // LMHEAD_ENGINE_COMBINE_H_
