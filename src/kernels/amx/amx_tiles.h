// SPDX-License-Identifier: Apache-2.0
// The tile-register policy of the AMX kernel templates, on the real tile instructions.
//
// Internal to the AMX kernel files (compiled with -mamx-tile -mamx-bf16);
// everything has internal linkage. amx_emulated.cc implements the same
// policy on a scalar model; both load the configurations of amx_tile_config.h.
//
// Tile registers: C0..C3 (tmm0-3) hold a 32 x 32 fp32 block (rows 0-15 |
// 16-31 x columns 0-15 | 16-31), A0/A1 (tmm4-5) 16 activation rows x 2 P k
// each, B (tmm6-7) P k pairs of the two column halves of one decoded weight
// tile (P = 16: a whole tile row; P = 8: one LoFi chunk of 16 k).
// Policy:
//   Begin(rows0, rows1, pairs)           configure A0, C0, C1 with rows0 rows
//                                        and A1, C2, C3 with rows1 (0: unused),
//                                        A 4 pairs bytes wide, B pairs rows
//   End()                                release the tiles
//   ZeroC(both), LoadC(c, stride, both), StoreC(c, stride, both)
//                                        C0, C1 (and C2, C3 when `both`) from/to
//                                        a row-major block of 32 fp32 columns
//   LoadA(half, a, stride)               A0 or A1 from rows of bf16
//   LoadB(pair, first)                   B from rows [first, first + pairs) of
//                                        a BTilePair
//   Dot(both)                            C0 += A0 B.left, C1 += A0 B.right (and
//                                        C2, C3 from A1) with TDPBF16PS
#ifndef LMHEAD_KERNELS_AMX_AMX_TILES_H_
#define LMHEAD_KERNELS_AMX_AMX_TILES_H_

#include <cstdint>

#include "kernels/amx/amx_bfp4_vnni.h"
#include "kernels/amx/amx_tile_config.h"
#include "kernels/x86_intrinsics.h"

namespace lmhead::amx {

namespace {  // internal linkage in every file that includes this header

// The intrinsics take the tile number as a literal, hence one call per
// register.
struct AmxTiles {
  static void Begin(int rows0, int rows1, int pairs) {
    _tile_loadconfig(&TileConfigFor(rows0 + rows1, pairs));
  }
  static void End() { _tile_release(); }
  static void ZeroC(bool both) {
    _tile_zero(0);
    _tile_zero(1);
    if (both) {
      _tile_zero(2);
      _tile_zero(3);
    }
  }
  static void LoadC(const float* c, int64_t stride, bool both) {
    const int64_t lower = 16 * stride / static_cast<int64_t>(sizeof(float));
    _tile_loadd(0, c, stride);
    _tile_loadd(1, c + 16, stride);
    if (both) {
      _tile_loadd(2, c + lower, stride);
      _tile_loadd(3, c + lower + 16, stride);
    }
  }
  static void StoreC(float* c, int64_t stride, bool both) {
    const int64_t lower = 16 * stride / static_cast<int64_t>(sizeof(float));
    _tile_stored(0, c, stride);
    _tile_stored(1, c + 16, stride);
    if (both) {
      _tile_stored(2, c + lower, stride);
      _tile_stored(3, c + lower + 16, stride);
    }
  }
  static void LoadA(int half, const uint16_t* a, int64_t stride) {
    if (half == 0) {
      _tile_loadd(4, a, stride);
    } else {
      _tile_loadd(5, a, stride);
    }
  }
  static void LoadB(const BTilePair& b, int first) {
    _tile_loadd(6, b.left.v[first], 64);
    _tile_loadd(7, b.right.v[first], 64);
  }
  static void Dot(bool both) {
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 4, 7);
    if (both) {
      _tile_dpbf16ps(2, 5, 6);
      _tile_dpbf16ps(3, 5, 7);
    }
  }
};

}  // namespace
}  // namespace lmhead::amx

#endif  // LMHEAD_KERNELS_AMX_AMX_TILES_H_
