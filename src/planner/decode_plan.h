// SPDX-License-Identifier: Apache-2.0
// The decode path: LMHead.decode_model_config (spec §3.9) and what forward_decode checks (§3.11).
#ifndef LMHEAD_PLANNER_DECODE_PLAN_H_
#define LMHEAD_PLANNER_DECODE_PLAN_H_

#include <string>

#include "lmhead/plan.h"
#include "lmhead/status.h"

namespace lmhead {

// The decode plan in options.compat semantics. In tt-v3/tt-v4 mode it fails exactly where TT's
// code fails, in TT's order (config asserts, then mesh_scatter in V4, then TTNN's matmul checks).
// Seed-mode precondition: CheckWeightDims passed.
Result<DecodePlan> PlanDecode(const ModelDims& model, const MeshDesc& mesh,
                              const PlanOptions& options);

// Divisors of `n` that are <= max, as "1, 5, 101", for messages that list valid core counts.
std::string ListDivisorsUpTo(int64_t n, int64_t max);

}  // namespace lmhead

#endif  // LMHEAD_PLANNER_DECODE_PLAN_H_
