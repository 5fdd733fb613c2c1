// SPDX-License-Identifier: Apache-2.0
// The per-device weight: vocab split over the mesh, DRAM width-sharded over banks (§3.5, §3.13).
#ifndef LMHEAD_PLANNER_WEIGHTS_PLAN_H_
#define LMHEAD_PLANNER_WEIGHTS_PLAN_H_

#include "lmhead/plan.h"
#include "lmhead/status.h"

namespace lmhead {

// Checks that the weight can be split and sharded: V % D == 0 (shard_tensor_to_mesh_mapper splits
// into equal slices) and H % 32 == 0 (the DRAM shard [H, w] of a TILE tensor is tile aligned).
Status CheckWeightDims(const ModelDims& model, const MeshDesc& mesh, CompatMode compat);

// Precondition: CheckWeightDims passed.
WeightPlan PlanWeights(const ModelDims& model, const MeshDesc& mesh);

}  // namespace lmhead

#endif  // LMHEAD_PLANNER_WEIGHTS_PLAN_H_
