// SPDX-License-Identifier: Apache-2.0
// Test-only: the tt-lofi panel kernels' rounding of inexact chunk sums, on plain arrays.
//
// Defined in lofi_chunks_testing.cc, compiled with AVX-512 flags; callers run
// them only where CpuFeatures has kCpuAvx512. The tests themselves need no
// AVX-512 flags.
#ifndef LMHEAD_KERNELS_AVX512_LOFI_CHUNKS_TESTING_H_
#define LMHEAD_KERNELS_AVX512_LOFI_CHUNKS_TESTING_H_

#include <cstdint>

namespace lmhead::lofi_chunks_test {

// avx512_lofi_bf16::RoundInexactRow for chunk c of a packed tile: xs the
// row's scaled activations [column half][tile row] (bf16 bits), sums[32] its
// fp32 chunk sums (columns 0-31), dst[32] its Dst, rounded in place.
void RoundInexactRow(const uint8_t* tile, int c, const uint16_t (*xs)[32], const float* sums,
                     float* dst);

// avx512_lofi_bf16::ChunkSumErrorBounds for column half h.
float ChunkSumErrorBound(const uint16_t (*xs)[32], int c, int h);

}  // namespace lmhead::lofi_chunks_test

#endif  // LMHEAD_KERNELS_AVX512_LOFI_CHUNKS_TESTING_H_
