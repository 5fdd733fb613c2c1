// SPDX-License-Identifier: Apache-2.0
// The AMX-BF16 fp32 matmul over bfp4_b tiles, written once over a tile-operations policy.
//
// Included by fp32_amx.cc, which instantiates it with the real tile
// instructions, and by amx_emulation_test.cc, which instantiates it with a
// scalar model of them, so the data layout, blocking and edge handling are
// tested on CPUs without AMX. Needs AVX-512 F/BW/DQ/VL for the decode.
//
// Tile registers: C0..C3 (tmm0-3) hold a 32 x 32 fp32 output block (rows
// 0-15 | 16-31 x columns 0-15 | 16-31), A0/A1 (tmm4-5) 16 activation rows x 32
// k each, B (tmm6-7) the two column halves of one decoded weight tile. Every
// tile is 16 rows x 64 bytes, so one fixed configuration serves all calls.
// Tiles policy:
//   Begin(), End()                       load the configuration, release tiles
//   ZeroC(both), LoadC(c, stride, both), StoreC(c, stride, both)
//                                        C0, C1 (and C2, C3 when `both`) from/to
//                                        a row-major 32 x 32 fp32 block
//   LoadA(half, a, stride)               A0 or A1 from 16 rows of bf16
//   LoadB(pair)                          B from a BTilePair
//   Dot(both)                            C0 += A0 B.left, C1 += A0 B.right (and
//                                        C2, C3 from A1) with TDPBF16PS
#ifndef LMHEAD_KERNELS_AMX_AMX_MATMUL_INL_H_
#define LMHEAD_KERNELS_AMX_AMX_MATMUL_INL_H_

#include <cstdint>

#include "kernels/amx/amx_bfp4_vnni.h"
#include "kernels/kernels.h"
#include "kernels/x86_intrinsics.h"

namespace lmhead::amx {

inline constexpr int kARows = 16;      // rows of one A tile
inline constexpr int kBlockRows = 32;  // rows of one C block (A0 and A1)
inline constexpr int kGemmRows = 256;  // rows sharing one decoded K block
inline constexpr int kGemmKTiles = 8;  // weight tiles decoded per K block
inline constexpr int kBfp4TileBytes = 576;

// Activation rows [row, row + 16) x k [32 kt, 32 kt + 32): straight from x
// when all of them exist, else a zero-padded copy in `pad` (rows past m, k
// past args.k). Sets *stride to the source's row stride in bytes.
static inline const uint16_t* ATile(const MatmulArgs& args, int64_t row, int64_t kt,
                                    uint16_t (&pad)[kARows][32], int64_t* stride) {
  const int64_t k0 = kt * 32;
  if (row + kARows <= args.m && k0 + 32 <= args.k) {
    *stride = args.x_stride * 2;
    return args.x + row * args.x_stride + k0;
  }
  const int64_t valid = args.k - k0;
  const __mmask32 mask =
      valid >= 32 ? ~__mmask32{0} : static_cast<__mmask32>((uint64_t{1} << valid) - 1);
  for (int r = 0; r < kARows; ++r) {
    const __m512i values =
        row + r < args.m ? _mm512_maskz_loadu_epi16(mask, args.x + (row + r) * args.x_stride + k0)
                         : _mm512_setzero_si512();
    _mm512_store_si512(pad[r], values);
  }
  *stride = 64;
  return &pad[0][0];
}

// A0 (half 0) or A1 from activation rows [row, row + 16) x tile row kt.
template <typename Tiles>
void LoadATile(const MatmulArgs& args, int half, int64_t row, int64_t kt,
               uint16_t (&pad)[kARows][32]) {
  int64_t stride = 0;
  const uint16_t* a = ATile(args, row, kt, pad, &stride);
  Tiles::LoadA(half, a, stride);
}

// Copies rows [0, rows) of a 32 x 32 block `c` to y rows [row0, row0 + rows),
// view columns of tile nt below n_cols.
static inline void StoreBlock(const MatmulArgs& args, const float* c, int64_t row0, int rows,
                              int64_t nt) {
  for (int half = 0; half < 2; ++half) {
    const int64_t n = nt * 32 + half * 16;
    const int64_t cols = args.n_cols - n;
    if (cols <= 0) break;
    const __mmask16 mask =
        cols >= 16 ? __mmask16{0xFFFF} : static_cast<__mmask16>((1u << cols) - 1);
    for (int r = 0; r < rows; ++r) {
      _mm512_mask_storeu_ps(args.y + (row0 + r) * args.y_stride + n, mask,
                            _mm512_load_ps(c + r * 32 + half * 16));
    }
  }
}

static inline const uint8_t* Bfp4Tile(const TileMatrixView& w, int64_t kt, int64_t nt) {
  return w.tiles + static_cast<size_t>(kt * w.n_tiles + nt) * kBfp4TileBytes;
}

// Tiles ahead that GemvBfp4 prefetches while walking down a tile column.
inline constexpr int64_t kPrefetchTiles = 8;

static inline void PrefetchTile(const uint8_t* tile) {
  for (int offset = 0; offset < kBfp4TileBytes; offset += 64) {
    _mm_prefetch(reinterpret_cast<const char*>(tile) + offset, _MM_HINT_T0);
  }
}

// Decode (m <= 32): C stays in tile registers over all of K, and each weight
// tile is decoded and read once. False when a tile needs another kernel
// (DecodeBfp4ToVnni); y may then be partly written.
template <typename Tiles>
bool GemvBfp4(const MatmulArgs& args) {
  const bool both = args.m > kARows;
  BTilePair b;
  alignas(64) uint16_t pad[kARows][32];
  alignas(64) float c[kBlockRows][32];
  Tiles::Begin();
  for (int64_t nt = args.nt_begin; nt < args.nt_end; ++nt) {
    Tiles::ZeroC(both);
    for (int64_t kt = 0; kt < args.w.k_tiles; ++kt) {
      // The tile column's next tiles are a bank row apart each.
      if (kt + kPrefetchTiles < args.w.k_tiles)
        PrefetchTile(Bfp4Tile(args.w, kt + kPrefetchTiles, nt));
      if (!DecodeBfp4ToVnni(Bfp4Tile(args.w, kt, nt), b)) {
        Tiles::End();
        return false;
      }
      LoadATile<Tiles>(args, 0, 0, kt, pad);
      if (both) LoadATile<Tiles>(args, 1, kARows, kt, pad);
      Tiles::LoadB(b);
      Tiles::Dot(both);
    }
    Tiles::StoreC(&c[0][0], 32 * sizeof(float), both);
    StoreBlock(args, &c[0][0], 0, static_cast<int>(args.m), nt);
  }
  Tiles::End();
  return true;
}

// One K block of up to kGemmKTiles decoded tiles applied to rows [row0,
// row0 + rows) of tile column nt, accumulating in `c` (rows x 32 fp32).
template <typename Tiles>
void GemmKBlock(const MatmulArgs& args, const BTilePair* panel, int64_t kt0, int k_tiles,
                int64_t row0, int rows, bool first, float (*c)[32]) {
  alignas(64) uint16_t pad[kARows][32];
  for (int rb = 0; rb < rows; rb += kBlockRows) {
    const bool both = rows - rb > kARows;
    float* block = &c[rb][0];
    if (first) {
      Tiles::ZeroC(both);
    } else {
      Tiles::LoadC(block, 32 * sizeof(float), both);
    }
    for (int i = 0; i < k_tiles; ++i) {
      LoadATile<Tiles>(args, 0, row0 + rb, kt0 + i, pad);
      if (both) LoadATile<Tiles>(args, 1, row0 + rb + kARows, kt0 + i, pad);
      Tiles::LoadB(panel[i]);
      Tiles::Dot(both);
    }
    Tiles::StoreC(block, 32 * sizeof(float), both);
  }
}

// Prefill: per tile column, blocks of kGemmRows rows; K in blocks of
// kGemmKTiles tiles decoded once into `panel` and shared by all those rows,
// partial sums kept in `c` between K blocks. Same false as GemvBfp4.
template <typename Tiles>
bool GemmBfp4(const MatmulArgs& args) {
  BTilePair panel[kGemmKTiles];
  alignas(64) float c[kGemmRows][32];
  Tiles::Begin();
  for (int64_t nt = args.nt_begin; nt < args.nt_end; ++nt) {
    for (int64_t row0 = 0; row0 < args.m; row0 += kGemmRows) {
      const int rows = static_cast<int>(args.m - row0 < kGemmRows ? args.m - row0 : kGemmRows);
      for (int64_t kt0 = 0; kt0 < args.w.k_tiles; kt0 += kGemmKTiles) {
        const int k_tiles = static_cast<int>(
            args.w.k_tiles - kt0 < kGemmKTiles ? args.w.k_tiles - kt0 : kGemmKTiles);
        for (int i = 0; i < k_tiles; ++i) {
          if (!DecodeBfp4ToVnni(Bfp4Tile(args.w, kt0 + i, nt), panel[i])) {
            Tiles::End();
            return false;
          }
        }
        GemmKBlock<Tiles>(args, panel, kt0, k_tiles, row0, rows, kt0 == 0, c);
      }
      for (int rb = 0; rb < rows; rb += kBlockRows) {
        StoreBlock(args, &c[rb][0], row0 + rb, rows - rb < kBlockRows ? rows - rb : kBlockRows, nt);
      }
    }
  }
  Tiles::End();
  return true;
}

}  // namespace lmhead::amx

#endif  // LMHEAD_KERNELS_AMX_AMX_MATMUL_INL_H_
