// SPDX-License-Identifier: Apache-2.0
// bfp4_b tiles straight from their nibbles for 1-4 rows: two table lookups per 32 weights.
//
// Groups 2p and 2p + 1 (face rows j and j + 1 of one face) are 16 adjacent
// bytes. One byte shuffle per 64 bytes interleaves each pair's bytes, so that
// widening 16 bytes to 16 dword lanes puts row j's byte i in lane 2i and row
// j + 1's in lane 2i + 1. A 16-entry table lookup (vpermps reads only the low
// 4 bits of each index) turns the low nibbles into the signed values of the
// even columns; a shift and a second lookup give the odd columns. The
// multiplier is the pair of scaled activations (xs_j, xs_j+1) broadcast as one
// 64-bit value, so each accumulator lane holds one column's partial sum over
// even or odd rows; the two are added when the tile is done.
#include "kernels/avx512/fp32_avx512_bfp4.h"

#include <cstdint>
#include <type_traits>

#include "kernels/x86_intrinsics.h"

namespace lmhead::avx512_fp32 {
namespace {

constexpr int kPairs = 32;  // group pairs per tile
constexpr int kGroups = 64;

// R rows; F accumulator sets per row (faces folded modulo F) so that enough
// independent FMA chains are in flight for few rows.
template <int R>
void TileFewRows(const uint8_t* data, const float* xs, float* acc, int acc_stride) {
  constexpr int F = R <= 2 ? 4 : 2;
  const __m512 table = _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, -0.0f, -1, -2, -3, -4, -5, -6, -7);
  const __m512i pair_bytes =
      _mm512_broadcast_i32x4(_mm_setr_epi8(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15));
  alignas(64) uint8_t paired[kPairs * 16];
  for (int slice = 0; slice < 8; ++slice) {
    _mm512_store_si512(paired + slice * 64,
                       _mm512_shuffle_epi8(_mm512_loadu_si512(data + slice * 64), pair_bytes));
  }
  __m512 even[R][F], odd[R][F];
  for (int r = 0; r < R; ++r) {
    for (int f = 0; f < F; ++f) even[r][f] = odd[r][f] = _mm512_setzero_ps();
  }
  // Faces interleaved (p = face * 8 + row pair) to alternate accumulators.
#pragma GCC unroll 32
  for (int i = 0; i < kPairs; ++i) {
    const int face = i % 4, p = face * 8 + i / 4;
    const __m512i bytes =
        _mm512_cvtepu8_epi32(_mm_load_si128(reinterpret_cast<const __m128i*>(paired + p * 16)));
    const __m512 lo = _mm512_permutexvar_ps(bytes, table);
    const __m512 hi = _mm512_permutexvar_ps(_mm512_srli_epi32(bytes, 4), table);
    for (int r = 0; r < R; ++r) {
      double pair;  // (xs[2p], xs[2p + 1]) as one 64-bit pattern
      __builtin_memcpy(&pair, xs + r * kGroups + 2 * p, sizeof(pair));
      const __m512 x = _mm512_castpd_ps(_mm512_set1_pd(pair));
      even[r][face % F] = _mm512_fmadd_ps(x, lo, even[r][face % F]);
      odd[r][face % F] = _mm512_fmadd_ps(x, hi, odd[r][face % F]);
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int half = 0; half < 2; ++half) {
      __m512 e = even[r][half], o = odd[r][half];
      for (int f = half + 2; f < F; f += 2) {
        e = _mm512_add_ps(e, even[r][f]);
        o = _mm512_add_ps(o, odd[r][f]);
      }
      // Lane 2i + 1 of e holds column 2i over odd rows; fold the lane pairs.
      e = _mm512_add_ps(e, _mm512_permute_ps(e, 0xB1));
      o = _mm512_add_ps(o, _mm512_permute_ps(o, 0xB1));
      float* a = acc + r * acc_stride + half * 16;
      _mm512_storeu_ps(a, _mm512_add_ps(_mm512_loadu_ps(a), _mm512_mask_blend_ps(0xAAAA, e, o)));
    }
  }
}

}  // namespace

void AddBfp4TileFewRows(const uint8_t* data, const float* xs, int rows, float* acc,
                        int acc_stride) {
  switch (rows) {
    case 4:
      TileFewRows<4>(data, xs, acc, acc_stride);
      break;
    case 3:
      TileFewRows<3>(data, xs, acc, acc_stride);
      break;
    case 2:
      TileFewRows<2>(data, xs, acc, acc_stride);
      break;
    case 1:
      TileFewRows<1>(data, xs, acc, acc_stride);
      break;
    default:
      break;
  }
}

}  // namespace lmhead::avx512_fp32
