// SPDX-License-Identifier: Apache-2.0
// The fp32 FMA peak loop, written once over a vector width (fma_probe_avx2.cc,
// fma_probe_avx512.cc).
//
// Included only by those files, each compiled with its instruction set;
// everything here has internal linkage.
#ifndef LMHEAD_ENGINE_FMA_PROBE_INL_H_
#define LMHEAD_ENGINE_FMA_PROBE_INL_H_

#include <cstdint>

#include "engine/compute_probe.h"

namespace lmhead {
namespace {

// Independent sums: more than FMA latency x throughput (about 4 x 2 on
// current cores), as in a register-blocked kernel, and few enough that they
// and the two factors stay in registers. With 16 sums on AVX2's 16 ymm
// registers GCC kept three in memory, and the probe reported 0.16 TFLOP/s on
// a core pair where the AVX2 kernels reach 0.22.
template <typename V>
constexpr int kFmaSums = V::kRegisters >= 32 ? 16 : 12;

// Where each run's result goes, so the compiler cannot drop the work.
volatile float g_fma_sink = 0;

// `iterations` rounds of one FMA into each of kFmaSums register sums. V: a
// vector policy with Vec, kLanes, kRegisters (vector registers the ISA has),
// Set1, Fma, Add and First.
template <typename V>
float RunFmas(int64_t iterations) {
  constexpr int kSums = kFmaSums<V>;
  static_assert(kSums + 2 <= V::kRegisters, "the sums and factors must fit in registers");
  typename V::Vec sums[kSums];
  for (int i = 0; i < kSums; ++i) sums[i] = V::Set1(static_cast<float>(i));
  // Zero products keep every sum finite; the values do not change the speed.
  typename V::Vec a = V::Set1(0.0f);
  const typename V::Vec b = a;
  for (int64_t iter = 0; iter < iterations; ++iter) {
#pragma GCC unroll 16
    for (int i = 0; i < kSums; ++i) sums[i] = V::Fma(a, b, sums[i]);
    asm volatile("" : "+x"(a));  // opaque to the compiler: the loop stays
  }
  typename V::Vec total = sums[0];
  for (int i = 1; i < kSums; ++i) total = V::Add(total, sums[i]);
  return V::First(total);
}

// The probe of V's FMA: ~0.2 s per repetition at ~0.25 TFLOP/s per core.
template <typename V>
ComputeProbe MeasureFmaPeakOf(int num_threads, int repetitions) {
  const int64_t iterations = int64_t{50'000'000'000} / (2 * V::kLanes * kFmaSums<V>);
  return TimeComputePeak(num_threads, repetitions,
                         2.0 * V::kLanes * kFmaSums<V> * static_cast<double>(iterations),
                         [&] { g_fma_sink = RunFmas<V>(iterations); });
}

}  // namespace
}  // namespace lmhead

#endif  // LMHEAD_ENGINE_FMA_PROBE_INL_H_
