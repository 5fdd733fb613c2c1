// SPDX-License-Identifier: Apache-2.0
// Tests: every item runs exactly once, across repeated Run() calls and pool sizes; pinning.
#include "base/thread_pool.h"

#include <sched.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

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

std::vector<int> CpusOf(const cpu_set_t& set) {
  std::vector<int> cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  }
  return cpus;
}

std::vector<int> CpusOfThisThread() {
  cpu_set_t set;
  CPU_ZERO(&set);
  EXPECT_EQ(sched_getaffinity(0, sizeof(set), &set), 0);
  return CpusOf(set);
}

// A pool that fits the allowed CPUs pins worker i to the i-th of them and
// leaves the caller's thread as it was; a larger pool pins nothing.
TEST(ThreadPoolTest, WorkersArePinnedWhenThePoolFitsTheCpus) {
  const std::vector<int> allowed = CpusOfThisThread();
  if (allowed.size() < 2) GTEST_SKIP() << "one CPU: nothing to pin";
  const int num_threads = static_cast<int>(std::min<size_t>(allowed.size(), 4));
  ThreadPool pool(num_threads);
  EXPECT_TRUE(pool.pinned());
  std::vector<std::vector<int>> seen(static_cast<size_t>(num_threads));
  std::atomic<int> arrived{0};
  // Each thread records its CPUs on its first item, then waits (bounded) for
  // every other thread, so that every thread runs an item.
  pool.Run(num_threads, [&](int thread_idx, int64_t) {
    seen[static_cast<size_t>(thread_idx)] = CpusOfThisThread();
    arrived++;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (arrived.load() < num_threads && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
  });
  ASSERT_EQ(arrived.load(), num_threads);
  EXPECT_EQ(seen[0], allowed);
  for (int thread_idx = 1; thread_idx < num_threads; ++thread_idx) {
    EXPECT_EQ(seen[static_cast<size_t>(thread_idx)],
              std::vector<int>{allowed[static_cast<size_t>(thread_idx)]})
        << "worker " << thread_idx;
  }
  EXPECT_FALSE(ThreadPool(static_cast<int>(allowed.size()) + 1).pinned());
  EXPECT_FALSE(ThreadPool(1).pinned());
}

// num_threads = 0 means one thread per CPU the caller may run on (what
// taskset or an MPI launcher's binding left it), not one per CPU of the
// machine.
TEST(ThreadPoolTest, ZeroThreadsMeansOnePerAllowedCpu) {
  const std::vector<int> allowed = CpusOfThisThread();
  EXPECT_EQ(ThreadPool(0).num_threads(), static_cast<int>(allowed.size()));
  if (allowed.size() < 2) GTEST_SKIP() << "one CPU: cannot bind to fewer";
  cpu_set_t saved;
  ASSERT_EQ(sched_getaffinity(0, sizeof(saved), &saved), 0);
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(allowed[0], &one);
  ASSERT_EQ(sched_setaffinity(0, sizeof(one), &one), 0);
  const int pool_threads = ThreadPool(0).num_threads();
  const int default_threads = DefaultThreadCount();
  ASSERT_EQ(sched_setaffinity(0, sizeof(saved), &saved), 0);
  EXPECT_EQ(pool_threads, 1);
  EXPECT_EQ(default_threads, 1);
}

// A pool given its CPUs takes one thread per CPU and pins worker i to the
// i-th of them, in the order given.
TEST(ThreadPoolTest, APoolOverGivenCpusPinsItsWorkersToThem) {
  const std::vector<int> allowed = CpusOfThisThread();
  if (allowed.size() < 2) GTEST_SKIP() << "one CPU: nothing to pin";
  ThreadPool pool(0, {allowed[1], allowed[0]});
  ASSERT_EQ(pool.num_threads(), 2);
  EXPECT_TRUE(pool.pinned());
  std::vector<int> worker_cpus;
  std::atomic<bool> worker_ran{false};
  pool.Run(2, [&](int thread_idx, int64_t) {
    if (thread_idx == 1) {
      worker_cpus = CpusOfThisThread();
      worker_ran = true;
    }
    // Wait (bounded) for the worker, so that it takes one of the two items.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!worker_ran.load() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
  });
  ASSERT_TRUE(worker_ran.load());
  EXPECT_EQ(worker_cpus, std::vector<int>{allowed[0]});
}

}  // namespace
}  // namespace lmhead
