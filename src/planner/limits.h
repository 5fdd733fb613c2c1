// SPDX-License-Identifier: Apache-2.0
// Bounds on planner inputs, shared by the parsers and Plan()'s own input checks.
#ifndef LMHEAD_PLANNER_LIMITS_H_
#define LMHEAD_PLANNER_LIMITS_H_

#include <cstdint>

namespace lmhead {

// Far above any TT system (a Galaxy is 4x8 chips, the largest grid Blackhole's 14x10, DeepSeek's
// longest prefill 131072 rows); they keep plans printable and every product far below 2^62.
inline constexpr int64_t kMaxMeshDim = 256;
inline constexpr int64_t kMaxMeshDevices = 1024;
inline constexpr int64_t kMaxCoreGridDim = 64;
inline constexpr int64_t kMaxDramBanks = 64;
inline constexpr int64_t kMaxModelDim = int64_t{1} << 31;  // TTNN shapes are uint32.
inline constexpr int64_t kMaxSeqLen = int64_t{1} << 31;

}  // namespace lmhead

#endif  // LMHEAD_PLANNER_LIMITS_H_
