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

#include "kernels/activation_tiles.h"
#include "kernels/avx512/bf16_panels_avx512.h"
#include "kernels/avx512/lofi_avx512_blocks.h"
#include "kernels/kernels.h"
#include "kernels/tt_lofi.h"
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
  // Row r's LoFi activations of tile row kt (bf16 bits), zero from K on, at
  // Row(r, kt): rows of an ActivationTiles group, x at row 0 and tile row 0.
  // The caller owns the buffer; ScanRows fills it.
  uint16_t* x = nullptr;
  int64_t tile_stride = 0;           // ActivationTiles::tile_stride
  avx512_lofi::ExponentRange range;  // of every non-zero LofiSrcB(x)
  int max_spread = 0;                // the largest chunk spread
  // [2 kt + chunk][row]: the chunk's activation exponent spread, largest
  // exponent and n (see the top; all 0 when every activation is zero).
  uint8_t spread[2 * kMaxSpreadTiles][kBlockRows];
  uint8_t top[2 * kMaxSpreadTiles][kBlockRows];
  uint8_t bits[2 * kMaxSpreadTiles][kBlockRows];

  const uint16_t* Row(int r, int64_t kt) const { return x + kt * tile_stride + r * kTileDim; }
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
// all rows in one ActivationTiles (groups of 8, 16 or 32 rows), where each
// block's x points. PrepareTtLofiPanels returns those of every row; the AMX
// set reads the same, its A tiles straight from the groups.
class ScannedRows final : public PreparedActivations {
 public:
  ScannedRows(const MatmulArgs& args, int64_t first_row, int64_t num_rows);

  // The block of rows [row0, row0 + 8).
  const RowBlock& Block(int64_t row0) const;

 private:
  int64_t first_row_;
  ActivationTiles lofi_x_;
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

// dst[0..15] = RNA16(RNA13(dst + S)) for an exact fp32 chunk sum S
// (lofi_panels-inl.h's top says why an add toward zero and a mask do it).
static inline void RoundInto(__m512 sum, float* dst) {
  const __m512i v = _mm512_castps_si512(
      _mm512_add_round_ps(_mm512_load_ps(dst), sum, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC));
  _mm512_store_si512(dst, _mm512_and_si512(_mm512_add_epi32(v, _mm512_set1_epi32(kRnaBiasFp32)),
                                           _mm512_set1_epi32(static_cast<int>(0xFFFF0000u))));
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

// Whether every fp32 sum of chunk c's products with a row's scaled
// activations is exact, in both column halves: xs0 and xs1 hold the row's 32
// scaled activations of the tile for column half 0 and 1 (bf16 bits). A
// sharper test than the chunk statistics, which bound activations and weight
// scales apart (see lofi_panels-inl.h's top).
static inline bool ChunkIsExact(__m512i xs0, __m512i xs1, int c) {
  // Chunk c of both halves in one vector (words 16 h + j), so that lanes 0
  // and 8 of each fold below belong to half 0 and 1.
  const __m512i v = c == 0 ? _mm512_shuffle_i64x2(xs0, xs1, _MM_SHUFFLE(1, 0, 1, 0))
                           : _mm512_shuffle_i64x2(xs0, xs1, _MM_SHUFFLE(3, 2, 3, 2));
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
  const __m512 bound = _mm512_mul_round_ps(ChunkMagnitudeSums(v), _mm512_set1_ps(kBoundFactor),
                                           _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC);
  return (_mm512_cmp_ps_mask(bound, _mm512_castsi512_ps(limit), _CMP_LT_OQ) & 0x0101) == 0x0101;
}

// A row's scaled activations for column half h of a packed tile: its 32 LoFi
// activations `a` (bf16 bits) times the half's group scales; zeros stay.
static inline __m512i ScaledActivations(__m512i a, const uint8_t* tile, int h) {
  const __mmask32 nonzero = _mm512_test_epi16_mask(a, _mm512_set1_epi16(0x7FFF));
  return _mm512_mask_add_epi16(a, nonzero, a, avx512_bf16::ScaleBits(tile, h));
}

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
// bf16 bits): split rows add the fp32 sums of xs_low to sum0 and sum1
// (those of xs, their large activations, per column half); double rows start
// over in double from xs. The sums come in registers: a load of part of a
// vector stored just before waits for the store to retire on Zen 5.
void RoundOtherPath(bool split, const uint8_t* tile, int c, const uint16_t (*xs)[kTileDim],
                    const uint16_t (*xs_low)[kTileDim], __m512 sum0, __m512 sum1, float* dst);

// Chunk c of a packed tile for one row that its chunk statistics did not
// prove exact (PathsOf: `split` or double), from the row's 32 LoFi
// activations `a` of the tile: false, leaving dst alone, when its scaled
// activations show the fp32 sum exact after all (ChunkIsExact), so that the
// caller's sum applies; else true after rounding the split sums (split
// threshold `threshold`, SplitChunk) or the double sum into dst[0..31]. For
// kernels whose fp32 sums come from unscaled activations (the AMX set).
bool RoundInexactRow(const uint8_t* tile, int c, const uint16_t* a, bool split, int threshold,
                     float* dst);

}  // namespace lmhead::avx512_lofi_bf16

#endif  // LMHEAD_KERNELS_AVX512_LOFI_BF16_CHUNKS_H_
