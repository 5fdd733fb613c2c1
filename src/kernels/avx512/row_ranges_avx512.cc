// SPDX-License-Identifier: Apache-2.0
// The exponent range of every row: the prepare of the fp32 panel sets.
//
// Needs AVX-512 F/BW/DQ/VL only, so that the set without AVX512-BF16
// (fp32_fma_avx512.cc) shares it with the vdpbf16ps and AMX sets.
#include <algorithm>
#include <cstdint>
#include <memory>

#include "kernels/avx512/avx512_kernels.h"
#include "kernels/avx512/bf16_panels_avx512.h"
#include "kernels/avx512/fp32_bf16_rows_avx512.h"
#include "kernels/x86_intrinsics.h"

namespace lmhead {
namespace avx512_bf16 {
namespace {

// The ExponentRange of row `row`: per lane, then across the lanes.
ExponentRange RangeOfRow(const MatmulArgs& args, int64_t row) {
  const uint16_t* x = args.x + row * args.x_stride;
  __m512i lo = _mm512_set1_epi16(255);
  __m512i hi = _mm512_setzero_si512();
  for (int64_t kt = 0; kt < args.w.k_tiles; ++kt) {
    const __m512i v = _mm512_maskz_loadu_epi16(KMask(args.k, kt), x + kt * kTileDim);
    const __m512i e = _mm512_and_si512(_mm512_srli_epi16(v, 7), _mm512_set1_epi16(0xFF));
    lo = _mm512_mask_min_epu16(lo, _mm512_test_epi16_mask(v, _mm512_set1_epi16(0x7FFF)), lo, e);
    hi = _mm512_max_epu16(hi, e);
  }
  alignas(64) uint16_t los[32], his[32];
  _mm512_store_si512(los, lo);
  _mm512_store_si512(his, hi);
  ExponentRange range;
  for (int i = 0; i < 32; ++i) {
    range.lo = std::min<int>(range.lo, los[i]);
    range.hi = std::max<int>(range.hi, his[i]);
  }
  return range;
}

}  // namespace

RowRanges::RowRanges(const MatmulArgs& args) : ranges_(static_cast<size_t>(args.m)) {
  for (int64_t row = 0; row < args.m; ++row)
    ranges_[static_cast<size_t>(row)] = RangeOfRow(args, row);
}

}  // namespace avx512_bf16

std::unique_ptr<PreparedActivations> PrepareFp32Panels(const MatmulArgs& args) {
  return std::make_unique<avx512_bf16::RowRanges>(args);
}

}  // namespace lmhead
