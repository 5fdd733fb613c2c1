// SPDX-License-Identifier: Apache-2.0
// Test helpers: every rank of an in-process group on its own thread; DeepSeek-V3 plans.
#ifndef LMHEAD_MESH_MESH_TEST_UTIL_H_
#define LMHEAD_MESH_MESH_TEST_UTIL_H_

#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "lmhead/plan.h"
#include "mesh/communicator_impl.h"

namespace lmhead {

// Calls fn(rank, communicator) on `size` threads joined by in-process
// mailboxes and returns when every rank returned.
inline void RunOnRanks(int size, double timeout_seconds,
                       const std::function<void(int, std::shared_ptr<CommunicatorImpl>)>& fn) {
  std::vector<std::shared_ptr<CommunicatorImpl>> group = MakeInProcessGroup(size, timeout_seconds);
  std::vector<std::thread> threads;
  for (int rank = 0; rank < size; ++rank) {
    threads.emplace_back(fn, rank, group[static_cast<size_t>(rank)]);
  }
  for (std::thread& thread : threads) thread.join();
}

// DeepSeek-V3's plan on a Wormhole Galaxy mesh of `shape`, input on row
// input_row_idx.
inline LmHeadPlan DeepSeekPlan(MeshShape shape, int64_t input_row_idx) {
  MeshDesc mesh{shape, *FindDevicePreset("wormhole_b0-galaxy")};
  PlanOptions options;
  options.input_row_idx = input_row_idx;
  auto plan = Plan(*FindModelPreset("deepseek-v3"), mesh, options);
  EXPECT_TRUE(plan.ok()) << plan.status().ToString();
  return *plan;
}

}  // namespace lmhead

#endif  // LMHEAD_MESH_MESH_TEST_UTIL_H_
