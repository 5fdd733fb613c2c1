// SPDX-License-Identifier: Apache-2.0
// GatherDeviceBlocks: the combine's data movement when the mesh spans processes.
#ifndef LMHEAD_MESH_DEVICE_GATHER_H_
#define LMHEAD_MESH_DEVICE_GATHER_H_

#include <cstddef>
#include <cstdint>
#include <span>

#include "lmhead/plan.h"
#include "lmhead/status.h"
#include "mesh/communicator_impl.h"
#include "mesh/mesh_device.h"
#include "mesh/rank_devices.h"

namespace lmhead {

// Every device holds one block of `block_bytes` per output row: V/D logits,
// k top-k candidates or one logsumexp partial. Each process passes its own
// devices' blocks, `local` = [rows][local devices][block_bytes]; rank 0 gets
// `out` = [rows][all devices][block_bytes], row-major device order (other
// ranks pass an empty `out`). Two stages, as TT's all_gather along
// cluster_axis 1 and then across rows: the blocks of each mesh row go to the
// process holding the row's first device, which sends the assembled row to
// rank 0. Only rank 0 consumes the result, so no block is replicated.
// Bounded by the communicator's timeout; `counters` adds what this process sent and received.
Status GatherDeviceBlocks(CommunicatorImpl& comm, const RankDevices& ranks, const MeshShape& shape,
                          int64_t rows, size_t block_bytes, std::span<const std::byte> local,
                          std::span<std::byte> out, NetworkTraffic& counters);

}  // namespace lmhead

#endif  // LMHEAD_MESH_DEVICE_GATHER_H_
