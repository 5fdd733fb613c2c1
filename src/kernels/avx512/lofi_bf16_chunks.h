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
inline constexpr int kChunkPairs = 8;           // k pairs of one chunk (16 tile rows)
inline constexpr int kMaxExactSpreadFp32 = 10;  // the split rule's d = 10 - weight spread
inline constexpr int kMaxExactBits = 18;        // n + weight spread for an exact fp32 sum
inline constexpr int kMaxExactSpreadDouble = 39;
// Chunk statistics kept per row; later tile rows (K > 16384) take the double
// path.
inline constexpr int64_t kMaxSpreadTiles = 512;

// The activations of up to 8 rows, as the kernel's products and checks need
// them.
struct RowBlock {
  // Row r's LoFi activations at x + r * x_stride (bf16 bits), x_stride >=
  // 32 Kt, zero from K on; the caller owns the buffer, ScanRows fills it.
  uint16_t* x = nullptr;
  int64_t x_stride = 0;
  avx512_lofi::ExponentRange range;  // of every non-zero LofiSrcB(x)
  int max_spread = 0;                // the largest chunk spread
  // [2 kt + chunk][row]: the chunk's activation exponent spread, largest
  // exponent and n (see the top; all 0 when every activation is zero).
  uint8_t spread[2 * kMaxSpreadTiles][kBlockRows];
  uint8_t top[2 * kMaxSpreadTiles][kBlockRows];
  uint8_t bits[2 * kMaxSpreadTiles][kBlockRows];
};

// LofiSrcB on 32 bf16 patterns: denormals flushed (sign kept), the last
// mantissa bit dropped.
static inline __m512i LofiActivations(__m512i x) {
  const __mmask32 normal = _mm512_test_epi16_mask(x, _mm512_set1_epi16(0x7F80));
  return _mm512_mask_mov_epi16(_mm512_and_si512(x, _mm512_set1_epi16(-32768)), normal,
                               _mm512_and_si512(x, _mm512_set1_epi16(-2)));
}

// The activations and statistics of rows [row0, row0 + rows) (rows <=
// kBlockRows).
void ScanRows(const MatmulArgs& args, int64_t row0, int rows, RowBlock& block);

// How a row's sum of a chunk is found: kExact (one fp32 sum), kSplit (large
// and small activations summed apart, both exact) or kDouble. Bit r of a
// mask stands for row r of the block; rows in neither mask are kExact.
struct ChunkPaths {
  unsigned split = 0;
  unsigned dbl = 0;
};

// Bit r set where byte r of `v` is at most `limit` (unsigned compare).
static inline unsigned BytesAtMost(const uint8_t* v, int limit) {
  const __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(v));
  const __m128i capped = _mm_min_epu8(bytes, _mm_set1_epi8(static_cast<char>(limit)));
  return static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(capped, bytes))) & 0xFFu;
}

// The paths of chunk c of tile kt for the rows of `rows` (a mask).
static inline ChunkPaths PathsOf(const RowBlock& block, int64_t kt, int c, int weight_spread,
                                 unsigned rows) {
  if (kt >= kMaxSpreadTiles) return {0, rows};
  const int i = static_cast<int>(2 * kt + c);
  const unsigned exact = weight_spread <= kMaxExactBits
                             ? BytesAtMost(block.bits[i], kMaxExactBits - weight_spread)
                             : 0;
  const unsigned other = rows & ~exact;
  if (other == 0) return {};
  const int d = kMaxExactSpreadFp32 - weight_spread;
  const unsigned split = d >= 0 ? other & BytesAtMost(block.spread[i], 2 * d + 1) : 0;
  return {split, other & ~split};
}

// Whether every fp32 sum of chunk c's products with a row's scaled
// activations xs ([column half][tile row], bf16 bits) is exact, in both
// column halves: a sharper test than the chunk statistics, which bound
// activations and weight scales apart (see lofi_bf16_avx512.cc's top).
bool ChunkIsExact(const uint16_t (*xs)[kTileDim], int c);

// Moves the scaled activations xs ([column half][tile row], bf16 bits) of
// chunk c whose LoFi activation `a` (the row's 32 of the tile) has an
// exponent below `threshold` to chunk c of xs_low (the other chunk's words
// are left alone).
static inline void SplitChunk(const uint16_t* a, int c, int threshold, uint16_t (*xs)[kTileDim],
                              uint16_t (*xs_low)[kTileDim]) {
  const __m512i e =
      _mm512_and_si512(_mm512_srli_epi16(_mm512_loadu_si512(a), 7), _mm512_set1_epi16(0xFF));
  const __mmask32 chunk = c == 0 ? 0x0000FFFFu : 0xFFFF0000u;
  const __mmask32 low =
      chunk & _mm512_cmplt_epu16_mask(e, _mm512_set1_epi16(static_cast<int16_t>(threshold)));
  for (int h = 0; h < 2; ++h) {
    const __m512i v = _mm512_load_si512(xs[h]);
    _mm512_mask_storeu_epi16(xs_low[h], chunk, _mm512_maskz_mov_epi16(low, v));
    _mm512_store_si512(xs[h], _mm512_maskz_mov_epi16(~low, v));
  }
}

// The sum of chunk c of a packed tile for a row that is not kExact (`split`
// tells which path), rounded into its Dst (both column halves, dst[0..31]).
// xs and xs_low are the row's scaled activations ([column half][tile row],
// bf16 bits): split rows add the vdpbf16ps sums of xs_low to sum0 and sum1
// (those of xs, their large activations, per column half); double rows start
// over in double from xs. The sums come in registers: a load of part of a
// vector stored just before waits for the store to retire on Zen 5.
void RoundOtherPath(bool split, const uint8_t* tile, int c, const uint16_t (*xs)[kTileDim],
                    const uint16_t (*xs_low)[kTileDim], __m512 sum0, __m512 sum1, float* dst);

}  // namespace lmhead::avx512_lofi_bf16

#endif  // LMHEAD_KERNELS_AVX512_LOFI_BF16_CHUNKS_H_
