// SPDX-License-Identifier: Apache-2.0
// AVX512-BF16 peak probe: VDPBF16PS on vectors that never leave the registers.
// Compiled with -mavx512f -mavx512bf16 (this file only); called only after the
// CPU, OS and kernel cap have said yes (compute_probe.cc).
//
// On a CPU without AMX this is the compute limit of every vdpbf16ps kernel
// (the fp32 and tt-lofi sets of src/kernels/avx512/), so `lmhead bench`
// measures the compute-bound cases against it.
#include <immintrin.h>

#include <cstdint>

#include "engine/compute_probe.h"
#include "lmhead/machine.h"

namespace lmhead {
namespace {

// Independent sums: more than latency x throughput (about 6 x 2 on current
// cores), as in a register-blocked kernel.
constexpr int kSums = 16;
// One VDPBF16PS on 512 bits: 16 lanes x 2 bf16 products, each a multiply-add.
constexpr double kFlopsPerDp = 2.0 * 32;

// Where each run's result goes, so the compiler cannot drop the work.
volatile float g_sink = 0;

float RunDotProducts(int64_t iterations) {
  // Distinct starting values keep the compiler from merging the sums into one.
  __m512 sums[kSums];
  for (int i = 0; i < kSums; ++i) sums[i] = _mm512_set1_ps(static_cast<float>(i));
  // Zero products keep every sum finite; the values do not change the speed.
  __m512bh a = reinterpret_cast<__m512bh>(_mm512_setzero_si512());
  const __m512bh b = a;
  for (int64_t iter = 0; iter < iterations; ++iter) {
#pragma GCC unroll 16
    for (int i = 0; i < kSums; ++i) sums[i] = _mm512_dpbf16_ps(sums[i], a, b);
    // Opaque to the compiler, so the loop is not folded away.
    asm volatile("" : "+v"(a));
  }
  __m512 total = sums[0];
  for (int i = 1; i < kSums; ++i) total = _mm512_add_ps(total, sums[i]);
  return _mm512_cvtss_f32(total);
}

}  // namespace

ComputeProbe MeasureAvx512Bf16Loop(int num_threads, int repetitions) {
  // ~0.2 s per repetition at ~0.5 TFLOP/s per core.
  const int64_t iterations = 100'000'000;
  return TimeComputePeak(num_threads, repetitions,
                         kFlopsPerDp * kSums * static_cast<double>(iterations),
                         [&] { g_sink = RunDotProducts(iterations); });
}

}  // namespace lmhead
