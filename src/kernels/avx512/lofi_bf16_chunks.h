// SPDX-License-Identifier: Apache-2.0
// What the tt-lofi panel kernels share: activation scan, checks, Dst rounding, rare paths.
//
// Internal to the panel kernels of lofi_panels-inl.h, whose top comment gives
// the arithmetic, and to the AMX set (amx/amx_lofi-inl.h). Needs AVX-512
// F/BW/DQ/VL only, as does lofi_bf16_chunks.cc, so that the set without
// AVX512-BF16 shares it. Functions defined here have internal linkage (see
// avx512_kernels.h).
#ifndef LMHEAD_KERNELS_AVX512_LOFI_BF16_CHUNKS_H_
#define LMHEAD_KERNELS_AVX512_LOFI_BF16_CHUNKS_H_

#include <cstdint>
#include <vector>

#include "kernels/avx512/bf16_panels_avx512.h"
#include "kernels/avx512/lofi_avx512_blocks.h"
#include "kernels/kernels.h"
#include "kernels/tt_lofi.h"
#include "kernels/x86_intrinsics.h"

namespace lmhead::avx512_lofi_bf16 {

inline constexpr int kBlockRows = 8;
inline constexpr int kChunkPairs = 8;     // k pairs of one chunk (16 tile rows)
inline constexpr int kMaxExactBits = 18;  // n + weight spread for an exact fp32 sum
inline constexpr int kMaxExactSpreadDouble = 39;
// Chunk statistics kept per row; in later tile rows (K > 16384) every row is
// open.
inline constexpr int64_t kMaxSpreadTiles = 512;

// The activations of up to 8 rows, as the kernel's products and checks need
// them.
struct RowBlock {
  // Row r's LoFi activations (bf16 bits) at x + r * x_stride, x_stride >=
  // 32 Kt, zero from K on; the caller owns the buffer, ScanRows fills it.
  uint16_t* x = nullptr;
  int64_t x_stride = 0;
  avx512_lofi::ExponentRange range;  // of every non-zero LofiSrcB(x)
  int max_spread = 0;                // the largest chunk spread
  // [2 kt + chunk][row]: the chunk's n (lofi_panels-inl.h's top; 0 when
  // every activation is zero).
  uint8_t bits[2 * kMaxSpreadTiles][kBlockRows];

  // Row r's 32 LoFi activations of tile row kt.
  const uint16_t* Row(int r, int64_t kt) const { return x + r * x_stride + kt * kTileDim; }
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

// The ScanRows results of rows [first_row, first_row + num_rows), one
// RowBlock per 8 rows (first_row a multiple of 8), the LoFi activations of
// all rows in one row-major buffer: row r at Block(first_row).x + (r -
// first_row) * x_stride. (Row-major, not in tile order: each row of a block
// is then one stream the hardware prefetchers follow; in tile order the FMA
// set's prefill ran 9% slower.) PrepareTtLofiPanels returns those of every
// row; the AMX set's prepare adds a copy in tile order for its A tiles.
class ScannedRows final : public PreparedActivations {
 public:
  ScannedRows(const MatmulArgs& args, int64_t first_row, int64_t num_rows);

  // The block of rows [row0, row0 + 8).
  const RowBlock& Block(int64_t row0) const;

 private:
  // A tile row of 32 activations per cache line.
  struct alignas(64) TileRow {
    uint16_t x[kTileDim];
  };

  int64_t first_row_;
  std::vector<TileRow> lofi_x_;  // [row][tile row]; each block's x points in
  std::vector<RowBlock> blocks_;
};

// Whether a panel (its footer, tile_layout.h) and row block may take the
// fast path of lofi_panels-inl.h's top: weights and activations in range,
// spreads within the double path's. max_sum: avx512_lofi::MaxExponentSum.
static inline bool PanelIsFast(const uint8_t* footer, const RowBlock& block, int max_sum) {
  const avx512_lofi::ExponentRange weights{footer[0], footer[1]};
  if (weights.lo < 3 || weights.hi > 254) return false;  // denormal, inf or NaN weights
  if (block.max_spread + footer[2] > kMaxExactSpreadDouble) return false;
  return avx512_lofi::InRange(block.range, weights, 2, max_sum);
}

inline constexpr int kRnaBiasFp32 = 0x9000;  // RNA13 then RNA16 on fp32 bits

// RNA16(RNA13(v)) of fp32 values, as fp32 bits: one add and a mask
// (lofi_avx512.cc shows why the two roundings collapse). The result is the
// bf16 value of the interval between two thresholds, fp32 numbers whose low
// 16 bits are 0x7000, that holds v; so it never decreases as v grows.
static inline __m512i RoundedBits(__m512 v) {
  return _mm512_and_si512(_mm512_add_epi32(_mm512_castps_si512(v), _mm512_set1_epi32(kRnaBiasFp32)),
                          _mm512_set1_epi32(static_cast<int>(0xFFFF0000u)));
}

// dst[0..15] = RNA16(RNA13(dst + S)) for an exact fp32 chunk sum S
// (lofi_panels-inl.h's top says why an add toward zero does it).
static inline void RoundInto(__m512 sum, float* dst) {
  _mm512_store_si512(dst, RoundedBits(_mm512_add_round_ps(_mm512_load_ps(dst), sum,
                                                          _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC)));
}

// dst[0..15] = RNA16(RNA13(dst + S)) for chunk sums S known as fp32 sums with
// |sum - S| <= err in every lane, where that decides it: the lowest and
// highest dst + S the bounds allow, each rounded outward, round to the same
// bits in every lane (RoundedBits never decreases, so dst + S rounds to them
// too). Else returns false and leaves dst alone: a rounding threshold, or
// zero, lies within err of dst + sum.
static inline bool RoundIntoWithin(__m512 sum, __m512 err, float* dst) {
  constexpr int kDown = _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC;
  constexpr int kUp = _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC;
  const __m512 d = _mm512_load_ps(dst);
  const __m512i lowest =
      RoundedBits(_mm512_add_round_ps(d, _mm512_sub_round_ps(sum, err, kDown), kDown));
  const __m512i highest =
      RoundedBits(_mm512_add_round_ps(d, _mm512_add_round_ps(sum, err, kUp), kUp));
  if (_mm512_cmpneq_epi32_mask(lowest, highest) != 0) return false;
  _mm512_store_si512(dst, lowest);
  return true;
}

// LofiBeginBlock / LofiEndBlock (tt_lofi.h) for every element of `rows` rows
// of 32 columns: Dst (dst) and the packer's L1 partials (l1) are bf16 values
// as fp32, 64-byte aligned. Block 0 starts from zero; with packer L1
// accumulation the middle blocks start from zero and the last from the L1
// partial, and each block but the last packs into L1 (the first as is, the
// others with the packer's add, RNA to bf16, denormals flushed). Without it
// Dst carries over. The values must stay in range (PanelIsFast).
static inline void BeginBlock(const LofiBlocking& blocking, int64_t block_idx, int rows,
                              float (*dst)[kTileDim], const float (*l1)[kTileDim]) {
  const bool last = block_idx == blocking.num_blocks - 1;
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < kTileDim; c += kFaceDim) {
      if (block_idx == 0) {
        _mm512_store_ps(&dst[r][c], _mm512_setzero_ps());
      } else if (blocking.packer_l1_acc_en) {
        _mm512_store_ps(&dst[r][c], last ? _mm512_load_ps(&l1[r][c]) : _mm512_setzero_ps());
      }
    }
  }
}

static inline void EndBlock(const LofiBlocking& blocking, int64_t block_idx, int rows,
                            const float (*dst)[kTileDim], float (*l1)[kTileDim]) {
  if (!blocking.packer_l1_acc_en || block_idx == blocking.num_blocks - 1) return;
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < kTileDim; c += kFaceDim) {
      const __m512 d = _mm512_load_ps(&dst[r][c]);
      if (block_idx == 0) {
        _mm512_store_ps(&l1[r][c], d);
        continue;
      }
      // In range (PanelIsFast), so the fp32 sum is finite; RNA to bf16, flush.
      const __m512i sum = _mm512_castps_si512(_mm512_add_ps(_mm512_load_ps(&l1[r][c]), d));
      __m512i bits = _mm512_and_si512(_mm512_add_epi32(sum, _mm512_set1_epi32(0x8000)),
                                      _mm512_set1_epi32(static_cast<int>(0xFFFF0000u)));
      const __mmask16 denormal = _mm512_testn_epi32_mask(bits, _mm512_set1_epi32(0x7F800000));
      bits = _mm512_mask_and_epi32(bits, denormal, bits,
                                   _mm512_set1_epi32(static_cast<int>(0x80000000u)));
      _mm512_store_si512(&l1[r][c], bits);
    }
  }
}

// Bit r set where byte r of `v` is at most `limit` (unsigned compare).
static inline unsigned BytesAtMost(const uint8_t* v, int limit) {
  const __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(v));
  const __m128i capped = _mm_min_epu8(bytes, _mm_set1_epi8(static_cast<char>(limit)));
  return static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(capped, bytes))) & 0xFFu;
}

// The rows of `rows` (a mask, bit r for row r of the block) whose chunk c of
// tile kt the statistics leave open: not proven exact in fp32 (see
// lofi_panels-inl.h's top). Those take the second check (ChunkIsExact), then
// RoundInexactRow where it fails too.
static inline unsigned OpenRows(const RowBlock& block, int64_t kt, int c, int weight_spread,
                                unsigned rows) {
  if (kt >= kMaxSpreadTiles || weight_spread > kMaxExactBits) return rows;
  return rows & ~BytesAtMost(block.bits[2 * kt + c], kMaxExactBits - weight_spread);
}

// 7 (1 + 2^-19), exact in fp32: the factor of the exactness bounds
// (ChunkStatsOf in lofi_bf16_chunks.cc, ChunkIsExact).
inline constexpr float kBoundFactor = 7.0f + 0x7p-19f;

// sum |v| over each 16-word half of v (bf16 bits), in fp32 lanes 0 and 8:
// the even and odd words as fp32, added, then three folds.
static inline __m512 ChunkMagnitudeSums(__m512i v) {
  const __m512i magnitudes = _mm512_and_si512(v, _mm512_set1_epi16(0x7FFF));
  __m512 sums =
      _mm512_add_ps(avx512_bf16::EvenWords(magnitudes), avx512_bf16::OddWords(magnitudes));
  sums = _mm512_add_ps(sums, _mm512_shuffle_f32x4(sums, sums, _MM_SHUFFLE(2, 3, 0, 1)));
  sums = _mm512_add_ps(sums, _mm512_permute_ps(sums, _MM_SHUFFLE(1, 0, 3, 2)));
  return _mm512_add_ps(sums, _mm512_permute_ps(sums, _MM_SHUFFLE(2, 3, 0, 1)));
}

// Chunk c of a row's scaled activations of both column halves (xs0, xs1:
// the tile's 32 per half) in one vector, words 16 h + j, so that lanes 0 and
// 8 of ChunkMagnitudeSums belong to half 0 and 1.
static inline __m512i ChunkOfBothHalves(__m512i xs0, __m512i xs1, int c) {
  return c == 0 ? _mm512_shuffle_i64x2(xs0, xs1, _MM_SHUFFLE(1, 0, 1, 0))
                : _mm512_shuffle_i64x2(xs0, xs1, _MM_SHUFFLE(3, 2, 3, 2));
}

// 7 sum |xs_j| of chunk c, half 0 in lane 0 and half 1 in lane 8, rounded
// up: at least every partial sum of the half's products xs_j code_j.
static inline __m512 ChunkProductBounds(__m512i both_halves) {
  return _mm512_mul_round_ps(ChunkMagnitudeSums(both_halves), _mm512_set1_ps(kBoundFactor),
                             _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC);
}

// Whether every fp32 sum of chunk c's products with a row's scaled
// activations is exact, in both column halves: xs0 and xs1 hold the row's 32
// scaled activations of the tile for column half 0 and 1 (bf16 bits). A
// sharper test than the chunk statistics, which bound activations and weight
// scales apart (see lofi_panels-inl.h's top).
static inline bool ChunkIsExact(__m512i xs0, __m512i xs1, int c) {
  const __m512i v = ChunkOfBothHalves(xs0, xs1, c);
  // Per half, the smallest non-zero exponent e (255 if all are zero): each
  // product xs * code is a multiple of q = 2^(e - 133) (7 significant bits
  // times an integer), and every partial sum is at most B = 7 sum |xs|. All
  // are exact when B < 2^24 q = 2^(e - 109), the float with exponent field
  // e + 18 (inf from e = 237 on: every finite B passes).
  const __m512i magnitudes = _mm512_and_si512(v, _mm512_set1_epi16(0x7FFF));
  __m512i e = _mm512_mask_srli_epi16(_mm512_set1_epi16(255),
                                     _mm512_test_epi16_mask(magnitudes, magnitudes), magnitudes, 7);
  e = _mm512_min_epu16(e, _mm512_shuffle_i64x2(e, e, _MM_SHUFFLE(2, 3, 0, 1)));
  e = _mm512_min_epu16(e, _mm512_shuffle_epi32(e, _MM_PERM_BADC));
  e = _mm512_min_epu16(e, _mm512_shuffle_epi32(e, _MM_PERM_CDAB));
  e = _mm512_min_epu16(e, _mm512_srli_epi32(e, 16));
  const __m512i limit = _mm512_slli_epi32(
      _mm512_min_epu32(
          _mm512_add_epi32(_mm512_and_si512(e, _mm512_set1_epi32(0xFFFF)), _mm512_set1_epi32(18)),
          _mm512_set1_epi32(255)),
      23);
  return (_mm512_cmp_ps_mask(ChunkProductBounds(v), _mm512_castsi512_ps(limit), _CMP_LT_OQ) &
          0x0101) == 0x0101;
}

// Bounds on |s - S| for every fp32 sum s of chunk c's products in column half
// 0 (lane 0) and 1 (lane 8), S the exact sum, from the row's scaled
// activations: vdpbf16ps, FMAs and TDPBF16PS round at most 19 times in any
// order (16 products, up to 4 partial sums added), each time by at most
// 2^-24 of a partial sum, and every partial sum is at most B = 7 sum |xs_j|
// (ChunkProductBounds), so by less than 2^-19 B in all; vdpbf16ps and
// TDPBF16PS may also flush a denormal partial sum, less than 2^-126 each
// time. So |s - S| < 2^-19 B + 2^-120, rounded up here.
static inline __m512 ChunkSumErrorBounds(__m512i xs0, __m512i xs1, int c) {
  return _mm512_fmadd_round_ps(ChunkProductBounds(ChunkOfBothHalves(xs0, xs1, c)),
                               _mm512_set1_ps(0x1p-19f), _mm512_set1_ps(0x1p-120f),
                               _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC);
}

// A row's scaled activations for column half h of a packed tile: its 32 LoFi
// activations `a` (bf16 bits) times the half's group scales; zeros stay.
static inline __m512i ScaledActivations(__m512i a, const uint8_t* tile, int h) {
  const __mmask32 nonzero = _mm512_test_epi16_mask(a, _mm512_set1_epi16(0x7FFF));
  return _mm512_mask_add_epi16(a, nonzero, a, avx512_bf16::ScaleBits(tile, h));
}

// Rounds chunk c of a packed tile into dst[0..31] (both column halves) for a
// row whose sums neither check proved exact, from its fp32 sums of each half
// (sum0, sum1: any order and instruction) where RoundIntoWithin settles it
// with ChunkSumErrorBounds, else from the exact sum, in double, of the same
// operands. xs: the row's scaled activations [column half][tile row] (bf16
// bits). The sums come in registers: a load of part of a vector stored just
// before waits for the store to retire on Zen 5.
void RoundInexactRow(const uint8_t* tile, int c, const uint16_t (*xs)[kTileDim], __m512 sum0,
                     __m512 sum1, float* dst);

// The same for a row that OpenRows left open, from its 32 LoFi activations
// `a` of the tile: RoundInto where its scaled activations prove the sums
// exact after all (ChunkIsExact), else RoundInexactRow. For kernels whose
// sums come from unscaled activations (the AMX set).
void RoundOpenRow(const uint8_t* tile, int c, const uint16_t* a, __m512 sum0, __m512 sum1,
                  float* dst);

}  // namespace lmhead::avx512_lofi_bf16

#endif  // LMHEAD_KERNELS_AVX512_LOFI_BF16_CHUNKS_H_
