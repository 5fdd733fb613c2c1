// SPDX-License-Identifier: Apache-2.0
// The tt-lofi vdpbf16ps kernel's activation scan and its split and double chunk sums.
//
// Internal to lofi_bf16_avx512.cc, whose top comment gives the arithmetic;
// needs AVX-512 F/BW/DQ/VL and BF16.
#ifndef LMHEAD_KERNELS_AVX512_LOFI_BF16_CHUNKS_H_
#define LMHEAD_KERNELS_AVX512_LOFI_BF16_CHUNKS_H_

#include <cstdint>

#include "kernels/avx512/bf16_panels_avx512.h"
#include "kernels/avx512/lofi_avx512_blocks.h"
#include "kernels/kernels.h"
#include "kernels/x86_intrinsics.h"

namespace lmhead::avx512_lofi_bf16 {

inline constexpr int kBlockRows = 8;
inline constexpr int kMaxExactSpreadFp32 = 10;  // the split rule's d = 10 - weight spread
inline constexpr int kMaxExactBits = 18;        // n + weight spread for an exact fp32 sum
inline constexpr int kMaxExactSpreadDouble = 39;
// Chunk statistics kept per row; later tile rows (K > 16384) take the double
// path.
inline constexpr int64_t kMaxSpreadTiles = 512;

// The activations of up to 8 rows, as the kernel's checks need them.
struct RowBlock {
  avx512_lofi::ExponentRange range;  // of every non-zero LofiSrcB(x)
  int max_spread = 0;                // the largest chunk spread
  // [row][2 kt + chunk]: the chunk's activation exponent spread, largest
  // exponent and n (see the top; all 0 when every activation is zero).
  uint8_t spread[kBlockRows][2 * kMaxSpreadTiles];
  uint8_t top[kBlockRows][2 * kMaxSpreadTiles];
  uint8_t bits[kBlockRows][2 * kMaxSpreadTiles];
};

// LofiSrcB on 32 bf16 patterns: denormals flushed (sign kept), the last
// mantissa bit dropped.
static inline __m512i LofiActivations(__m512i x) {
  const __mmask32 normal = _mm512_test_epi16_mask(x, _mm512_set1_epi16(0x7F80));
  return _mm512_mask_mov_epi16(_mm512_and_si512(x, _mm512_set1_epi16(-32768)), normal,
                               _mm512_and_si512(x, _mm512_set1_epi16(-2)));
}

// The statistics of rows [row0, row0 + rows) (rows <= kBlockRows).
void ScanRows(const MatmulArgs& args, int64_t row0, int rows, RowBlock& block);

// How a row's sum of a chunk is found: kExact (one fp32 sum), kSplit (large
// and small activations summed apart, both exact) or kDouble.
enum class ChunkPath { kExact, kSplit, kDouble };

static inline ChunkPath PathOf(const RowBlock& block, int r, int64_t kt, int c, int weight_spread) {
  if (kt >= kMaxSpreadTiles) return ChunkPath::kDouble;
  if (block.bits[r][2 * kt + c] + weight_spread <= kMaxExactBits) return ChunkPath::kExact;
  const int act_spread = block.spread[r][2 * kt + c];
  const int d = kMaxExactSpreadFp32 - weight_spread;
  return d >= 0 && act_spread <= 2 * d + 1 ? ChunkPath::kSplit : ChunkPath::kDouble;
}

// Moves the activations of chunk c of row `row` whose exponent is below
// `threshold` from xs (bf16 bits, [half][tile row]) to xs_low (zero elsewhere).
static inline void SplitChunk(const MatmulArgs& args, int64_t row, int64_t kt, int c, int threshold,
                              uint16_t (*xs)[kTileDim], uint16_t (*xs_low)[kTileDim]) {
  const __m512i a = LofiActivations(_mm512_maskz_loadu_epi16(
      avx512_bf16::KMask(args.k, kt), args.x + row * args.x_stride + kt * kTileDim));
  const __m512i e = _mm512_and_si512(_mm512_srli_epi16(a, 7), _mm512_set1_epi16(0xFF));
  const __mmask32 chunk = c == 0 ? 0x0000FFFFu : 0xFFFF0000u;
  const __mmask32 low =
      chunk & _mm512_cmplt_epu16_mask(e, _mm512_set1_epi16(static_cast<int16_t>(threshold)));
  for (int h = 0; h < 2; ++h) {
    const __m512i v = _mm512_load_si512(xs[h]);
    _mm512_store_si512(xs_low[h], _mm512_maskz_mov_epi16(low, v));
    _mm512_store_si512(xs[h], _mm512_maskz_mov_epi16(~low, v));
  }
}

// The chunk sums of a row that is not kExact, rounded into its Dst (both
// column halves, dst[0..31]): split rows add their small activations' sums
// to `sums`, double rows start over in double.
void RoundOtherPath(ChunkPath path, const uint8_t* tile, int c, const __m512* sums,
                    const uint16_t (*xs)[kTileDim], const uint16_t (*xs_low)[kTileDim], float* dst);

}  // namespace lmhead::avx512_lofi_bf16

#endif  // LMHEAD_KERNELS_AVX512_LOFI_BF16_CHUNKS_H_
