// SPDX-License-Identifier: Apache-2.0
// One bfp4_b tile decoded to two AMX B tiles (bf16, VNNI pairs), exactly, with AVX-512.
//
// Internal to the AMX kernel files; needs AVX-512 F/BW/DQ/VL. Functions have
// internal linkage so no AVX-512 code leaks to other files.
#ifndef LMHEAD_KERNELS_AMX_AMX_BFP4_VNNI_H_
#define LMHEAD_KERNELS_AMX_AMX_BFP4_VNNI_H_

#include <cstdint>

#include "kernels/x86_intrinsics.h"

namespace lmhead::amx {

// An AMX B operand of TDPBF16PS: 16 rows of 16 (k, k + 1) bf16 pairs. Row kp,
// words 2n and 2n + 1 hold W[2 kp][n] and W[2 kp + 1][n] (VNNI layout).
struct BTile {
  alignas(64) uint16_t v[16][32];
};

// The two B tiles of one 32 x 32 weight tile: columns 0-15 and 16-31.
struct BTilePair {
  BTile left;
  BTile right;
};

// Decodes a bfp4_b tile (576 bytes) into `out`: value = code * 2^(E - 129),
// exact in bf16. Returns false, leaving `out` partly written, when an exponent
// byte is outside [3, 254] (values that are fp32 denormals, inf or NaN after
// TT's host decode); callers then use a kernel that handles those.
//
// Groups 2p and 2p + 1 (face rows j, j + 1) are 16 adjacent data bytes; a byte
// shuffle interleaves them, the nibbles split into bytes, and 16-bit unpacks
// order them as (row j, row j + 1) per column: exactly one B row. A 32-entry
// word table turns codes into the bf16 of +-code (2^0 scale); adding
// (E - 129) << 7 to the nonzero words moves each row to its exponent.
static inline bool DecodeBfp4ToVnni(const uint8_t* tile, BTilePair& out) {
  const __m512i exponents = _mm512_loadu_si512(tile);
  if ((_mm512_cmplt_epu8_mask(exponents, _mm512_set1_epi8(3)) |
       _mm512_cmpeq_epi8_mask(exponents, _mm512_set1_epi8(static_cast<char>(0xFF)))) != 0) {
    return false;
  }
  const uint8_t* data = tile + 64;
  const __m512i pair_bytes =
      _mm512_broadcast_i32x4(_mm_setr_epi8(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15));
  const __m512i low4 = _mm512_set1_epi8(0x0F);
  // bf16 of +-code for codes 0..15 (8 is the never-written -0: +0 here).
  alignas(64) static constexpr uint16_t kCodeBf16[32] = {
      0x0000, 0x3F80, 0x4000, 0x4040, 0x4080, 0x40A0, 0x40C0, 0x40E0,
      0x0000, 0xBF80, 0xC000, 0xC040, 0xC080, 0xC0A0, 0xC0C0, 0xC0E0};
  const __m512i table = _mm512_load_si512(kCodeBf16);
  const __m512i first_pairs = _mm512_setr_epi64(0, 1, 8, 9, 2, 3, 10, 11);
  const __m512i last_pairs = _mm512_setr_epi64(4, 5, 12, 13, 6, 7, 14, 15);
  for (int slice = 0; slice < 8; ++slice) {
    // Groups 8 slice .. 8 slice + 7: face slice / 2, rows (slice % 2) * 8 + 0..7.
    const int face = slice / 2;
    const int kp0 = (face / 2) * 8 + (slice % 2) * 4;
    BTile& b = face % 2 == 0 ? out.left : out.right;
    const __m512i paired = _mm512_shuffle_epi8(_mm512_loadu_si512(data + slice * 64), pair_bytes);
    const __m512i lo = _mm512_and_si512(paired, low4);
    const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(paired, 4), low4);
    // Per 128-bit lane (pair q): columns 0-7 in w0, 8-15 in w1.
    const __m512i w0 = _mm512_unpacklo_epi16(lo, hi);
    const __m512i w1 = _mm512_unpackhi_epi16(lo, hi);
    const __m512i pairs01 = _mm512_permutex2var_epi64(w0, first_pairs, w1);
    const __m512i pairs23 = _mm512_permutex2var_epi64(w0, last_pairs, w1);
    const __m256i codes[4] = {
        _mm512_castsi512_si256(pairs01), _mm512_extracti64x4_epi64(pairs01, 1),
        _mm512_castsi512_si256(pairs23), _mm512_extracti64x4_epi64(pairs23, 1)};
    for (int q = 0; q < 4; ++q) {
      const int g = slice * 8 + 2 * q;
      const uint32_t adjust = static_cast<uint32_t>(((tile[g] - 129) << 7) & 0xFFFF) |
                              (static_cast<uint32_t>(((tile[g + 1] - 129) << 7) & 0xFFFF) << 16);
      const __m512i values = _mm512_permutexvar_epi16(_mm512_cvtepu8_epi16(codes[q]), table);
      const __m512i scaled =
          _mm512_mask_add_epi16(values, _mm512_test_epi16_mask(values, values), values,
                                _mm512_set1_epi32(static_cast<int>(adjust)));
      _mm512_store_si512(b.v[kp0 + q], scaled);
    }
  }
  return true;
}

}  // namespace lmhead::amx

#endif  // LMHEAD_KERNELS_AMX_AMX_BFP4_VNNI_H_
