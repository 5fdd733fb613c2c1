// SPDX-License-Identifier: Apache-2.0
// Decoding one bfp4_b/bfp8_b tile to fp32 with AVX2: codes as exact small integers, then scaled.
//
// Internal to the AVX2 kernel files (compiled with -mavx2 -mfma); every
// function has internal linkage so no AVX2 code leaks to other files.
#ifndef LMHEAD_KERNELS_AVX2_BFP_DECODE_AVX2_H_
#define LMHEAD_KERNELS_AVX2_BFP_DECODE_AVX2_H_

#include <cstdint>

#include "kernels/kernels.h"
#include "kernels/x86_intrinsics.h"
#include "lmhead/formats.h"

namespace lmhead::avx2_decode {

// TileBytes() of formats.h, restated: the AVX2 files call no shared inline
// function (avx2_kernels.h).
static inline int BfpTileBytes(TileFormat format) {
  return format == TileFormat::kBfp8b ? 1088 : 576;
}

// True when every exponent byte of the tile is in [lo, 254]: then every value
// is code * 2^(E - bias) in the fp32 normal range (or zero), as TT's host
// decode gives it.
static inline bool ExponentsInRange(const uint8_t* exponents, int lo) {
  const __m256i low = _mm256_set1_epi8(static_cast<char>(lo));
  const __m256i all_ones = _mm256_set1_epi8(-1);
  for (int i = 0; i < kBfpGroupsPerTile; i += 32) {
    const __m256i e = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(exponents + i));
    const __m256i at_least_lo = _mm256_cmpeq_epi8(_mm256_max_epu8(e, low), e);
    const __m256i is_255 = _mm256_cmpeq_epi8(e, all_ones);
    if (_mm256_movemask_epi8(_mm256_andnot_si256(is_255, at_least_lo)) != -1) return false;
  }
  return true;
}

// values[g] = codes * 2^(E_g - bias) for the 16 signed int8 codes of group g.
static inline void ScaleGroup(__m128i codes, int exponent, int bias, float* values) {
  const __m256 scale = _mm256_castsi256_ps(_mm256_set1_epi32((exponent - bias + 127) << 23));
  const __m256 lo = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(codes));
  const __m256 hi = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(codes, 8)));
  _mm256_store_ps(values, _mm256_mul_ps(lo, scale));
  _mm256_store_ps(values + 8, _mm256_mul_ps(hi, scale));
}

// The 16 signed codes (+-magnitude, as int8) of groups g and g + 1 of a
// tile's data (g even).
static inline void GroupCodePair(TileFormat format, const uint8_t* data, int g, __m128i* codes) {
  if (format == TileFormat::kBfp8b) {
    // Sign-magnitude bytes: vpsignb negates the magnitude where the sign is set.
    for (int j = 0; j < 2; ++j) {
      const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + 16 * (g + j)));
      codes[j] = _mm_sign_epi8(_mm_and_si128(bytes, _mm_set1_epi8(0x7F)), bytes);
    }
    return;
  }
  // 8 bytes per group, low nibble first; sign-magnitude nibble to signed int8
  // by table (-0 becomes 0).
  const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + 8 * g));
  const __m128i low_nibbles = _mm_set1_epi8(0x0F);
  const __m128i lo = _mm_and_si128(bytes, low_nibbles);
  const __m128i hi = _mm_and_si128(_mm_srli_epi16(bytes, 4), low_nibbles);
  const __m128i table = _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 0, -1, -2, -3, -4, -5, -6, -7);
  codes[0] = _mm_shuffle_epi8(table, _mm_unpacklo_epi8(lo, hi));
  codes[1] = _mm_shuffle_epi8(table, _mm_unpackhi_epi8(lo, hi));
}

// Value = code * 2^(E - bias) for TT's bfp formats.
static inline int ScaleBias(TileFormat format) { return format == TileFormat::kBfp8b ? 133 : 129; }

// True when every value of the tile is code * 2^(E - bias) in the fp32 normal
// range (or zero), as TT's host decode gives it.
static inline bool TileInRange(TileFormat format, const uint8_t* tile) {
  return ExponentsInRange(tile, ScaleBias(format) - 126);
}

// values = the exact fp32 values of `tile` in group order: values[g][i] is
// datum i of group g = face * 16 + row_in_face (spec §1.2), i.e. tile row
// (g / 32) * 16 + g % 16, column ((g / 16) % 2) * 16 + i.
static inline void DecodeTile(TileFormat format, const uint8_t* tile, float (*values)[kFaceDim]) {
  if (!TileInRange(format, tile)) {
    // Denormal, inf or NaN values: TT's host decode, value by value.
    DecodeBfpGroupsToFp32(format, tile, tile + kBfpGroupsPerTile, kBfpGroupsPerTile, &values[0][0]);
    return;
  }
  for (int g = 0; g < kBfpGroupsPerTile; g += 2) {
    __m128i codes[2];
    GroupCodePair(format, tile + kBfpGroupsPerTile, g, codes);
    for (int j = 0; j < 2; ++j) ScaleGroup(codes[j], tile[g + j], ScaleBias(format), values[g + j]);
  }
}

// values[g][i] = code i of group g as fp32, a small integer (-0 becomes 0):
// the tile without its scales, for loops that scale the activations instead.
static inline void DecodeTileCodes(TileFormat format, const uint8_t* tile,
                                   float (*values)[kFaceDim]) {
  for (int g = 0; g < kBfpGroupsPerTile; g += 2) {
    __m128i codes[2];
    GroupCodePair(format, tile + kBfpGroupsPerTile, g, codes);
    for (int j = 0; j < 2; ++j) {
      _mm256_store_ps(values[g + j], _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(codes[j])));
      _mm256_store_ps(values[g + j] + 8,
                      _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(codes[j], 8))));
    }
  }
}

}  // namespace lmhead::avx2_decode

#endif  // LMHEAD_KERNELS_AVX2_BFP_DECODE_AVX2_H_
