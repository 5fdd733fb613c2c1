// SPDX-License-Identifier: Apache-2.0
// RankDevices: which devices of the mesh one process holds (shared/STYLE.md section 5.12).
#ifndef LMHEAD_MESH_RANK_DEVICES_H_
#define LMHEAD_MESH_RANK_DEVICES_H_

#include <cstdint>

#include "lmhead/status.h"

namespace lmhead {

// Process `process_rank` of `num_processes` holds devices
// [first_device(), end_device()): D/N consecutive devices in row-major order,
// so mesh rows stay together on as few processes as possible. Plain data,
// passed explicitly; nothing about ranks is global.
struct RankDevices {
  int process_rank = 0;
  int num_processes = 1;
  int64_t num_mesh_devices = 1;

  int64_t devices_per_rank() const { return num_mesh_devices / num_processes; }
  int64_t first_device() const { return process_rank * devices_per_rank(); }
  int64_t end_device() const { return first_device() + devices_per_rank(); }
  int64_t num_local_devices() const { return devices_per_rank(); }
  bool IsLocal(int64_t device_idx) const {
    return device_idx >= first_device() && device_idx < end_device();
  }
  int OwnerOf(int64_t device_idx) const {
    return static_cast<int>(device_idx / devices_per_rank());
  }
  // 0-based position of a local device among this process's devices.
  int64_t LocalIndex(int64_t device_idx) const { return device_idx - first_device(); }
  bool distributed() const { return num_processes > 1; }
};

// The devices of `process_rank`. InvalidArgument unless num_processes divides
// the mesh's devices.
Result<RankDevices> SplitMesh(int64_t num_mesh_devices, int process_rank, int num_processes);

}  // namespace lmhead

#endif  // LMHEAD_MESH_RANK_DEVICES_H_
