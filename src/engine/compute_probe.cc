// SPDX-License-Identifier: Apache-2.0
// TimeComputePeak: the repetition loop of the AMX and AVX512-BF16 probes.
#include "engine/compute_probe.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "base/thread_pool.h"

namespace lmhead {

ComputeProbe TimeComputePeak(int num_threads, int repetitions, double flops_per_run,
                             const std::function<void()>& run) {
  ThreadPool pool(num_threads);
  ComputeProbe probe;
  probe.num_threads = pool.num_threads();
  std::vector<double> rates;
  for (int rep = 0; rep <= repetitions; ++rep) {
    const auto start = std::chrono::steady_clock::now();
    pool.Run(probe.num_threads, [&](int, int64_t) { run(); });
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (rep > 0) rates.push_back(flops_per_run * probe.num_threads / seconds / 1e12);
  }
  std::sort(rates.begin(), rates.end());
  probe.available = !rates.empty();
  probe.median_tflops = rates.empty() ? 0 : rates[rates.size() / 2];
  probe.best_tflops = rates.empty() ? 0 : rates.back();
  probe.repetitions = static_cast<int>(rates.size());
  return probe;
}

}  // namespace lmhead
