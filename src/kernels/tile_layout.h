// SPDX-License-Identifier: Apache-2.0
// Rearranging weight tiles, once at load time, into the layout a kernel set streams best.
//
// The shard files keep TT's tiles in row-major tile order (TileLayout::
// kTtRowMajor). A kernel set may ask for another layout (MatmulKernels::layout);
// the engine then packs each bank once with PackTiles and hands the kernels
// views of the packed copy. Packing keeps every value: UnpackTile gives back
// tiles that decode to the same numbers.
//
// TileLayout::kBfp4bPanels (bfp4_b only), for the vdpbf16ps fp32 kernel and
// the tt-lofi panel kernels (avx512/fp32_bf16_avx512.cc,
// avx512/lofi_panels-inl.h) and the AMX sets.
// Each tile column nt becomes one panel of Bfp4bPanelBytes(Kt) contiguous
// bytes: Kt packed tiles of 576 bytes in k order, then a footer of
// Bfp4bPanelFooterBytes(Kt) bytes. A packed tile holds:
//   bytes [0, 64):   the shared exponents in half-major order: byte 32 h + r is
//                    the exponent of tile row r, columns [16 h, 16 h + 16)
//                    (TT group ((r / 16) * 2 + h) * 16 + r % 16, spec §1.2).
//                    A group whose 16 codes are all +-0 decodes to zeros
//                    whatever its exponent; it gets the panel's exp_min
//                    instead, so that its exponent never widens the range
//                    the kernels check.
//   bytes [64, 576): 8 blocks of 64 bytes. Block b covers columns [16 h,
//                    16 h + 16) with h = b / 4 and tile rows [8 i, 8 i + 8)
//                    with i = b % 4. Its little-endian 16-bit word j holds,
//                    in bits [4 q, 4 q + 4), the sign-magnitude code of tile
//                    row 8 i + 2 q + j % 2, column 16 h + j / 2 (q = 0..3).
//                    So word pair (2 l, 2 l + 1) is column 16 h + l at two
//                    adjacent rows: one bf16 pair of vdpbf16ps once the
//                    nibble is looked up.
// The footer, where "groups" means groups holding a non-zero code:
//   byte 0, exp_min; byte 1, exp_max: the smallest and largest exponent of the
//     panel's groups (both 129 when there is none);
//   byte 2: the largest byte of [16, 16 + 2 Kt);
//   byte 16 + 2 kt + c: the exponent spread of chunk c (tile rows [16 c,
//     16 c + 16), one LoFi MVMUL) of tile kt: over both column halves, the
//     largest (max - min) of the exponents of the half's groups, 0 if none;
//   every other byte is zero.
#ifndef LMHEAD_KERNELS_TILE_LAYOUT_H_
#define LMHEAD_KERNELS_TILE_LAYOUT_H_

#include <cstddef>
#include <cstdint>

#include "kernels/kernels.h"

namespace lmhead {

inline constexpr int64_t kBfp4bTileBytes = 576;
// Footer bytes before the per-chunk exponent spreads.
inline constexpr int64_t kBfp4bFooterSpreads = 16;

// Bytes of the footer and of the whole kBfp4bPanels panel of Kt tiles: both
// multiples of 64, so every packed tile stays 64-byte aligned.
int64_t Bfp4bPanelFooterBytes(int64_t k_tiles);
int64_t Bfp4bPanelBytes(int64_t k_tiles);

// Bytes that `n_tiles` tile columns of `k_tiles` tiles of `format` take in
// `layout`. Precondition: the layout holds the format (kBfp4bPanels: bfp4_b).
size_t PackedTileBytes(TileLayout layout, TileFormat format, int64_t k_tiles, int64_t n_tiles);

// Packs tile columns [0, n_tiles) of `src` (kTtRowMajor, n_tiles <=
// src.n_tiles) into `dst` (PackedTileBytes bytes) and returns the view of
// dst, whose n_tiles is `n_tiles`.
TileMatrixView PackTiles(TileLayout layout, const TileMatrixView& src, int64_t n_tiles,
                         uint8_t* dst);

// The TT bytes of tile (kt, nt) of any view, into `tile` (TileBytes(format)
// bytes). For kBfp4bPanels the exponent of an all-zero group is the packed
// one (the values are the same).
void UnpackTile(const TileMatrixView& w, int64_t kt, int64_t nt, uint8_t* tile);

}  // namespace lmhead

#endif  // LMHEAD_KERNELS_TILE_LAYOUT_H_
