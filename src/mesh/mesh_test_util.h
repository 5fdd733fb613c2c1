// SPDX-License-Identifier: Apache-2.0
// Test helper: run a function as every rank of an in-process group, one thread per rank.
#ifndef LMHEAD_MESH_MESH_TEST_UTIL_H_
#define LMHEAD_MESH_MESH_TEST_UTIL_H_

#include <functional>
#include <memory>
#include <thread>
#include <vector>

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

}  // namespace lmhead

#endif  // LMHEAD_MESH_MESH_TEST_UTIL_H_
