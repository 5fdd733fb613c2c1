// SPDX-License-Identifier: Apache-2.0
// The compute probes: which loop runs under the kernel cap, and the repetition loop they share.
#include "engine/compute_probe.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/cpu_features.h"

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

namespace {

// What the kernels may use: the CPU's features under $LMHEAD_KERNELS (none
// when it names no level; `lmhead info` reports that).
CpuFeatures KernelFeatures() {
  const Result<CpuFeatures> cpu = CpuFeaturesForKernels();
  return cpu.ok() ? *cpu : CpuFeatures{};
}

}  // namespace

ComputeProbe MeasureAmxBf16Peak(int num_threads, int repetitions) {
  if (!KernelFeatures().Has(kCpuAmxBf16)) return {};
  return MeasureAmxBf16Loop(num_threads, repetitions);
}

ComputeProbe MeasureAvx512Bf16Peak(int num_threads, int repetitions) {
  if (!KernelFeatures().Has(kCpuAvx512Bf16)) return {};
  return MeasureAvx512Bf16Loop(num_threads, repetitions);
}

ComputeProbe MeasureFp32FmaPeak(int num_threads, int repetitions) {
  const CpuFeatures cpu = KernelFeatures();
  if (cpu.Has(kCpuAvx512)) return MeasureFmaAvx512Loop(num_threads, repetitions);
  if (cpu.Has(kCpuAvx2)) return MeasureFmaAvx2Loop(num_threads, repetitions);
  return {};
}

}  // namespace lmhead
