// SPDX-License-Identifier: Apache-2.0
// mesh_scatter's transfer schedule and ttnn.point_to_point hop routing (spec §3.12).
#ifndef LMHEAD_PLANNER_MESH_SCATTER_H_
#define LMHEAD_PLANNER_MESH_SCATTER_H_

#include <cstdint>

#include "lmhead/plan.h"
#include "lmhead/status.h"

namespace lmhead {

// point_to_point routing with Linear topology over 1D fabric (one_d_fabric_routing_vector): along
// the shared row (|delta col| hops, mesh dim 1) or the shared column (|delta row| hops, mesh dim
// 0). Fails, as TT throws, when sender and receiver share neither.
Result<PointToPointTransfer> RoutePointToPoint(MeshCoord sender, MeshCoord receiver);

// mesh_scatter(tensor, mesh_shape, scatter_idx=(from_row, None)) (utils/composite_ops.py
// @ 00b0fa3f): for each destination row r != from_row (ascending), for each column c (ascending),
// one transfer (from_row, c) -> (r, c). When `invoked`, fails as TT's assert does unless
// 0 <= from_row < rows; when not invoked (tt-v3 decode) the config is kept but has no transfers.
Result<MeshScatterPlan> PlanMeshScatter(const MeshShape& mesh_shape, int64_t from_row, bool invoked,
                                        bool sharded_input, CompatMode compat,
                                        std::string_view caller);

}  // namespace lmhead

#endif  // LMHEAD_PLANNER_MESH_SCATTER_H_
