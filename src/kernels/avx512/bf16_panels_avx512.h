// SPDX-License-Identifier: Apache-2.0
// What the kernels over kBfp4bPanels tiles share: code lookup, pair products, tile walk.
//
// Internal to the panel kernels (avx512/fp32_*.cc, lofi_*.cc) and the AMX
// sets. Needs AVX-512 F/BW/DQ/VL; DotPair also needs AVX512-BF16, and only
// the files compiled with it call it. Every function has internal linkage so
// no such code reaches other files (see avx512_kernels.h).
#ifndef LMHEAD_KERNELS_AVX512_BF16_PANELS_AVX512_H_
#define LMHEAD_KERNELS_AVX512_BF16_PANELS_AVX512_H_

#include <cstdint>

#include "kernels/x86_intrinsics.h"
#include "lmhead/formats.h"

namespace lmhead::avx512_bf16 {

inline constexpr int64_t kTileBytes = 576;  // a packed bfp4_b tile (tile_layout.h)
inline constexpr int kTileBlocks = 8;       // 64-byte blocks of codes per tile
inline constexpr int kScaleBias = 129;      // bfp4_b value = code * 2^(E - 129)
inline constexpr int kPrefetchTiles = 8;    // ~4.6 KB ahead of the tile being read

// Lanes [0, k - kt * 32) of tile row kt.
static inline __mmask32 KMask(int64_t k, int64_t kt) {
  const int64_t valid = k - kt * kTileDim;
  return valid >= kTileDim ? ~__mmask32{0} : static_cast<__mmask32>((uint32_t{1} << valid) - 1);
}

// bf16 of the sign-magnitude codes 0..7, -0..-7, twice (vpermw reads 5 bits).
static inline __m512i CodeTable() {
  return _mm512_set_epi16(-16160, -16192, -16224, -16256, -16320, -16384, -16512, -32768, 16608,
                          16576, 16544, 16512, 16448, 16384, 16256, 0, -16160, -16192, -16224,
                          -16256, -16320, -16384, -16512, -32768, 16608, 16576, 16544, 16512, 16448,
                          16384, 16256, 0);
}

// Weight vector q of a 64-byte block of codes: bf16 pairs, rows 2 p and
// 2 p + 1 of one column per 32-bit lane (p the block's pair q).
static inline __m512i BlockWeights(__m512i data, int q, __m512i codes) {
  return _mm512_permutexvar_epi16(q == 0 ? data : _mm512_srli_epi16(data, 4 * q), codes);
}

// The even (low) or odd (high) bf16 words of each 32-bit lane, as fp32. For a
// BlockWeights vector: lane l holds column l's weight of tile row 2 p (even)
// or 2 p + 1 (odd).
static inline __m512 EvenWords(__m512i pairs) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(pairs, 16));
}
static inline __m512 OddWords(__m512i pairs) {
  return _mm512_castsi512_ps(
      _mm512_and_si512(pairs, _mm512_set1_epi32(static_cast<int>(0xFFFF0000u))));
}

// The value of a bf16 pattern.
static inline float Bf16Value(uint16_t bits) {
  const uint32_t fp32_bits = uint32_t{bits} << 16;
  float value;
  __builtin_memcpy(&value, &fp32_bits, sizeof(value));
  return value;
}

// The 32 bits of the bf16 pair at x (which need not be 4-byte aligned).
static inline int32_t LoadPair(const uint16_t* x) {
  int32_t pair;
  __builtin_memcpy(&pair, x, sizeof(pair));
  return pair;
}

// acc += the bf16 pairs of `w` times the pair at `pair`, broadcast from memory.
// Inline asm because GCC 12 keeps the pair in a register and spends a shuffle
// per broadcast instead of using vdpbf16ps's {1to16} memory operand.
static inline __m512 DotPair(__m512 acc, __m512i w, const uint32_t* pair) {
  asm("vdpbf16ps %2%{1to16%}, %1, %0" : "+v"(acc) : "v"(w), "m"(*pair));
  return acc;
}

// Software prefetch of the tile kPrefetchTiles ahead in the same panel (the
// next panel's first tiles past its end; prefetches never fault).
static inline void PrefetchAhead(const uint8_t* tile) {
  for (int line = 0; line < 9; ++line) {
    _mm_prefetch(reinterpret_cast<const char*>(tile + kPrefetchTiles * kTileBytes + 64 * line),
                 _MM_HINT_T0);
  }
}

// E * 128 - 129 * 128 for the 32 exponents of column half h of a packed tile:
// added to a bf16 pattern's bits, it multiplies the value by 2^(E - 129).
static inline __m512i ScaleBits(const uint8_t* tile, int h) {
  return _mm512_sub_epi16(
      _mm512_slli_epi16(
          _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(tile + 32 * h))),
          7),
      _mm512_set1_epi16(kScaleBias << 7));
}

// Decodes a packed tile to bf16 values, exactly: calls store(h, pair, v) with
// v the 32 bf16 of tile rows 2 pair and 2 pair + 1, column half h (column
// 16 h + l's two rows in 32-bit lane l), each code times its group's
// 2^(E - 129); +-0 stays as it is. Exact only when 3 <= E <= 254 (the panel
// footer says); callers check that first. `codes` is CodeTable().
template <typename Store>
static inline void DecodeScaledPairs(const uint8_t* tile, __m512i codes, Store store) {
  alignas(64) uint32_t scale[2][16];  // per pair: rows 2 pair (low half) and 2 pair + 1
  _mm512_store_si512(scale[0], ScaleBits(tile, 0));
  _mm512_store_si512(scale[1], ScaleBits(tile, 1));
  const __m512i magnitude = _mm512_set1_epi16(0x7FFF);
#pragma GCC unroll 8
  for (int b = 0; b < kTileBlocks; ++b) {
    const int h = b / 4;
    const __m512i data = _mm512_loadu_si512(tile + 64 + 64 * b);
#pragma GCC unroll 4
    for (int q = 0; q < 4; ++q) {
      const int pair = (b % 4) * 4 + q;
      const __m512i w = BlockWeights(data, q, codes);
      const __mmask32 nonzero = _mm512_test_epi16_mask(w, magnitude);
      store(h, pair,
            _mm512_mask_add_epi16(w, nonzero, w,
                                  _mm512_set1_epi32(static_cast<int>(scale[h][pair]))));
    }
  }
}

// The unit of the gemms' scratch vectors: std::allocator honours its 64-byte
// alignment.
struct alignas(64) CacheLine {
  uint8_t bytes[64];
};

// out[j] = x[k0 + j] as fp32 for j < count (a multiple of 16), zero where
// k0 + j >= k (the row's length); out 64-byte aligned.
static inline void WidenToFp32(const uint16_t* x, int64_t k0, int64_t count, int64_t k,
                               float* out) {
  for (int64_t j = 0; j < count; j += kFaceDim) {
    const int64_t left = k - (k0 + j);
    const __mmask16 mask = left >= kFaceDim ? __mmask16{0xFFFF}
                           : left > 0       ? static_cast<__mmask16>((1u << left) - 1)
                                            : __mmask16{0};
    const __m512i words = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(mask, x + k0 + j));
    _mm512_store_ps(out + j, _mm512_castsi512_ps(_mm512_slli_epi32(words, 16)));
  }
}

// Block i of both column halves (blocks i and 4 + i: tile rows [8 i, 8 i +
// 8)) of tile row kt of P panels.
template <int P>
static inline void LoadBlocks(const uint8_t* panels, int64_t panel_bytes, int64_t kt, int i,
                              __m512i (*data)[2]) {
  for (int p = 0; p < P; ++p) {
    const uint8_t* blocks = panels + p * panel_bytes + kt * kTileBytes + 64;
    for (int h = 0; h < 2; ++h) data[p][h] = _mm512_loadu_si512(blocks + 64 * (4 * h + i));
  }
}

// The 2 P R register sums of the fp32 panel gemvs: [panel][row][column half].
template <int R, int P>
static inline void ZeroSums(__m512 (*acc)[R][2]) {
  for (int p = 0; p < P; ++p) {
    for (int r = 0; r < R; ++r) acc[p][r][0] = acc[p][r][1] = _mm512_setzero_ps();
  }
}

// out[(p * R + r) * 32 + c] = the sum of panel p, row r, column c.
template <int R, int P>
static inline void StoreSums(const __m512 (*acc)[R][2], float* out) {
  for (int p = 0; p < P; ++p) {
    for (int r = 0; r < R; ++r) {
      for (int h = 0; h < 2; ++h) {
        _mm512_store_ps(out + (p * R + r) * kTileDim + h * kFaceDim, acc[p][r][h]);
      }
    }
  }
}

}  // namespace lmhead::avx512_bf16

#endif  // LMHEAD_KERNELS_AVX512_BF16_PANELS_AVX512_H_
