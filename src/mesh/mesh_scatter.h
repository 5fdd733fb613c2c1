// SPDX-License-Identifier: Apache-2.0
// mesh_scatter: the composite op of utils/composite_ops.py (spec §3.12) on a MeshDevice.
#ifndef LMHEAD_MESH_MESH_SCATTER_H_
#define LMHEAD_MESH_MESH_SCATTER_H_

#include "lmhead/plan.h"
#include "lmhead/status.h"
#include "mesh/mesh_device.h"

namespace lmhead {

// mesh_scatter(tensor, mesh_shape, scatter_idx=(from_row, None)): every device
// of each column ends up holding what the device of row from_row held. A
// sharded tensor goes through interleaved and back, as p2p cannot send sharded
// tensors; the values land in the original buffers (ttnn.copy), so `tensor`
// stays valid. Does nothing when plan.invoked is false (tt-v3 decode).
// InvalidArgument when the plan does not fit the mesh or a buffer was freed.
Status MeshScatter(MeshDevice& mesh, const MeshTensor& tensor, const MeshScatterPlan& plan);

}  // namespace lmhead

#endif  // LMHEAD_MESH_MESH_SCATTER_H_
