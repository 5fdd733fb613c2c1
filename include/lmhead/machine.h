// SPDX-License-Identifier: Apache-2.0
// Probes of what this machine can physically do, measured in the same run as a benchmark.
#ifndef LMHEAD_MACHINE_H_
#define LMHEAD_MACHINE_H_

#include <cstddef>
#include <string>
#include <vector>

namespace lmhead {

struct BandwidthProbe {
  double median_gbps = 0;  // 1e9 bytes per second, median over repetitions.
  double best_gbps = 0;
  size_t bytes = 0;  // Bytes read per repetition (all threads together).
  int num_threads = 0;
  int repetitions = 0;
};

// DRAM read bandwidth: `num_threads` threads each sum their part of a buffer of
// `bytes` bytes (>= 256 MiB so the last-level cache cannot hold it), first
// touched by the thread that reads it. num_threads <= 0 means one per CPU this
// process may run on. This is the limit a memory-bound decode step is measured against.
BandwidthProbe MeasureReadBandwidth(size_t bytes, int num_threads, int repetitions);

// A compute peak measured on operands that stay in registers. Each probe
// measures only what the kernels may use: the CPU and OS must allow its
// instructions and $LMHEAD_KERNELS must not cap them away (cpu_features.h),
// so a capped run is measured against the limit of the kernels it runs.
struct ComputeProbe {
  bool available = false;    // False when the CPU, OS or kernel cap rules the instructions out.
  double median_tflops = 0;  // 1e12 flop/s (a multiply-add is 2), median over repetitions.
  double best_tflops = 0;
  int num_threads = 0;
  int repetitions = 0;
};

// AMX-BF16 peak: every thread runs TDPBF16PS on tiles that stay in registers
// (a 2 x 2 block of C tiles, as a GEMM micro-kernel), ~0.2 s per repetition.
// The limit a compute-bound prefill is measured against.
ComputeProbe MeasureAmxBf16Peak(int num_threads, int repetitions);

// AVX512-BF16 peak: every thread runs VDPBF16PS on 16 independent register
// sums, ~0.2 s per repetition. Without AMX, the compute limit of the
// vdpbf16ps kernels that decode with many rows and prefill run on.
ComputeProbe MeasureAvx512Bf16Peak(int num_threads, int repetitions);

// fp32 FMA peak: every thread runs FMAs on 16 independent register sums at
// the widest width the kernels may use (after the $LMHEAD_KERNELS cap):
// 512-bit with AVX-512, else 256-bit with AVX2; not available below that. The
// compute limit of the fp32 FMA kernel sets (AVX-512 without BF16, AVX2),
// ~0.2 s per repetition.
ComputeProbe MeasureFp32FmaPeak(int num_threads, int repetitions);

// What `lmhead info` prints: the CPU features the kernels may use (after the
// $LMHEAD_KERNELS cap) and the kernel set chosen for each weight format and numerics.
struct MachineInfo {
  std::string cpu_features;         // "avx2,avx512,avx512bf16" or "none".
  std::string formats_simd_target;  // Highway target of the tile packers.
  // "bfp4_b tt-lofi -> matmul/bfp4b/tt-lofi/avx512", followed by " (a row's
  // logits do not depend on the batch)" for a set that promises it.
  std::vector<std::string> kernel_choices;
  // The CPUs this process may run on (its affinity mask), in increasing
  // order, and the pool size num_threads = 0 gives: one thread each.
  std::vector<int> allowed_cpus;
  int default_threads = 1;
};

// Detects once; an invalid $LMHEAD_KERNELS is reported in cpu_features.
MachineInfo DescribeMachine();

}  // namespace lmhead

#endif  // LMHEAD_MACHINE_H_
