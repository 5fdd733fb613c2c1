// SPDX-License-Identifier: Apache-2.0
// mesh_scatter step by step, as utils/composite_ops.py runs it (spec §3.12).
#include "mesh/mesh_scatter.h"

#include <fmt/format.h>

namespace lmhead {

Status MeshScatter(MeshDevice& mesh, const MeshTensor& tensor, const MeshScatterPlan& plan) {
  if (!plan.invoked) return Status::Ok();
  if (!(plan.mesh_shape == mesh.shape())) {
    return Status::InvalidArgument(fmt::format(
        "[mesh_scatter] plan is for a {}x{} mesh, the device is {}x{}; re-plan for this mesh",
        plan.mesh_shape.rows, plan.mesh_shape.cols, mesh.shape().rows, mesh.shape().cols));
  }
  const MemoryConfig& old_config = tensor.spec.memory_config;
  const bool sharded = old_config.memory_layout != TensorMemoryLayout::kInterleaved;
  // Step 3: point_to_point does not take sharded tensors; go through the
  // interleaved config of the same buffer type.
  MeshTensor work = tensor;
  if (sharded) {
    MemoryConfig interleaved{TensorMemoryLayout::kInterleaved, old_config.buffer_type,
                             std::nullopt};
    LMHEAD_ASSIGN_OR_RETURN(work, mesh.ToMemoryConfig(tensor, interleaved));
  }
  // Steps 4-5: the transfers in TT's call order (row phase; the LM head never
  // runs the column phase).
  for (const PointToPointTransfer& transfer : plan.transfers) {
    LMHEAD_RETURN_IF_ERROR(mesh.PointToPoint(work, transfer));
  }
  // Across processes the sends are asynchronous; the op ends when they landed.
  LMHEAD_RETURN_IF_ERROR(mesh.Synchronize());
  // Step 6: back to the original layout, into the original buffers.
  if (sharded) {
    LMHEAD_ASSIGN_OR_RETURN(MeshTensor restored, mesh.ToMemoryConfig(work, old_config));
    LMHEAD_RETURN_IF_ERROR(mesh.Deallocate(work));
    LMHEAD_RETURN_IF_ERROR(mesh.Copy(restored, tensor));
    LMHEAD_RETURN_IF_ERROR(mesh.Deallocate(restored));
  }
  return Status::Ok();
}

}  // namespace lmhead
