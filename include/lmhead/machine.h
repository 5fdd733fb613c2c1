// SPDX-License-Identifier: Apache-2.0
// Probes of what this machine can physically do, measured in the same run as a benchmark.
#ifndef LMHEAD_MACHINE_H_
#define LMHEAD_MACHINE_H_

#include <cstddef>

namespace lmhead {

struct BandwidthProbe {
  double median_gbps = 0;  // 1e9 bytes per second, median over repetitions.
  double best_gbps = 0;
  size_t bytes = 0;        // Bytes read per repetition (all threads together).
  int num_threads = 0;
  int repetitions = 0;
};

// DRAM read bandwidth: `num_threads` threads each sum their part of a buffer of
// `bytes` bytes (>= 256 MiB so the last-level cache cannot hold it), first
// touched by the thread that reads it. num_threads <= 0 means every hardware
// thread. This is the limit a memory-bound decode step is measured against.
BandwidthProbe MeasureReadBandwidth(size_t bytes, int num_threads, int repetitions);

}  // namespace lmhead

#endif  // LMHEAD_MACHINE_H_
