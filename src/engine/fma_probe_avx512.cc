// SPDX-License-Identifier: Apache-2.0
// fp32 FMA peak probe on 512-bit vectors. Compiled with -mavx512f (this file
// only); called only where the kernels may use AVX-512 (compute_probe.cc).
#include <immintrin.h>

#include "engine/compute_probe.h"
#include "engine/fma_probe-inl.h"

namespace lmhead {
namespace {

struct Zmm {
  using Vec = __m512;
  static constexpr int kLanes = 16;
  static constexpr int kRegisters = 32;
  static Vec Set1(float value) { return _mm512_set1_ps(value); }
  static Vec Fma(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }
  static Vec Add(Vec a, Vec b) { return _mm512_add_ps(a, b); }
  static float First(Vec v) { return _mm512_cvtss_f32(v); }
};

}  // namespace

ComputeProbe MeasureFmaAvx512Loop(int num_threads, int repetitions) {
  return MeasureFmaPeakOf<Zmm>(num_threads, repetitions);
}

}  // namespace lmhead
