// SPDX-License-Identifier: Apache-2.0
// Tests: every item runs exactly once, across repeated Run() calls and pool sizes.
#include "base/thread_pool.h"

#include <atomic>

#include <gtest/gtest.h>

namespace lmhead {
namespace {

TEST(ThreadPoolTest, EveryItemRunsOnceAcrossManyCalls) {
  for (int num_threads : {1, 2, 5}) {
    ThreadPool pool(num_threads);
    EXPECT_EQ(pool.num_threads(), num_threads);
    for (int64_t num_items : {0, 1, 3, 1000}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(num_items));
      std::atomic<int> bad_thread{0};
      pool.Run(num_items, [&](int thread_idx, int64_t item) {
        if (thread_idx < 0 || thread_idx >= num_threads) bad_thread++;
        hits[static_cast<size_t>(item)]++;
      });
      for (auto& hit : hits) EXPECT_EQ(hit.load(), 1);
      EXPECT_EQ(bad_thread.load(), 0);
    }
  }
}

}  // namespace
}  // namespace lmhead
