// SPDX-License-Identifier: Apache-2.0
// The AVX-512 tt-lofi path for 1-4 rows of bfp4_b: chunk sums straight from the nibbles.
//
// Internal to lofi_avx512.cc; needs AVX-512 F/BW/DQ/VL.
#ifndef LMHEAD_KERNELS_AVX512_LOFI_AVX512_FEW_H_
#define LMHEAD_KERNELS_AVX512_LOFI_AVX512_FEW_H_

#include <cstdint>

#include "kernels/avx512/lofi_avx512_blocks.h"

namespace lmhead::avx512_lofi {

// One chunk (tile rows [16 half, 16 half + 16)) of the bfp4_b tile at `tile`
// for rows <= kFewPassRows: dst[r * ws.stride + n] = RNA16(RNA13(dst + S[r][n]))
// for the tile's 32 columns, with a[r][j] = ws.a[r][j] (LoFi SrcB values) and
// `act` their exponent range. Returns false, changing nothing, unless the
// chunk is InRange and every partial sum is provably exact in double (then the
// summation order cannot matter); the caller takes the ordered path instead.
bool FewRowsChunk(const uint8_t* tile, int half, const ExponentRange& act, int max_sum, int rows,
                  const Workspace& ws, double* dst);

}  // namespace lmhead::avx512_lofi

#endif  // LMHEAD_KERNELS_AVX512_LOFI_AVX512_FEW_H_
