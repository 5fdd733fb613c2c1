// SPDX-License-Identifier: Apache-2.0
// ScanRows, PathOf and the split and double chunk sums of the tt-lofi vdpbf16ps kernel.
#include "kernels/avx512/lofi_bf16_chunks.h"

#include <algorithm>
#include <cstdint>

#include "kernels/avx512/bf16_panels_avx512.h"

namespace lmhead::avx512_lofi_bf16 {
namespace {

using avx512_bf16::BlockWeights;
using avx512_bf16::CodeTable;
using avx512_bf16::DotPair;
using avx512_bf16::KMask;

constexpr uint64_t kRnaBias = (uint64_t{1} << 41) + (uint64_t{1} << 44);
constexpr uint64_t kBf16KeepMask = ~((uint64_t{1} << 45) - 1);

// Smallest of 16 words (phminposuw on the two halves' minimum).
int MinWord(__m256i v) {
  const __m128i m = _mm_min_epu16(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  return _mm_cvtsi128_si32(_mm_minpos_epu16(m)) & 0xFFFF;
}

// n with 7 sum |a_j| / 2^(lo - 127) < 2^n for one chunk's 16 LoFi activations
// `a` (bf16 bits) whose smallest non-zero biased exponent is lo.
int ChunkBits(__m256i a, int lo) {
  const __m512 magnitudes = _mm512_castsi512_ps(_mm512_and_si512(
      _mm512_slli_epi32(_mm512_cvtepu16_epi32(a), 16), _mm512_set1_epi32(0x7FFFFFFF)));
  // The fp32 sum is within 16 * 2^-24 of the exact one: round the bound up.
  const double bound =
      7.0 * static_cast<double>(_mm512_reduce_add_ps(magnitudes)) * (1.0 + 0x1p-19);
  uint64_t bits;
  __builtin_memcpy(&bits, &bound, sizeof(bits));
  const int exponent = static_cast<int>(bits >> 52) - 1023;  // floor(log2(bound)), bound > 0
  return exponent + 127 - lo + 1;
}

// dst[0..15] = RNA16(RNA13(dst + S)) for a chunk sum given as two 8-lane
// doubles, on the double sum (the reference's own arithmetic).
void RoundIntoFromDouble(__m512d sum_lo, __m512d sum_hi, float* dst) {
  const __m512i bias = _mm512_set1_epi64(static_cast<int64_t>(kRnaBias));
  const __m512i keep = _mm512_set1_epi64(static_cast<int64_t>(kBf16KeepMask));
  for (int i = 0; i < 2; ++i) {
    const __m512d v =
        _mm512_add_pd(_mm512_cvtps_pd(_mm256_load_ps(dst + 8 * i)), i == 0 ? sum_lo : sum_hi);
    const __m512d rounded =
        _mm512_castsi512_pd(_mm512_and_si512(_mm512_add_epi64(_mm512_castpd_si512(v), bias), keep));
    _mm256_store_ps(dst + 8 * i, _mm512_cvtpd_ps(rounded));  // exact: 8 significant bits
  }
}

// The chunk sum of chunk c, column half h, in double, from the packed codes
// and the row's xs (bf16 bits, [tile row]).
void DoubleChunkSum(const uint8_t* tile, int c, int h, const uint16_t* xs, __m512d* lo,
                    __m512d* hi) {
  const __m512i codes = CodeTable();
  const __m512i upper = _mm512_set1_epi32(static_cast<int>(0xFFFF0000u));
  __m512d s[2][2] = {{_mm512_setzero_pd(), _mm512_setzero_pd()},
                     {_mm512_setzero_pd(), _mm512_setzero_pd()}};
  for (int i = 0; i < 2; ++i) {
    const int b = 4 * h + 2 * c + i;
    const __m512i data = _mm512_loadu_si512(tile + 64 + 64 * b);
    for (int q = 0; q < 4; ++q) {
      const __m512i w = BlockWeights(data, q, codes);
      const int row = 8 * (2 * c + i) + 2 * q;  // w's even words; odd words are row + 1
      const __m512 w_even = _mm512_castsi512_ps(_mm512_slli_epi32(w, 16));
      const __m512 w_odd = _mm512_castsi512_ps(_mm512_and_si512(w, upper));
      for (int p = 0; p < 2; ++p) {
        const uint32_t bits = static_cast<uint32_t>(xs[row + p]) << 16;
        float x;
        __builtin_memcpy(&x, &bits, sizeof(x));
        const __m512d xd = _mm512_set1_pd(x);
        const __m512 wp = p == 0 ? w_even : w_odd;
        s[p][0] = _mm512_fmadd_pd(xd, _mm512_cvtps_pd(_mm512_castps512_ps256(wp)), s[p][0]);
        s[p][1] = _mm512_fmadd_pd(xd, _mm512_cvtps_pd(_mm512_extractf32x8_ps(wp, 1)), s[p][1]);
      }
    }
  }
  *lo = _mm512_add_pd(s[0][0], s[1][0]);
  *hi = _mm512_add_pd(s[0][1], s[1][1]);
}

// The fp32 chunk sums of chunk c, both column halves, for the activations of
// xs_low (bf16 bits, [half][tile row]): 16 more vdpbf16ps.
void LowChunkSums(const uint8_t* tile, int c, const uint16_t (*xs_low)[kTileDim], __m512* sums) {
  const __m512i codes = CodeTable();
  for (int h = 0; h < 2; ++h) {
    __m512 s[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()};
    for (int i = 0; i < 2; ++i) {
      const __m512i data = _mm512_loadu_si512(tile + 64 + 64 * (4 * h + 2 * c + i));
      for (int q = 0; q < 4; ++q) {
        const __m512i w = BlockWeights(data, q, codes);
        const int pair = (2 * c + i) * 4 + q;
        s[q % 2] = DotPair(s[q % 2], w, reinterpret_cast<const uint32_t*>(&xs_low[h][2 * pair]));
      }
    }
    sums[h] = _mm512_add_ps(s[0], s[1]);
  }
}

}  // namespace

void ScanRows(const MatmulArgs& args, int64_t row0, int rows, RowBlock& block) {
  const __m512i all_ones = _mm512_set1_epi16(-1);
  block.range = avx512_lofi::ExponentRange{};
  block.max_spread = 0;
  for (int r = 0; r < rows; ++r) {
    const uint16_t* x = args.x + (row0 + r) * args.x_stride;
    for (int64_t kt = 0; kt < args.w.k_tiles; ++kt) {
      const __m512i a =
          LofiActivations(_mm512_maskz_loadu_epi16(KMask(args.k, kt), x + kt * kTileDim));
      const __mmask32 nonzero = _mm512_test_epi16_mask(a, _mm512_set1_epi16(0x7FFF));
      const __m512i e = _mm512_and_si512(_mm512_srli_epi16(a, 7), _mm512_set1_epi16(0xFF));
      // Minima of e and of 0xFFFF - e over the non-zero lanes; others read 0xFFFF.
      const __m512i lo = _mm512_mask_mov_epi16(all_ones, nonzero, e);
      const __m512i neg_hi =
          _mm512_mask_mov_epi16(all_ones, nonzero, _mm512_sub_epi16(all_ones, e));
      for (int c = 0; c < 2; ++c) {
        const int chunk_lo =
            MinWord(c == 0 ? _mm512_castsi512_si256(lo) : _mm512_extracti64x4_epi64(lo, 1));
        const int chunk_hi = 0xFFFF - MinWord(c == 0 ? _mm512_castsi512_si256(neg_hi)
                                                     : _mm512_extracti64x4_epi64(neg_hi, 1));
        const int spread = chunk_lo <= chunk_hi ? chunk_hi - chunk_lo : 0;
        if (chunk_lo <= chunk_hi) {
          block.range.lo = std::min(block.range.lo, chunk_lo);
          block.range.hi = std::max(block.range.hi, chunk_hi);
        }
        block.max_spread = std::max(block.max_spread, spread);
        if (kt < kMaxSpreadTiles) {
          const bool any = chunk_lo <= chunk_hi;
          const __m256i chunk =
              c == 0 ? _mm512_castsi512_si256(a) : _mm512_extracti64x4_epi64(a, 1);
          block.spread[r][2 * kt + c] = static_cast<uint8_t>(spread);
          block.top[r][2 * kt + c] = static_cast<uint8_t>(any ? chunk_hi : 0);
          block.bits[r][2 * kt + c] = static_cast<uint8_t>(any ? ChunkBits(chunk, chunk_lo) : 0);
        }
      }
    }
  }
}

void RoundOtherPath(ChunkPath path, const uint8_t* tile, int c, const __m512* sums,
                    const uint16_t (*xs)[kTileDim], const uint16_t (*xs_low)[kTileDim],
                    float* dst) {
  __m512 low_sums[2];
  if (path == ChunkPath::kSplit) LowChunkSums(tile, c, xs_low, low_sums);
  for (int h = 0; h < 2; ++h) {
    __m512d lo, hi;
    if (path == ChunkPath::kDouble) {
      DoubleChunkSum(tile, c, h, xs[h], &lo, &hi);
    } else {  // exact: the two parts span fewer than 53 bits
      lo = _mm512_add_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(sums[h])),
                         _mm512_cvtps_pd(_mm512_castps512_ps256(low_sums[h])));
      hi = _mm512_add_pd(_mm512_cvtps_pd(_mm512_extractf32x8_ps(sums[h], 1)),
                         _mm512_cvtps_pd(_mm512_extractf32x8_ps(low_sums[h], 1)));
    }
    RoundIntoFromDouble(lo, hi, dst + kFaceDim * h);
  }
}

}  // namespace lmhead::avx512_lofi_bf16
