// SPDX-License-Identifier: Apache-2.0
// The AMX-BF16 fp32 matmul over kBfp4bPanels tiles, written once over a tile-operations policy.
//
// Included by fp32_amx.cc, which instantiates it with the real tile
// instructions, and by amx_emulated.cc, which instantiates it with a scalar
// model of them, so the data layout, blocking and edge handling are tested on
// CPUs without AMX. Needs AVX-512 F/BW/DQ/VL for the decode.
//
// Why the fp32 bound of kernels.h holds: a decoded weight is code * 2^(E -
// 129), exact in bf16, so every product x * w is exact in fp32 and TDPBF16PS
// rounds only its sums, like fp32 FMAs. TDPBF16PS treats denormal inputs as
// zero and flushes denormal results; a row is computed this way only under
// the conditions of the vdpbf16ps kernels (PanelIsFast, fp32_bf16_avx512.cc),
// which keep every product a multiple of 2^-126 and every sum finite. Rows
// refused for a panel are redone by MatmulFp32Reference (rare: extreme or
// non-finite values).
//
// The Tiles policy and the tile registers are amx_tiles.h's.
#ifndef LMHEAD_KERNELS_AMX_AMX_MATMUL_INL_H_
#define LMHEAD_KERNELS_AMX_AMX_MATMUL_INL_H_

#include <algorithm>
#include <cstdint>
#include <memory>

#include "kernels/activation_tiles.h"
#include "kernels/amx/amx_bfp4_vnni.h"
#include "kernels/amx/amx_tile_config.h"
#include "kernels/avx512/bf16_panels_avx512.h"
#include "kernels/avx512/fp32_bf16_rows_avx512.h"
#include "kernels/kernels.h"
#include "kernels/tile_layout.h"
#include "kernels/x86_intrinsics.h"

namespace lmhead::amx {

using avx512_bf16::FinishPanel;
using avx512_bf16::kTileBytes;

// Gemm blocking: kNBlock tile columns x kKBlock tile rows are decoded at a
// time (512 KB of B tiles) and serve kRowChunk rows, whose partial sums for
// those columns (512 KB) stay in L2 between K blocks. An activation block
// (32 rows x kKBlock tiles, 64 KB) is read from memory once per kNBlock
// columns, then from L2.
inline constexpr int kNBlock = 8;
inline constexpr int kKBlock = 32;
inline constexpr int kRowChunk = 512;

// What the set prepares once per input (PrepareFp32Amx): the rows' ranges for
// the fast-path check, which rows below kAmxMinRows take along to the
// vdpbf16ps set (its own prepare), and the rows in tile order, from whose
// groups of 16 or 32 rows the A tiles load.
class AmxFp32Rows final : public PreparedActivations {
 public:
  explicit AmxFp32Rows(const MatmulArgs& args) : ranges(args), x(args, kARows) {}

  const avx512_bf16::RowRanges ranges;
  const ActivationTiles x;
};

// The caller's prepared rows, or ones made here into `own`.
static inline const AmxFp32Rows& PreparedFor(const MatmulArgs& args,
                                             std::unique_ptr<AmxFp32Rows>& own) {
  if (args.prepared != nullptr) return static_cast<const AmxFp32Rows&>(*args.prepared);
  own = std::make_unique<AmxFp32Rows>(args);
  return *own;
}

static inline const uint8_t* Panel(const MatmulArgs& args, int64_t nt) {
  return args.w.tiles + nt * Bfp4bPanelBytes(args.w.k_tiles);
}

static inline const uint8_t* Footer(const MatmulArgs& args, int64_t nt) {
  return Panel(args, nt) + args.w.k_tiles * kTileBytes;
}

// Whether every group of panel nt decodes exactly (footer: tile_layout.h).
static inline bool WeightsInRange(const MatmulArgs& args, int64_t nt) {
  const uint8_t* footer = Footer(args, nt);
  return footer[0] >= 3 && footer[1] <= 254;
}

// Decode (1 <= m <= 32): tiles configured with m rows; C stays in the tile
// registers over all of K; each weight tile is decoded once, into one of two
// buffers so that decoding the next tile overlaps the dot products of this one.
template <typename Tiles>
void GemvPanels(const MatmulArgs& args) {
  std::unique_ptr<AmxFp32Rows> own;
  const AmxFp32Rows& prepared = PreparedFor(args, own);
  const int m = static_cast<int>(args.m);
  const bool both = m > kARows;
  BTilePair b[2];
  alignas(64) float c[kBlockRows][32];
  Tiles::Begin(std::min(m, kARows), both ? m - kARows : 0, kTilePairs);
  for (int64_t nt = args.nt_begin; nt < args.nt_end; ++nt) {
    if (!WeightsInRange(args, nt)) {
      avx512_bf16::SlowPanel(args, nt, 0, m);
      continue;
    }
    const uint8_t* panel = Panel(args, nt);
    Tiles::ZeroC(both);
    for (int64_t kt = 0; kt < args.w.k_tiles; ++kt) {
      const uint8_t* tile = panel + kt * kTileBytes;
      avx512_bf16::PrefetchAhead(tile);
      BTilePair& decoded = b[kt & 1];
      DecodePanelTile(tile, decoded);
      const uint16_t* a = prepared.x.Row(0, kt);
      Tiles::LoadA(0, a, kARowBytes);
      if (both) Tiles::LoadA(1, a + kARows * kTileDim, kARowBytes);
      Tiles::LoadB(decoded, 0);
      Tiles::Dot(both);
    }
    Tiles::StoreC(&c[0][0], 32 * sizeof(float), both);
    FinishPanel(args, prepared.ranges, nt, 0, m, &c[0][0]);
  }
  Tiles::End();
}

// What the gemm keeps between K blocks, per thread (1 MB).
struct GemmScratch {
  BTilePair b[kNBlock][kKBlock];                // decoded tiles [column][tile row]
  alignas(64) float c[kNBlock][kRowChunk][32];  // partial sums [column][row][n]
};

static inline GemmScratch& ThreadGemmScratch() {
  thread_local std::unique_ptr<GemmScratch> scratch = std::make_unique<GemmScratch>();
  return *scratch;
}

// Prefill (any m): per block of kNBlock tile columns and chunk of kRowChunk
// rows, K in blocks of kKBlock tile rows decoded once and applied to every
// row block of the chunk; partial sums wait in scratch.c between K blocks.
template <typename Tiles>
void GemmPanels(const MatmulArgs& args) {
  std::unique_ptr<AmxFp32Rows> own;
  const AmxFp32Rows& prepared = PreparedFor(args, own);
  GemmScratch& s = ThreadGemmScratch();
  Tiles::Begin(kARows, kARows, kTilePairs);
  // Equal column blocks: a last block of few columns would read all of x for
  // little work.
  const int64_t num_blocks = (args.nt_end - args.nt_begin + kNBlock - 1) / kNBlock;
  const int64_t block_columns =
      num_blocks == 0 ? kNBlock : (args.nt_end - args.nt_begin + num_blocks - 1) / num_blocks;
  for (int64_t nt0 = args.nt_begin; nt0 < args.nt_end; nt0 += block_columns) {
    const int columns = static_cast<int>(std::min<int64_t>(block_columns, args.nt_end - nt0));
    for (int64_t row0 = 0; row0 < args.m; row0 += kRowChunk) {
      const int rows = static_cast<int>(std::min<int64_t>(kRowChunk, args.m - row0));
      for (int64_t kt0 = 0; kt0 < args.w.k_tiles; kt0 += kKBlock) {
        const int k_tiles = static_cast<int>(std::min<int64_t>(kKBlock, args.w.k_tiles - kt0));
        for (int j = 0; j < columns; ++j) {
          const uint8_t* tiles = Panel(args, nt0 + j) + kt0 * kTileBytes;
          for (int i = 0; i < k_tiles; ++i) DecodePanelTile(tiles + i * kTileBytes, s.b[j][i]);
        }
        for (int rb = 0; rb < rows; rb += kBlockRows) {
          const bool both = rows - rb > kARows;
          for (int j = 0; j < columns; ++j) {
            float* c = &s.c[j][rb][0];
            if (kt0 == 0) {
              Tiles::ZeroC(both);
            } else {
              Tiles::LoadC(c, 32 * sizeof(float), both);
            }
            for (int i = 0; i < k_tiles; ++i) {
              // Rows row0 + rb.. are one group of prepared.x (32 rows; 16 if m <= 16).
              const uint16_t* a = prepared.x.Row(row0 + rb, kt0 + i);
              Tiles::LoadA(0, a, kARowBytes);
              if (both) Tiles::LoadA(1, a + kARows * kTileDim, kARowBytes);
              Tiles::LoadB(s.b[j][i], 0);
              Tiles::Dot(both);
            }
            Tiles::StoreC(c, 32 * sizeof(float), both);
          }
        }
      }
      for (int j = 0; j < columns; ++j) {
        if (WeightsInRange(args, nt0 + j)) {
          FinishPanel(args, prepared.ranges, nt0 + j, row0, rows, &s.c[j][0][0]);
        } else {
          avx512_bf16::SlowPanel(args, nt0 + j, row0, rows);
        }
      }
    }
  }
  Tiles::End();
}

}  // namespace lmhead::amx

#endif  // LMHEAD_KERNELS_AMX_AMX_MATMUL_INL_H_
