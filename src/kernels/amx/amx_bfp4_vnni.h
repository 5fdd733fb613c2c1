// SPDX-License-Identifier: Apache-2.0
// One packed bfp4_b tile decoded to two AMX B tiles (bf16, VNNI pairs), exactly, with AVX-512.
//
// Internal to the AMX kernel files; needs AVX-512 F/BW/DQ/VL. Functions have
// internal linkage so no AVX-512 code leaks to other files.
#ifndef LMHEAD_KERNELS_AMX_AMX_BFP4_VNNI_H_
#define LMHEAD_KERNELS_AMX_AMX_BFP4_VNNI_H_

#include <cstdint>

#include "kernels/avx512/bf16_panels_avx512.h"
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

// Decodes a kBfp4bPanels tile (576 bytes, tile_layout.h) into `out`: value =
// code * 2^(E - 129), exact in bf16 when 3 <= E <= 254, which callers check
// on the panel's footer first (other exponents give garbage here).
//
// The packed layout already is VNNI's: nibble q of block (h, i) holds, per
// word pair (2 n, 2 n + 1), column 16 h + n at tile rows 8 i + 2 q and 8 i +
// 2 q + 1, which is B row 4 i + q of half h. vpermw looks the codes up as
// bf16 at scale 2^0; adding (E - 129) << 7 to the non-zero words moves each
// tile row to its exponent (ScaleBits holds those words per tile row, so its
// 32-bit lane kp is the pair of B row kp).
static inline void DecodePanelTile(const uint8_t* tile, BTilePair& out) {
  alignas(64) uint32_t scale_pairs[2][16];
  _mm512_store_si512(scale_pairs[0], avx512_bf16::ScaleBits(tile, 0));
  _mm512_store_si512(scale_pairs[1], avx512_bf16::ScaleBits(tile, 1));
  const __m512i codes = avx512_bf16::CodeTable();
  const __m512i magnitude = _mm512_set1_epi16(0x7FFF);  // -0 (code 8) stays -0
  for (int block = 0; block < avx512_bf16::kTileBlocks; ++block) {
    const int h = block / 4, i = block % 4;
    BTile& b = h == 0 ? out.left : out.right;
    const __m512i data = _mm512_loadu_si512(tile + 64 + 64 * block);
    for (int q = 0; q < 4; ++q) {
      const int kp = 4 * i + q;
      const __m512i values = avx512_bf16::BlockWeights(data, q, codes);
      _mm512_store_si512(
          b.v[kp], _mm512_mask_add_epi16(values, _mm512_test_epi16_mask(values, magnitude), values,
                                         _mm512_set1_epi32(static_cast<int>(scale_pairs[h][kp]))));
    }
  }
}

}  // namespace lmhead::amx

#endif  // LMHEAD_KERNELS_AMX_AMX_BFP4_VNNI_H_
