// SPDX-License-Identifier: Apache-2.0
// Decoding one bfp tile to fp32 with AVX-512: codes as exact small integers, then scaled.
//
// Internal to the AVX-512 kernel files (compiled with AVX-512 flags); every
// function has internal linkage so no AVX-512 code leaks to other files.
#ifndef LMHEAD_KERNELS_AVX512_BFP_DECODE_AVX512_H_
#define LMHEAD_KERNELS_AVX512_BFP_DECODE_AVX512_H_

#include <cstddef>
#include <cstdint>

#include "kernels/kernels.h"
#include "kernels/x86_intrinsics.h"
#include "lmhead/formats.h"

namespace lmhead::avx512_decode {

// A decoded tile in group order: values[g][i] is datum i of group g = face * 16
// + row_in_face (spec §1.2), i.e. tile row (g / 32) * 16 + g % 16, column
// ((g / 16) % 2) * 16 + i.
struct DecodedTile {
  alignas(64) float values[kBfpGroupsPerTile][kFaceDim];
};

// Signed codes (+-magnitude) of the 64 groups as int8: group g at CodeOffset(g).
struct TileCodes {
  alignas(64) int8_t bytes[kTileElems];
};

// Offset of group g's 16 codes in TileCodes.
static inline int CodeOffset(int g) { return g * kFaceDim; }

// bfp8_b data (1024 bytes, sign-magnitude bytes, group by group) to signed
// int8 codes.
static inline void SplitBfp8(const uint8_t* data, TileCodes& codes) {
  for (int g = 0; g < kBfpGroupsPerTile; g += 4) {
    const __m512i bytes = _mm512_loadu_si512(data + g * kFaceDim);
    const __m512i mag = _mm512_and_si512(bytes, _mm512_set1_epi8(0x7F));
    _mm512_store_si512(
        codes.bytes + CodeOffset(g),
        _mm512_mask_sub_epi8(mag, _mm512_movepi8_mask(bytes), _mm512_setzero_si512(), mag));
  }
}

// True when every exponent byte of the tile is in [lo, 254]: then all values
// are code * 2^(E - bias) in the fp32 normal range (or zero), as TT's host
// decode gives them. Other tiles take DecodeTileSlow.
static inline bool ExponentsInRange(const uint8_t* exponents, int lo) {
  const __m512i e = _mm512_loadu_si512(exponents);
  const __mmask64 out = _mm512_cmplt_epu8_mask(e, _mm512_set1_epi8(static_cast<char>(lo))) |
                        _mm512_cmpeq_epi8_mask(e, _mm512_set1_epi8(static_cast<char>(0xFF)));
  return out == 0;
}

// 2^(E - bias) for the 16 exponent bytes at `exponents` (E >= bias - 126).
static inline __m512 Scales(const uint8_t* exponents, int bias) {
  const __m512i e =
      _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(exponents)));
  return _mm512_castsi512_ps(
      _mm512_slli_epi32(_mm512_sub_epi32(e, _mm512_set1_epi32(bias - 127)), 23));
}

// values = code * 2^(E - bias) for all 64 groups.
static inline void ScaleCodes(const TileCodes& codes, const uint8_t* exponents, int bias,
                              DecodedTile& out) {
  for (int face = 0; face < 4; ++face) {
    alignas(64) float scale[kFaceDim];
    _mm512_store_ps(scale, Scales(exponents + face * kFaceDim, bias));
    for (int j = 0; j < kFaceDim; ++j) {
      const int g = face * kFaceDim + j;
      const __m512i c = _mm512_cvtepi8_epi32(
          _mm_load_si128(reinterpret_cast<const __m128i*>(codes.bytes + CodeOffset(g))));
      _mm512_store_ps(out.values[g],
                      _mm512_mul_ps(_mm512_cvtepi32_ps(c), _mm512_set1_ps(scale[j])));
    }
  }
}

}  // namespace lmhead::avx512_decode

#endif  // LMHEAD_KERNELS_AVX512_BFP_DECODE_AVX512_H_
