// SPDX-License-Identifier: Apache-2.0
// Shared helpers for the planner tests: building meshes and planning with one call.
#ifndef LMHEAD_PLANNER_PLAN_TEST_UTIL_H_
#define LMHEAD_PLANNER_PLAN_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <string>

#include "lmhead/plan.h"

namespace lmhead {

inline const ModelDims kDeepSeekV3{7168, 129280, "deepseek-v3"};

inline MeshDesc MakeMesh(int64_t rows, int64_t cols,
                         const std::string& device = "wormhole_b0-galaxy") {
  Result<DeviceSpec> spec = FindDevicePreset(device);
  EXPECT_TRUE(spec.ok()) << spec.status().ToString();
  return MeshDesc{MeshShape{rows, cols}, spec.ok() ? *spec : DeviceSpec{}};
}

inline PlanOptions Options(CompatMode compat, PlanMode mode = PlanMode::kBoth,
                           int64_t seq_len = 1024, int64_t input_row_idx = 0) {
  PlanOptions options;
  options.compat = compat;
  options.mode = mode;
  options.seq_len = seq_len;
  options.input_row_idx = input_row_idx;
  return options;
}

inline CoreRange Range(int64_t x0, int64_t y0, int64_t x1, int64_t y1) {
  return {{x0, y0}, {x1, y1}};
}

inline ShardSpec Shard(std::vector<CoreRange> ranges, int64_t h, int64_t w) {
  return ShardSpec{CoreRangeSet{std::move(ranges)}, {h, w}, ShardOrientation::kRowMajor};
}

}  // namespace lmhead

#endif  // LMHEAD_PLANNER_PLAN_TEST_UTIL_H_
