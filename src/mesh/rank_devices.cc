// SPDX-License-Identifier: Apache-2.0
// SplitMesh: the devices each process holds.
#include "mesh/rank_devices.h"

#include <string>
#include <vector>

#include <fmt/format.h>

namespace lmhead {

Result<RankDevices> SplitMesh(int64_t num_mesh_devices, int process_rank, int num_processes) {
  if (num_processes < 1 || process_rank < 0 || process_rank >= num_processes) {
    return Status::InvalidArgument(fmt::format(
        "[SplitMesh] rank {} of {} is not a process of the group", process_rank, num_processes));
  }
  if (num_mesh_devices < 1 || num_mesh_devices % num_processes != 0) {
    std::vector<std::string> divisors;
    for (int64_t n = 1; n <= num_mesh_devices; ++n) {
      if (num_mesh_devices % n == 0) divisors.push_back(std::to_string(n));
    }
    return Status::InvalidArgument(fmt::format(
        "[SplitMesh] {} processes cannot share the mesh's {} devices equally; run with a number "
        "of ranks that divides {} ({})",
        num_processes, num_mesh_devices, num_mesh_devices, fmt::join(divisors, ", ")));
  }
  return RankDevices{process_rank, num_processes, num_mesh_devices};
}

}  // namespace lmhead
