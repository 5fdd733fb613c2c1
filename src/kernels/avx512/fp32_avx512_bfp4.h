// SPDX-License-Identifier: Apache-2.0
// The AVX-512 fp32 decode path for bfp4_b and at most 4 rows, where decoding is the cost.
//
// Internal to fp32_avx512.cc; needs AVX-512 F/BW/DQ/VL.
#ifndef LMHEAD_KERNELS_AVX512_FP32_AVX512_BFP4_H_
#define LMHEAD_KERNELS_AVX512_FP32_AVX512_BFP4_H_

#include <cstdint>

namespace lmhead::avx512_fp32 {

// Rows AddBfp4TileFewRows handles at once.
inline constexpr int kFewRows = 4;

// acc[r * acc_stride + n] += sum_k x[r][k] * W[k][n] for n < 32, r < rows <=
// kFewRows, where W is the bfp4_b tile whose 512 data bytes start at `data`
// and xs[r * 64 + g] = x[r][k(g)] * 2^(E_g - 129) carries group g's scale
// (every exponent byte in [3, 254]).
void AddBfp4TileFewRows(const uint8_t* data, const float* xs, int rows, float* acc, int acc_stride);

}  // namespace lmhead::avx512_fp32

#endif  // LMHEAD_KERNELS_AVX512_FP32_AVX512_BFP4_H_
