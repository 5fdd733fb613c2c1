// SPDX-License-Identifier: Apache-2.0
// What the compute-peak probes share: timing a register-resident loop on every thread.
#ifndef LMHEAD_ENGINE_COMPUTE_PROBE_H_
#define LMHEAD_ENGINE_COMPUTE_PROBE_H_

#include <functional>

#include "lmhead/machine.h"

namespace lmhead {

// Runs `run` on every thread of a pool of `num_threads` (<= 0: all),
// repetitions + 1 times (the first warms up), and reports the flop rate,
// given that one call of `run` does `flops_per_run` flop.
ComputeProbe TimeComputePeak(int num_threads, int repetitions, double flops_per_run,
                             const std::function<void()>& run);

// The register-resident loops behind machine.h's peaks, each in a file
// compiled for its instruction set (amx_probe.cc, avx512_bf16_probe.cc,
// fma_probe_avx512.cc, fma_probe_avx2.cc): call only where the CPU has it,
// as compute_probe.cc does.
ComputeProbe MeasureAmxBf16Loop(int num_threads, int repetitions);
ComputeProbe MeasureAvx512Bf16Loop(int num_threads, int repetitions);
ComputeProbe MeasureFmaAvx512Loop(int num_threads, int repetitions);
ComputeProbe MeasureFmaAvx2Loop(int num_threads, int repetitions);

}  // namespace lmhead

#endif  // LMHEAD_ENGINE_COMPUTE_PROBE_H_
