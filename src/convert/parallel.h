// SPDX-License-Identifier: Apache-2.0
// ParallelFor: runs independent Status-returning items on a ThreadPool, stopping at the first
// error.
#ifndef LMHEAD_CONVERT_PARALLEL_H_
#define LMHEAD_CONVERT_PARALLEL_H_

#include <cstdint>
#include <functional>

#include "lmhead/status.h"

namespace lmhead {

// Resolves a thread-count option: 0 means DefaultThreadCount(); the result
// is at least 1 and at most `num_items` (when that is positive).
int ResolveThreads(int requested, int64_t num_items);

// Calls fn(thread_idx, item) for every item in [0, num_items) on `num_threads`
// threads, items handed out in increasing order. After the first error no new
// item starts; that error is returned. Items are independent, so the result
// does not depend on the thread count.
Status ParallelFor(int num_threads, int64_t num_items,
                   const std::function<Status(int thread_idx, int64_t item)>& fn);

}  // namespace lmhead

#endif  // LMHEAD_CONVERT_PARALLEL_H_
