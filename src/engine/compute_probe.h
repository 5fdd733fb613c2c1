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

}  // namespace lmhead

#endif  // LMHEAD_ENGINE_COMPUTE_PROBE_H_
