// SPDX-License-Identifier: Apache-2.0
// ScanRows, the exactness check and the split and double chunk sums of the tt-lofi panel kernels.
//
// AVX-512 F/BW/DQ/VL only: the set without AVX512-BF16 runs it too.
#include "kernels/avx512/lofi_bf16_chunks.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "kernels/avx512/avx512_kernels.h"
#include "kernels/avx512/bf16_panels_avx512.h"

namespace lmhead::avx512_lofi_bf16 {
namespace {

using avx512_bf16::Bf16Value;
using avx512_bf16::EvenWords;
using avx512_bf16::KMask;
using avx512_bf16::OddWords;

constexpr uint64_t kRnaBias = (uint64_t{1} << 41) + (uint64_t{1} << 44);
constexpr uint64_t kBf16KeepMask = ~((uint64_t{1} << 45) - 1);

// The statistics of both chunks of a tile (chunk c in dword lane 8 c; the
// other lanes are don't-cares) from its 32 LoFi activations `a`.
struct ChunkStats {
  __m512i lo;      // smallest non-zero biased exponent; 65536 if all are zero
  __m512i hi;      // largest biased exponent (0 if all are zero)
  __m512i spread;  // hi - lo, 0 if all are zero
  __m512i n;       // RowBlock::bits, 0 if all are zero
};

ChunkStats ChunkStatsOf(__m512i a) {
  // Biased exponents, 0 for zeros (denormals are flushed). Per chunk, the
  // minima of e - 1 (where the zeros wrap to 0xFFFF) and of ~e give lo - 1
  // and 0xFFFF - hi: both folded at once after the first step.
  const __m512i e = _mm512_srli_epi16(_mm512_and_si512(a, _mm512_set1_epi16(0x7FFF)), 7);
  __m512i x = _mm512_sub_epi16(e, _mm512_set1_epi16(1));
  __m512i y = _mm512_xor_si512(e, _mm512_set1_epi16(-1));
  x = _mm512_min_epu16(x, _mm512_shuffle_i64x2(x, x, _MM_SHUFFLE(2, 3, 0, 1)));
  y = _mm512_min_epu16(y, _mm512_shuffle_i64x2(y, y, _MM_SHUFFLE(2, 3, 0, 1)));
  __m512i z = _mm512_shuffle_i64x2(x, y, _MM_SHUFFLE(2, 0, 2, 0));  // lo c0, lo c1, hi c0, hi c1
  z = _mm512_min_epu16(z, _mm512_shuffle_epi32(z, _MM_PERM_BADC));
  z = _mm512_min_epu16(z, _mm512_shuffle_epi32(z, _MM_PERM_CDAB));
  z = _mm512_min_epu16(z, _mm512_srli_epi32(z, 16));
  // Words 0, 8, 16, 24 of z to dword lanes 0 (low, high word) and 8.
  const __m512i lo_hi = _mm512_maskz_permutexvar_epi16(
      0x00030003u,
      _mm512_set_epi16(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 24, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                       0, 0, 0, 0, 0, 16, 0),
      z);
  ChunkStats stats;
  stats.lo =
      _mm512_add_epi32(_mm512_and_si512(lo_hi, _mm512_set1_epi32(0xFFFF)), _mm512_set1_epi32(1));
  stats.hi = _mm512_sub_epi32(_mm512_set1_epi32(0xFFFF), _mm512_srli_epi32(lo_hi, 16));
  const __mmask16 any = _mm512_cmple_epi32_mask(stats.lo, stats.hi);
  stats.spread = _mm512_maskz_sub_epi32(any, stats.hi, stats.lo);
  // n = floor(log2(7 sum |a|)) + 1 - (lo - 127), from an upper bound: the
  // fp32 sum is within 4 roundings of 2^-24 of the exact one, and
  // (1 - 4 2^-24)(1 + 2^-19) > 1.
  const __m512 bound = _mm512_mul_round_ps(ChunkMagnitudeSums(a), _mm512_set1_ps(kBoundFactor),
                                           _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC);
  const __m512i n = _mm512_sub_epi32(
      _mm512_add_epi32(_mm512_srli_epi32(_mm512_castps_si512(bound), 23), _mm512_set1_epi32(1)),
      stats.lo);
  stats.n = _mm512_maskz_mov_epi32(any, n);
  return stats;
}

// RowBlock::bits of both chunks of tile kt, row r, from ChunkStats::n.
void StoreChunkBits(__m512i n, int64_t kt, int r, RowBlock& block) {
  for (int c = 0; c < 2; ++c) {
    block.bits[2 * kt + c][r] = static_cast<uint8_t>(
        _mm_cvtsi128_si32(c == 0 ? _mm512_castsi512_si128(n) : _mm512_extracti32x4_epi32(n, 2)));
  }
}

// The smaller of dword lanes 0 and 8 of v, or with `larger` the larger.
int Lanes0And8(__m512i v, bool larger) {
  const int l0 = _mm_cvtsi128_si32(_mm512_castsi512_si128(v));
  const int l8 = _mm_cvtsi128_si32(_mm512_extracti32x4_epi32(v, 2));
  return larger ? std::max(l0, l8) : std::min(l0, l8);
}

// dst[0..15] = RNA16(RNA13(dst + S)) for a chunk sum given as two 8-lane
// doubles, on the double sum (the reference's own arithmetic).
void RoundIntoFromDouble(__m512d sum_lo, __m512d sum_hi, float* dst) {
  const __m512i bias = _mm512_set1_epi64(static_cast<int64_t>(kRnaBias));
  const __m512i keep = _mm512_set1_epi64(static_cast<int64_t>(kBf16KeepMask));
  // Dst moves as whole 64-byte vectors, as RoundInto stores it: Zen 5 does
  // not forward a store to a narrower or wider load, which then waits for the
  // store to retire. The empty asm keeps GCC from splitting the load.
  __m512 old = _mm512_load_ps(dst);
  asm("" : "+v"(old));
  __m256 rounded[2];
  for (int i = 0; i < 2; ++i) {
    const __m512d v = _mm512_add_pd(
        _mm512_cvtps_pd(i == 0 ? _mm512_castps512_ps256(old) : _mm512_extractf32x8_ps(old, 1)),
        i == 0 ? sum_lo : sum_hi);
    const __m512i bits = _mm512_and_si512(_mm512_add_epi64(_mm512_castpd_si512(v), bias), keep);
    rounded[i] = _mm512_cvtpd_ps(_mm512_castsi512_pd(bits));  // exact: 8 significant bits
  }
  _mm512_store_ps(dst, _mm512_insertf32x8(_mm512_castps256_ps512(rounded[0]), rounded[1], 1));
}

// The weight codes (avx512_bf16::BlockWeights) of pair j of chunk c (tile
// rows 16 c + 2 j, 16 c + 2 j + 1), column half h, of a packed tile.
__m512i PairWeights(const uint8_t* tile, int c, int j, int h) {
  const __m512i data = _mm512_loadu_si512(tile + 64 + 64 * (4 * h + 2 * c + j / 4));
  return avx512_bf16::BlockWeights(_mm512_srl_epi16(data, _mm_cvtsi32_si128(4 * (j % 4))), 0,
                                   avx512_bf16::CodeTable());
}

// The chunk sum of chunk c, column half h, in double, from the codes and the
// row's scaled activations xs (bf16 bits, [tile row]).
void DoubleChunkSum(const uint8_t* tile, int c, int h, const uint16_t* xs, __m512d* lo,
                    __m512d* hi) {
  __m512d s[2][2] = {{_mm512_setzero_pd(), _mm512_setzero_pd()},
                     {_mm512_setzero_pd(), _mm512_setzero_pd()}};
  for (int j = 0; j < kChunkPairs; ++j) {
    // Even words hold tile row 2 j of the chunk, odd words row 2 j + 1.
    const __m512i w = PairWeights(tile, c, j, h);
    for (int p = 0; p < 2; ++p) {
      const __m512d xd = _mm512_set1_pd(Bf16Value(xs[kFaceDim * c + 2 * j + p]));
      const __m512 wp = p == 0 ? EvenWords(w) : OddWords(w);
      s[p][0] = _mm512_fmadd_pd(xd, _mm512_cvtps_pd(_mm512_castps512_ps256(wp)), s[p][0]);
      s[p][1] = _mm512_fmadd_pd(xd, _mm512_cvtps_pd(_mm512_extractf32x8_ps(wp, 1)), s[p][1]);
    }
  }
  *lo = _mm512_add_pd(s[0][0], s[1][0]);
  *hi = _mm512_add_pd(s[0][1], s[1][1]);
}

}  // namespace

ScannedRows::ScannedRows(const MatmulArgs& args, int64_t first_row, int64_t num_rows)
    : first_row_(first_row),
      lofi_x_(static_cast<size_t>((num_rows + kBlockRows - 1) / kBlockRows * kBlockRows *
                                  args.w.k_tiles)),
      blocks_(static_cast<size_t>((num_rows + kBlockRows - 1) / kBlockRows)) {
  for (int64_t row0 = 0; row0 < num_rows; row0 += kBlockRows) {
    RowBlock& block = blocks_[static_cast<size_t>(row0 / kBlockRows)];
    block.x = lofi_x_[static_cast<size_t>(row0 * args.w.k_tiles)].x;
    block.x_stride = args.w.k_tiles * kTileDim;
    ScanRows(args, first_row + row0,
             static_cast<int>(std::min<int64_t>(kBlockRows, num_rows - row0)), block);
  }
}

const RowBlock& ScannedRows::Block(int64_t row0) const {
  return blocks_[static_cast<size_t>((row0 - first_row_) / kBlockRows)];
}

void ScanRows(const MatmulArgs& args, int64_t row0, int rows, RowBlock& block) {
  __m512i range_lo = _mm512_set1_epi32(avx512_lofi::ExponentRange{}.lo);
  __m512i range_hi = _mm512_set1_epi32(avx512_lofi::ExponentRange{}.hi);
  __m512i max_spread = _mm512_setzero_si512();
  // Locals: the byte stores below may alias args' and block's fields.
  const int64_t k = args.k;
  const int64_t k_tiles = args.w.k_tiles;
  for (int r = 0; r < rows; ++r) {
    const uint16_t* x = args.x + (row0 + r) * args.x_stride;
    uint16_t* lofi_x = block.x + r * block.x_stride;
    for (int64_t kt = 0; kt < k_tiles; ++kt) {
      const __m512i a = LofiActivations(_mm512_maskz_loadu_epi16(KMask(k, kt), x + kt * kTileDim));
      _mm512_store_si512(lofi_x + kt * kTileDim, a);
      const ChunkStats stats = ChunkStatsOf(a);
      range_lo = _mm512_min_epi32(range_lo, stats.lo);
      range_hi = _mm512_max_epi32(range_hi, stats.hi);
      max_spread = _mm512_max_epi32(max_spread, stats.spread);
      if (kt < kMaxSpreadTiles) StoreChunkBits(stats.n, kt, r, block);
    }
  }
  block.range = {Lanes0And8(range_lo, false), Lanes0And8(range_hi, true)};
  block.max_spread = Lanes0And8(max_spread, true);
}

void RoundInexactRow(const uint8_t* tile, int c, const uint16_t (*xs)[kTileDim], __m512 sum0,
                     __m512 sum1, float* dst) {
  const __m512 bounds = ChunkSumErrorBounds(_mm512_load_si512(xs[0]), _mm512_load_si512(xs[1]), c);
  for (int h = 0; h < 2; ++h) {
    const __m512 err = _mm512_permutexvar_ps(_mm512_set1_epi32(8 * h), bounds);
    if (RoundIntoWithin(h == 0 ? sum0 : sum1, err, dst + kFaceDim * h)) continue;
    // A rounding threshold within the bound of the sum (rare): the exact sum.
    __m512d lo, hi;
    DoubleChunkSum(tile, c, h, xs[h], &lo, &hi);
    RoundIntoFromDouble(lo, hi, dst + kFaceDim * h);
  }
}

void RoundOpenRow(const uint8_t* tile, int c, const uint16_t* a, __m512 sum0, __m512 sum1,
                  float* dst) {
  const __m512i lofi_a = _mm512_loadu_si512(a);
  alignas(64) uint16_t xs[2][kTileDim];
  _mm512_store_si512(xs[0], ScaledActivations(lofi_a, tile, 0));
  _mm512_store_si512(xs[1], ScaledActivations(lofi_a, tile, 1));
  if (ChunkIsExact(_mm512_load_si512(xs[0]), _mm512_load_si512(xs[1]), c)) {
    RoundInto(sum0, dst);
    RoundInto(sum1, dst + kFaceDim);
    return;
  }
  RoundInexactRow(tile, c, xs, sum0, sum1, dst);
}

}  // namespace lmhead::avx512_lofi_bf16

namespace lmhead {

std::unique_ptr<PreparedActivations> PrepareTtLofiPanels(const MatmulArgs& args) {
  return std::make_unique<avx512_lofi_bf16::ScannedRows>(args, 0, args.m);
}

}  // namespace lmhead
