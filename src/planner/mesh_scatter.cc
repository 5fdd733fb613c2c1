// SPDX-License-Identifier: Apache-2.0
// mesh_scatter's transfer schedule and point_to_point hop routing.
#include "planner/mesh_scatter.h"

#include <fmt/format.h>

#include <cstdlib>

#include "planner/compat_error.h"

namespace lmhead {

Result<PointToPointTransfer> RoutePointToPoint(MeshCoord sender, MeshCoord receiver) {
  PointToPointTransfer transfer{sender, receiver, 0, 0, true};
  if (sender.row == receiver.row) {
    transfer.mesh_dim = 1;
    transfer.hops = std::abs(receiver.col - sender.col);
    transfer.forward = receiver.col >= sender.col;
  } else if (sender.col == receiver.col) {
    transfer.mesh_dim = 0;
    transfer.hops = std::abs(receiver.row - sender.row);
    transfer.forward = receiver.row >= sender.row;
  } else {
    return Status::InvalidArgument(fmt::format(
        "[point_to_point] sender ({}, {}) and receiver ({}, {}) share neither a row nor a "
        "column; Linear topology over 1D fabric cannot route them",
        sender.row, sender.col, receiver.row, receiver.col));
  }
  return transfer;
}

Result<MeshScatterPlan> PlanMeshScatter(const MeshShape& mesh_shape, int64_t from_row, bool invoked,
                                        bool sharded_input, CompatMode compat,
                                        std::string_view caller) {
  MeshScatterPlan plan;
  plan.mesh_shape = mesh_shape;
  plan.from_row = from_row;
  plan.invoked = invoked;
  plan.converts_sharded_input = invoked && sharded_input;
  if (!invoked) return plan;
  if (from_row < 0 || from_row >= mesh_shape.rows) {
    return PlanError(
        compat, fmt::format("{} mesh_scatter", caller),
        fmt::format("assert 0 <= from_row < {} fails (input_row_idx {} on the {}x{} mesh)",
                    mesh_shape.rows, from_row, mesh_shape.rows, mesh_shape.cols),
        fmt::format("use --input-row-idx between 0 and {}", mesh_shape.rows - 1));
  }
  // Destination row ascending is the outer loop, column ascending the inner one. The column
  // phase (from_col) never runs: LMHead passes scatter_idx=(input_row_idx, None).
  for (int64_t row = 0; row < mesh_shape.rows; ++row) {
    if (row == from_row) continue;
    for (int64_t col = 0; col < mesh_shape.cols; ++col) {
      LMHEAD_ASSIGN_OR_RETURN(PointToPointTransfer transfer,
                              RoutePointToPoint(MeshCoord{from_row, col}, MeshCoord{row, col}));
      plan.transfers.push_back(transfer);
    }
  }
  return plan;
}

}  // namespace lmhead
