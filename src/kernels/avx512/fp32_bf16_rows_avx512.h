// SPDX-License-Identifier: Apache-2.0
// What the panel kernels share: per-row ranges and fast-path check, stores, fallback.
//
// Internal to the panel kernels (fp32_bf16_*.cc, fp32_fma_avx512.cc,
// row_ranges_avx512.cc, lofi_panels-inl.h) and the AMX sets; needs AVX-512
// F/BW/DQ/VL only. Every function defined here has internal linkage (see
// avx512_kernels.h). The conditions are those of the fp32_bf16_avx512.cc file
// comment.
#ifndef LMHEAD_KERNELS_AVX512_FP32_BF16_ROWS_AVX512_H_
#define LMHEAD_KERNELS_AVX512_FP32_BF16_ROWS_AVX512_H_

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "kernels/avx512/bf16_panels_avx512.h"
#include "kernels/kernels.h"
#include "kernels/reference.h"
#include "kernels/tile_layout.h"
#include "kernels/x86_intrinsics.h"

namespace lmhead::avx512_bf16 {

inline constexpr int kMinScaledExponent = 8;

// Biased exponents of the non-zero activations of a row: lo = smallest
// (0 if one is denormal), hi = largest (255 for inf/NaN); lo > hi when all are 0.
struct ExponentRange {
  int lo = 255;
  int hi = 0;
};

// The ExponentRange of every row [0, m): the prepare of the fp32 panel sets
// (vdpbf16ps, FMA and AMX: PrepareFp32Panels), made once per input instead
// of once per call. Defined in row_ranges_avx512.cc.
class RowRanges final : public PreparedActivations {
 public:
  explicit RowRanges(const MatmulArgs& args);
  const ExponentRange& operator[](int64_t row) const { return ranges_[static_cast<size_t>(row)]; }

 private:
  std::vector<ExponentRange> ranges_;
};

// The caller's prepared ranges, or ones made here into `own`.
static inline const RowRanges& RangesFor(const MatmulArgs& args, std::unique_ptr<RowRanges>& own) {
  if (args.prepared != nullptr) return static_cast<const RowRanges&>(*args.prepared);
  own = std::make_unique<RowRanges>(args);
  return *own;
}

// The conditions of the file comment for one row, from the panel footer
// (tile_layout.h). Denormal and inf/NaN activations are refused outright: the
// exponent-field scaling would misread them, and the gemm, which scales the
// weights instead, must give the same bits.
static inline bool PanelIsFast(const uint8_t* footer, const ExponentRange& x,
                               int max_scaled_exponent) {
  const int exp_min = footer[0], exp_max = footer[1];
  if (exp_min < 3 || exp_max > 254) return false;
  if (x.lo > x.hi) return true;  // every activation is zero
  if (x.lo == 0 || x.hi == 255) return false;
  return x.lo + exp_min - kScaleBias >= kMinScaledExponent &&
         x.hi + exp_max - kScaleBias <= max_scaled_exponent;
}

static inline int MaxScaledExponent(int64_t k) {
  int log2_k = 0;
  while ((int64_t{1} << log2_k) < k) ++log2_k;
  return 249 - log2_k;
}

// Tile column nt, rows [row0, row0 + rows): y from `out` (row r's 32 sums at
// out + r * 32), columns below n_cols.
static inline void StoreColumns(const MatmulArgs& args, int64_t nt, int64_t row0, int rows,
                                const float* out) {
  for (int h = 0; h < 2; ++h) {
    const int64_t n = nt * kTileDim + h * kFaceDim;
    const int64_t cols = args.n_cols - n;
    if (cols <= 0) break;
    const __mmask16 mask =
        cols >= kFaceDim ? __mmask16{0xFFFF} : static_cast<__mmask16>((1u << cols) - 1);
    for (int r = 0; r < rows; ++r) {
      _mm512_mask_storeu_ps(args.y + (row0 + r) * args.y_stride + n, mask,
                            _mm512_load_ps(out + r * kTileDim + h * kFaceDim));
    }
  }
}

// `reference` (MatmulFp32Reference unless given) on one panel and rows:
// those the fast path refuses.
static inline void SlowPanel(const MatmulArgs& args, int64_t nt, int64_t row0, int rows,
                             MatmulFn reference = &MatmulFp32Reference) {
  MatmulArgs part = args;
  part.x = args.x + row0 * args.x_stride;
  part.m = rows;
  part.nt_begin = nt;
  part.nt_end = nt + 1;
  part.y = args.y + row0 * args.y_stride;
  reference(part);
}

// Stores rows [row0, row0 + rows) of panel nt from `sums` (row r's 32 sums
// at sums + 32 r), then redoes each row the fast-path check refuses: each row
// is checked on its own (its result must not depend on the others), and a
// refused row's sums may be garbage.
static inline void FinishPanel(const MatmulArgs& args, const RowRanges& ranges, int64_t nt,
                               int64_t row0, int rows, const float* sums) {
  StoreColumns(args, nt, row0, rows, sums);
  const uint8_t* footer =
      args.w.tiles + nt * Bfp4bPanelBytes(args.w.k_tiles) + args.w.k_tiles * kTileBytes;
  const int max_scaled_exponent = MaxScaledExponent(args.k);
  for (int r = 0; r < rows; ++r) {
    if (!PanelIsFast(footer, ranges[row0 + r], max_scaled_exponent))
      SlowPanel(args, nt, row0 + r, 1);
  }
}

}  // namespace lmhead::avx512_bf16

#endif  // LMHEAD_KERNELS_AVX512_FP32_BF16_ROWS_AVX512_H_
