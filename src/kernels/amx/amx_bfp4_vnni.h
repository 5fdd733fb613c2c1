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
// on the panel's footer first. The packed layout already is VNNI's: the pair
// of DecodeScaledPairs (tile rows 2 pair, 2 pair + 1 per column) is B row
// `pair` of half h.
static inline void DecodePanelTile(const uint8_t* tile, BTilePair& out) {
  avx512_bf16::DecodeScaledPairs(tile, avx512_bf16::CodeTable(),
                                 [&out](int h, int pair, __m512i v) {
                                   _mm512_store_si512((h == 0 ? out.left : out.right).v[pair], v);
                                 });
}

}  // namespace lmhead::amx

#endif  // LMHEAD_KERNELS_AMX_AMX_BFP4_VNNI_H_
