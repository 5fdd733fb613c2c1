// SPDX-License-Identifier: Apache-2.0
// fp32 FMA peak probe on 256-bit vectors. Compiled with -mavx2 -mfma (this
// file only); called only where the kernels may use AVX2 (compute_probe.cc).
#include <immintrin.h>

#include "engine/compute_probe.h"
#include "engine/fma_probe-inl.h"

namespace lmhead {
namespace {

struct Ymm {
  using Vec = __m256;
  static constexpr int kLanes = 8;
  static constexpr int kRegisters = 16;
  static Vec Set1(float value) { return _mm256_set1_ps(value); }
  static Vec Fma(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }
  static Vec Add(Vec a, Vec b) { return _mm256_add_ps(a, b); }
  static float First(Vec v) { return _mm256_cvtss_f32(v); }
};

}  // namespace

ComputeProbe MeasureFmaAvx2Loop(int num_threads, int repetitions) {
  return MeasureFmaPeakOf<Ymm>(num_threads, repetitions);
}

}  // namespace lmhead
