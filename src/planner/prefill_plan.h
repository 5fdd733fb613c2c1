// SPDX-License-Identifier: Apache-2.0
// The prefill path: prefill_model_config, _get_prefill_pc and forward_prefill (spec §3.10-3.11).
#ifndef LMHEAD_PLANNER_PREFILL_PLAN_H_
#define LMHEAD_PLANNER_PREFILL_PLAN_H_

#include "lmhead/plan.h"
#include "lmhead/status.h"

namespace lmhead {

// The prefill plan for options.seq_len in options.compat semantics: the program config comes
// from the full (padded) seq_len in seed and tt-v3 mode, from min(S, 1024) in tt-v4 mode. S > 1024
// not a multiple of 1024 is padded in seed mode and TT's reshape failure in tt-v3/tt-v4 mode.
// Precondition: options.seq_len >= 1.
Result<PrefillPlan> PlanPrefill(const ModelDims& model, const MeshDesc& mesh,
                                const PlanOptions& options);

}  // namespace lmhead

#endif  // LMHEAD_PLANNER_PREFILL_PLAN_H_
