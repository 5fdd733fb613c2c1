// SPDX-License-Identifier: Apache-2.0
// ThreadPool: a fixed set of worker threads for the hot path (no spawn per call).
#ifndef LMHEAD_BASE_THREAD_POOL_H_
#define LMHEAD_BASE_THREAD_POOL_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

#include "lmhead/status.h"
#include "lmhead/threads.h"

namespace lmhead {

// InvalidArgument, prefixed with `what` (e.g. "[Convert]"), unless
// 0 <= num_threads <= kMaxThreads: the check of every num_threads option.
Status CheckThreadCount(int num_threads, std::string_view what);

// The CPUs the calling thread may run on (sched_getaffinity), in increasing
// order: what taskset, a cpuset or an MPI launcher's binding left it.
std::vector<int> AllowedCpus();

// What num_threads = 0 means: one thread per allowed CPU (at least 1), not
// per CPU of the machine, so a process bound to some cores does not run more
// threads than it has cores.
int DefaultThreadCount();

// Runs fn(thread_idx, item) for items [0, num_items) on num_threads threads:
// the caller's thread is thread 0, so a pool of 1 spawns nothing. Items are
// handed out from a shared atomic counter in increasing order (no lock per
// item), so uneven items balance themselves. Thread-compatible: one Run() at
// a time.
//
// When the pool fits its CPUs (by default AllowedCpus()), worker i is pinned
// to the i-th of them, and the first is left to the caller's thread: no two
// pool threads share a core, and a worker's caches stay warm between calls.
// A larger pool is not pinned (oversubscribed).
class ThreadPool {
 public:
  // num_threads <= 0 means one thread per CPU of `cpus`; empty `cpus` means
  // AllowedCpus().
  explicit ThreadPool(int num_threads, std::vector<int> cpus = {});
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return static_cast<int>(workers_.size()) + 1; }
  bool pinned() const { return pinned_; }

  // Returns when every item has run. fn must not throw.
  void Run(int64_t num_items, const std::function<void(int thread_idx, int64_t item)>& fn);

 private:
  void WorkerLoop(int thread_idx, int cpu);
  void Drain(int thread_idx);

  std::vector<std::thread> workers_;
  bool pinned_ = false;
  std::mutex mutex_;
  std::condition_variable work_ready_;
  std::condition_variable work_done_;
  // fn_ and num_items_ are written under mutex_ before generation_ is bumped
  // and read by the workers only after they saw the bump.
  const std::function<void(int, int64_t)>* fn_ = nullptr;
  int64_t num_items_ = 0;
  std::atomic<int64_t> next_item_{0};
  int pending_workers_ = 0;  // Guarded by mutex_: workers still in this generation.
  uint64_t generation_ = 0;  // Guarded by mutex_; bumped by each Run().
  bool stop_ = false;        // Guarded by mutex_.
};

}  // namespace lmhead

#endif  // LMHEAD_BASE_THREAD_POOL_H_
