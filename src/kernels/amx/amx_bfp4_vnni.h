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

inline constexpr int kDecodeAhead = 1;

// The tiles of one panel, each decoded kDecodeAhead tiles before its tile
// loads read it. TILELOADD takes no data forwarded from vector stores: it
// waits until the decode's stores retire, and they retire only after the tile
// operations issued before them complete. Decoded just before its load, each
// tile would wait for the previous tile's TDPBF16PS; decoded ahead, the wait
// overlaps the tile work in between.
class PanelDecoder {
 public:
  // Begins panel `panel` (packed tiles in k order) of k_tiles tiles.
  void Start(const uint8_t* panel, int64_t k_tiles) {
    panel_ = panel;
    k_tiles_ = k_tiles;
    for (int64_t kt = 0; kt < kDecodeAhead && kt < k_tiles; ++kt) Decode(kt);
  }

  // Tile kt decoded, after decoding tile kt + kDecodeAhead, if any. Calls
  // come in k order; the result is valid until the next call.
  const BTilePair& Next(int64_t kt) {
    if (kt + kDecodeAhead < k_tiles_) Decode(kt + kDecodeAhead);
    return decoded_[kt % kSlots];
  }

 private:
  static constexpr int kSlots = kDecodeAhead + 1;

  void Decode(int64_t kt) {
    const uint8_t* tile = panel_ + kt * avx512_bf16::kTileBytes;
    avx512_bf16::PrefetchAhead(tile);
    DecodePanelTile(tile, decoded_[kt % kSlots]);
  }

  const uint8_t* panel_ = nullptr;
  int64_t k_tiles_ = 0;
  BTilePair decoded_[kSlots];
};

}  // namespace lmhead::amx

#endif  // LMHEAD_KERNELS_AMX_AMX_BFP4_VNNI_H_
