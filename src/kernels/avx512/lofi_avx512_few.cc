// SPDX-License-Identifier: Apache-2.0
// tt-lofi chunk sums for 1-4 rows straight from bfp4_b nibbles, in double, when every partial sum
// is exact.
//
// For a few rows the ordered kernel's cost is decoding weights to doubles.
// Here the two groups of face rows j, j + 1 (16 adjacent bytes) are
// interleaved byte by byte, widened to 64-bit lanes and looked up in a
// 16-entry table of +-code, giving row j's and row j + 1's value of one column
// in adjacent lanes; the multiplier is the pair (a_j s_j, a_j+1 s_j+1) of
// activations times their group's scale 2^(E - 129). Each lane thus sums
// even or odd rows of one column, and adding the two lanes gives the chunk
// sum. That order differs from the reference's j = 0..15, which is harmless
// exactly when every partial sum is exact: products have at most 10
// significant bits and 16 of them need 14 bits above the smallest product's
// step, so spreads of product exponents up to 53 - 14 = 39 bits are exact.
#include "kernels/avx512/lofi_avx512_few.h"

#include <cstdint>

#include "kernels/x86_intrinsics.h"

namespace lmhead::avx512_lofi {
namespace {

// Largest product-exponent spread with exact partial sums: 53 - 14 bits in
// double, 24 - 14 in fp32.
constexpr int kMaxExactSpread = 39;
constexpr int kMaxExactSpreadFp32 = 10;

// Smallest and largest of 32 exponent bytes.
void ByteRange(__m256i bytes, int* lo, int* hi) {
  const __m128i min16 =
      _mm_min_epu8(_mm256_castsi256_si128(bytes), _mm256_extracti128_si256(bytes, 1));
  const __m128i max16 =
      _mm_max_epu8(_mm256_castsi256_si128(bytes), _mm256_extracti128_si256(bytes, 1));
  const __m128i min8 =
      _mm_min_epu16(_mm_cvtepu8_epi16(min16), _mm_cvtepu8_epi16(_mm_srli_si128(min16, 8)));
  const __m128i neg = _mm_sub_epi8(_mm_set1_epi8(-1), max16);  // 255 - max
  const __m128i negmin8 =
      _mm_min_epu16(_mm_cvtepu8_epi16(neg), _mm_cvtepu8_epi16(_mm_srli_si128(neg, 8)));
  *lo = _mm_cvtsi128_si32(_mm_minpos_epu16(min8)) & 0xFFFF;
  *hi = 255 - (_mm_cvtsi128_si32(_mm_minpos_epu16(negmin8)) & 0xFFFF);
}

// 2^(E - 129) for 8 exponent bytes, as doubles.
__m512d Scales(const uint8_t* exponents) {
  const __m512i e =
      _mm512_cvtepu8_epi64(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(exponents)));
  return _mm512_castsi512_pd(
      _mm512_slli_epi64(_mm512_add_epi64(e, _mm512_set1_epi64(1023 - 129)), 52));
}

// 2^(E - 129) for 16 exponent bytes, as fp32 (E >= 3).
__m512 ScalesFp32(const uint8_t* exponents) {
  const __m512i e =
      _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(exponents)));
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_sub_epi32(e, _mm512_set1_epi32(2)), 23));
}

// dst[0..7] = RNA16(RNA13(dst + chunk_sum)) (see lofi_avx512.cc).
void RoundInto(__m512d chunk_sum, double* dst) {
  const __m512d sum = _mm512_add_pd(_mm512_load_pd(dst), chunk_sum);
  const __m512i rounded = _mm512_and_si512(
      _mm512_add_epi64(_mm512_castpd_si512(sum), _mm512_set1_epi64(static_cast<int64_t>(
                                                     (uint64_t{1} << 41) + (uint64_t{1} << 44)))),
      _mm512_set1_epi64(static_cast<int64_t>(~((uint64_t{1} << 45) - 1))));
  _mm512_store_pd(dst, _mm512_castsi512_pd(rounded));
}

// dst[0..7] += the chunk sums of 8 columns, from accumulators whose lane 2i
// (even rows) and 2i + 1 (odd rows) hold column 2i (`low`) or 2i + 1 (`high`).
void FoldAndRound(__m512d low, __m512d high, double* dst) {
  const __m512d even = _mm512_add_pd(low, _mm512_permute_pd(low, 0x55));
  const __m512d odd = _mm512_add_pd(high, _mm512_permute_pd(high, 0x55));
  RoundInto(_mm512_mask_blend_pd(0xAA, even, odd), dst);
}

template <int R>
void PairChunk(const uint8_t* paired, const double (*xs)[32], double* dst, int stride) {
  const __m512d positive = _mm512_set_pd(7, 6, 5, 4, 3, 2, 1, 0);
  const __m512d negative = _mm512_set_pd(-7, -6, -5, -4, -3, -2, -1, -0.0);
  for (int face = 0; face < 2; ++face) {
    __m512d acc[R][4];
    for (int r = 0; r < R; ++r) {
      for (int i = 0; i < 4; ++i) acc[r][i] = _mm512_setzero_pd();
    }
#pragma GCC unroll 8
    for (int q = 0; q < 8; ++q) {
      const __m128i bytes =
          _mm_load_si128(reinterpret_cast<const __m128i*>(paired + (face * 8 + q) * 16));
      const __m512i first = _mm512_cvtepu8_epi64(bytes);                      // columns 0-7
      const __m512i second = _mm512_cvtepu8_epi64(_mm_srli_si128(bytes, 8));  // columns 8-15
      const __m512d w[4] = {
          _mm512_permutex2var_pd(positive, first, negative),
          _mm512_permutex2var_pd(positive, _mm512_srli_epi64(first, 4), negative),
          _mm512_permutex2var_pd(positive, second, negative),
          _mm512_permutex2var_pd(positive, _mm512_srli_epi64(second, 4), negative)};
      for (int r = 0; r < R; ++r) {
        const __m512d x = _mm512_broadcast_f64x2(_mm_load_pd(&xs[r][face * 16 + 2 * q]));
        for (int i = 0; i < 4; ++i) acc[r][i] = _mm512_fmadd_pd(x, w[i], acc[r][i]);
      }
    }
    for (int r = 0; r < R; ++r) {
      FoldAndRound(acc[r][0], acc[r][1], dst + r * stride + face * 16);
      FoldAndRound(acc[r][2], acc[r][3], dst + r * stride + face * 16 + 8);
    }
  }
}

// The fp32 form of PairChunk (spreads up to kMaxExactSpreadFp32): 16 lanes,
// row j's and row j + 1's value of one column in adjacent 32-bit lanes;
// accumulators split by face and by the parity of q for more FMA chains.
template <int R>
void PairChunkFp32(const uint8_t* paired, const float (*xs)[32], double* dst, int stride) {
  const __m512 table = _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, -0.0f, -1, -2, -3, -4, -5, -6, -7);
  constexpr int kSplit = R <= 2 ? 2 : 1;
  __m512 acc[R][2][kSplit][2];  // [row][face][q parity][even | odd column]
  for (int r = 0; r < R; ++r) {
    for (int f = 0; f < 2; ++f) {
      for (int s = 0; s < kSplit; ++s) acc[r][f][s][0] = acc[r][f][s][1] = _mm512_setzero_ps();
    }
  }
#pragma GCC unroll 16
  for (int i = 0; i < 16; ++i) {
    const int face = i % 2, q = i / 2;
    const __m512i bytes = _mm512_cvtepu8_epi32(
        _mm_load_si128(reinterpret_cast<const __m128i*>(paired + (face * 8 + q) * 16)));
    const __m512 lo = _mm512_permutexvar_ps(bytes, table);
    const __m512 hi = _mm512_permutexvar_ps(_mm512_srli_epi32(bytes, 4), table);
    for (int r = 0; r < R; ++r) {
      double pair;  // (xs_j, xs_j+1) as one 64-bit pattern
      __builtin_memcpy(&pair, &xs[r][face * 16 + 2 * q], sizeof(pair));
      const __m512 x = _mm512_castpd_ps(_mm512_set1_pd(pair));
      __m512* a = acc[r][face][q % kSplit];
      a[0] = _mm512_fmadd_ps(x, lo, a[0]);
      a[1] = _mm512_fmadd_ps(x, hi, a[1]);
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int face = 0; face < 2; ++face) {
      __m512 even = acc[r][face][0][0], odd = acc[r][face][0][1];
      if constexpr (kSplit == 2) {
        even = _mm512_add_ps(even, acc[r][face][1][0]);
        odd = _mm512_add_ps(odd, acc[r][face][1][1]);
      }
      even = _mm512_add_ps(even, _mm512_permute_ps(even, 0xB1));
      odd = _mm512_add_ps(odd, _mm512_permute_ps(odd, 0xB1));
      const __m512 sum = _mm512_mask_blend_ps(0xAAAA, even, odd);
      double* d = dst + r * stride + face * 16;
      RoundInto(_mm512_cvtps_pd(_mm512_castps512_ps256(sum)), d);
      RoundInto(_mm512_cvtps_pd(_mm512_extractf32x8_ps(sum, 1)), d + 8);
    }
  }
}

}  // namespace

bool FewRowsChunk(const uint8_t* tile, int half, const ExponentRange& act, int max_sum, int rows,
                  const Workspace& ws, double* dst) {
  const uint8_t* exponents = tile + 32 * half;  // faces 2 half and 2 half + 1
  const __m256i e = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(exponents));
  if ((_mm256_cmplt_epu8_mask(e, _mm256_set1_epi8(3)) |
       _mm256_cmpeq_epi8_mask(e, _mm256_set1_epi8(static_cast<char>(0xFF)))) != 0) {
    return false;  // values that are flushed, inf or NaN: the ordered path decodes them
  }
  ExponentRange wgt;
  ByteRange(e, &wgt.lo, &wgt.hi);
  if (!InRange(act, wgt, 2, max_sum)) return false;
  const int spread = act.hi >= act.lo ? (act.hi - act.lo) + (wgt.hi - wgt.lo) : 0;
  if (spread > kMaxExactSpread) return false;
  alignas(64) uint8_t paired[256];
  const __m512i pair_bytes =
      _mm512_broadcast_i32x4(_mm_setr_epi8(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15));
  for (int i = 0; i < 4; ++i) {
    _mm512_store_si512(
        paired + 64 * i,
        _mm512_shuffle_epi8(_mm512_loadu_si512(tile + 64 + 256 * half + 64 * i), pair_bytes));
  }
  if (spread <= kMaxExactSpreadFp32) {
    alignas(64) float xs[kFewPassRows][32];
    for (int face = 0; face < 2; ++face) {
      const __m512 scale = ScalesFp32(exponents + face * 16);
      for (int r = 0; r < rows; ++r) {
        _mm512_store_ps(&xs[r][face * 16], _mm512_mul_ps(_mm512_load_ps(&ws.a32[r][0]), scale));
      }
    }
    switch (rows) {
      case 4:
        PairChunkFp32<4>(paired, xs, dst, ws.stride);
        break;
      case 3:
        PairChunkFp32<3>(paired, xs, dst, ws.stride);
        break;
      case 2:
        PairChunkFp32<2>(paired, xs, dst, ws.stride);
        break;
      default:
        PairChunkFp32<1>(paired, xs, dst, ws.stride);
        break;
    }
    return true;
  }
  alignas(64) double xs[kFewPassRows][32];
  for (int face = 0; face < 2; ++face) {
    const __m512d scale_lo = Scales(exponents + face * 16);
    const __m512d scale_hi = Scales(exponents + face * 16 + 8);
    for (int r = 0; r < rows; ++r) {
      _mm512_store_pd(&xs[r][face * 16], _mm512_mul_pd(_mm512_load_pd(&ws.a[r][0]), scale_lo));
      _mm512_store_pd(&xs[r][face * 16 + 8], _mm512_mul_pd(_mm512_load_pd(&ws.a[r][8]), scale_hi));
    }
  }
  switch (rows) {
    case 4:
      PairChunk<4>(paired, xs, dst, ws.stride);
      break;
    case 3:
      PairChunk<3>(paired, xs, dst, ws.stride);
      break;
    case 2:
      PairChunk<2>(paired, xs, dst, ws.stride);
      break;
    default:
      PairChunk<1>(paired, xs, dst, ws.stride);
      break;
  }
  return true;
}

}  // namespace lmhead::avx512_lofi
