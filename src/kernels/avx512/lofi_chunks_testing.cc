// SPDX-License-Identifier: Apache-2.0
// Test-only wrappers of lofi_bf16_chunks.h, compiled with AVX-512 flags.
#include "kernels/avx512/lofi_chunks_testing.h"

#include "kernels/avx512/lofi_bf16_chunks.h"
#include "kernels/x86_intrinsics.h"

namespace lmhead::lofi_chunks_test {

void RoundInexactRow(const uint8_t* tile, int c, const uint16_t (*xs)[32], const float* sums,
                     float* dst) {
  avx512_lofi_bf16::RoundInexactRow(tile, c, xs, _mm512_loadu_ps(sums), _mm512_loadu_ps(sums + 16),
                                    dst);
}

float ChunkSumErrorBound(const uint16_t (*xs)[32], int c, int h) {
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, avx512_lofi_bf16::ChunkSumErrorBounds(_mm512_loadu_si512(xs[0]),
                                                               _mm512_loadu_si512(xs[1]), c));
  return lanes[8 * h];
}

}  // namespace lmhead::lofi_chunks_test
