// SPDX-License-Identifier: Apache-2.0
// ParallelFor: base/ThreadPool plus first-error propagation and early stop.
#include "convert/parallel.h"

#include <algorithm>
#include <atomic>
#include <mutex>

#include "base/thread_pool.h"

namespace lmhead {

int ResolveThreads(int requested, int64_t num_items) {
  int threads = requested > 0 ? requested : DefaultThreadCount();
  if (num_items > 0 && threads > num_items) threads = static_cast<int>(num_items);
  return threads;
}

Status ParallelFor(int num_threads, int64_t num_items,
                   const std::function<Status(int thread_idx, int64_t item)>& fn) {
  std::atomic<bool> failed{false};
  std::mutex mutex;
  Status first_error;
  ThreadPool pool(ResolveThreads(num_threads, num_items));
  pool.Run(num_items, [&](int thread_idx, int64_t item) {
    if (failed.load(std::memory_order_relaxed)) return;  // Drain quickly after an error.
    Status status = fn(thread_idx, item);
    if (status.ok()) return;
    std::lock_guard<std::mutex> lock(mutex);
    if (first_error.ok()) first_error = std::move(status);
    failed.store(true, std::memory_order_relaxed);
  });
  return first_error;
}

}  // namespace lmhead
