// SPDX-License-Identifier: Apache-2.0
// Scalar reference matmuls (fp32 and TT LoFi numerics) over tiled bfp weights.
#include "kernels/reference.h"

#include <algorithm>
#include <cstdint>

#include "base/check.h"
#include "kernels/tile_layout.h"
#include "kernels/tt_lofi.h"
#include "lmhead/formats.h"

namespace lmhead {
namespace {

// Rows of x handled per pass: one tile of rows keeps the accumulators of a
// 32 x 32 output block on the stack (8 KiB).
constexpr int64_t kRowBlock = kTileDim;

void DcheckArgs([[maybe_unused]] const MatmulArgs& args) {
  LMHEAD_DCHECK(args.m >= 0 && args.x_stride >= args.k, "m={} x_stride={} k={}", args.m,
                args.x_stride, args.k);
  LMHEAD_DCHECK(args.k > (args.w.k_tiles - 1) * kTileDim && args.k <= args.w.k_tiles * kTileDim,
                "k={} does not match k_tiles={}", args.k, args.w.k_tiles);
  LMHEAD_DCHECK(0 <= args.nt_begin && args.nt_begin <= args.nt_end && args.nt_end <= args.w.n_tiles,
                "N range [{}, {}) outside n_tiles={}", args.nt_begin, args.nt_end, args.w.n_tiles);
  LMHEAD_DCHECK(args.n_cols <= args.w.n_tiles * kTileDim && args.y_stride >= args.n_cols,
                "n_cols={} y_stride={}", args.n_cols, args.y_stride);
}

// Decodes tile (kt, nt) into tile[r * 32 + c]: r runs along K, c along N.
// Packed layouts are unpacked to TT's bytes first (tile_layout.h).
void DecodeTile(const TileMatrixView& w, int64_t kt, int64_t nt, float* tile) {
  if (w.layout == TileLayout::kTtRowMajor) {
    UnpackTileToFp32(w.format, TileAt(w, kt, nt), tile, kTileDim, kTileDim, kTileDim);
    return;
  }
  uint8_t bytes[kTileElems * sizeof(float)];  // the largest tile: fp32
  UnpackTile(w, kt, nt, bytes);
  UnpackTileToFp32(w.format, bytes, tile, kTileDim, kTileDim, kTileDim);
}

// x[row, k] as fp32, zero past the activation's width (TT's zero padding).
float ActivationAt(const MatmulArgs& args, int64_t row, int64_t k) {
  return k < args.k ? Bf16ToFp32(args.x[row * args.x_stride + k]) : 0.0f;
}

// Writes out[r * 32 + c] to y for rows [row0, row0 + rows) and the columns of
// tile column nt that are below n_cols.
template <typename T>
void StoreBlock(const MatmulArgs& args, int64_t row0, int64_t rows, int64_t nt, const T* out) {
  const int64_t n0 = nt * kTileDim;
  const int64_t cols = std::min<int64_t>(kTileDim, args.n_cols - n0);
  for (int64_t r = 0; r < rows; ++r) {
    float* y_row = args.y + (row0 + r) * args.y_stride + n0;
    for (int64_t c = 0; c < cols; ++c) y_row[c] = static_cast<float>(out[r * kTileDim + c]);
  }
}

// One 32-row x 32-column output block in fp32 numerics.
void Fp32Block(const MatmulArgs& args, int64_t row0, int64_t rows, int64_t nt) {
  double acc[kRowBlock * kTileDim] = {};  // (rows, 32) partial sums
  float tile[kTileElems];                 // (32 k, 32 n) decoded weights
  for (int64_t kt = 0; kt < args.w.k_tiles; ++kt) {
    DecodeTile(args.w, kt, nt, tile);
    for (int64_t r = 0; r < rows; ++r) {
      double x[kTileDim];  // (32 k) activations of this row and tile
      for (int64_t kk = 0; kk < kTileDim; ++kk) {
        x[kk] = ActivationAt(args, row0 + r, kt * kTileDim + kk);
      }
      double* acc_row = acc + r * kTileDim;
      for (int64_t kk = 0; kk < kTileDim; ++kk) {
        const float* w_row = tile + kk * kTileDim;
        for (int64_t c = 0; c < kTileDim; ++c) acc_row[c] += x[kk] * static_cast<double>(w_row[c]);
      }
    }
  }
  StoreBlock(args, row0, rows, nt, acc);
}

// One 32-row x 32-column output block in tt-lofi numerics (spec §4.8).
void TtLofiBlock(const MatmulArgs& args, const LofiBlocking& blocking, int64_t row0, int64_t rows,
                 int64_t nt) {
  LofiAccumulator acc[kRowBlock * kTileDim];  // (rows, 32) Dst and L1 state
  float tile[kTileElems];                     // (32 k, 32 n) SrcA weights
  const int64_t block_tiles = args.lofi.in0_block_w;
  for (int64_t block_idx = 0; block_idx < blocking.num_blocks; ++block_idx) {
    for (int64_t i = 0; i < rows * kTileDim; ++i) LofiBeginBlock(blocking, block_idx, acc[i]);
    for (int64_t kt = block_idx * block_tiles; kt < (block_idx + 1) * block_tiles; ++kt) {
      DecodeTile(args.w, kt, nt, tile);
      for (float& w : tile) w = LofiSrcA(w);
      // Two MVMUL chunks per tile: tile-local k in [0, 16), then [16, 32) (spec §4.4).
      for (int64_t k0 = 0; k0 < kTileDim; k0 += kLofiChunk) {
        for (int64_t r = 0; r < rows; ++r) {
          double a[kLofiChunk];  // (16 k) SrcB activations of this row and chunk
          for (int64_t j = 0; j < kLofiChunk; ++j) {
            a[j] = LofiSrcB(ActivationAt(args, row0 + r, kt * kTileDim + k0 + j));
          }
          double chunk_sum[kTileDim] = {};  // (32 n) exact 16-term sums
          for (int64_t j = 0; j < kLofiChunk; ++j) {
            const float* w_row = tile + (k0 + j) * kTileDim;
            for (int64_t c = 0; c < kTileDim; ++c) chunk_sum[c] += a[j] * w_row[c];
          }
          LofiAccumulator* acc_row = acc + r * kTileDim;
          for (int64_t c = 0; c < kTileDim; ++c) {
            acc_row[c].dst = DstAccumulate(acc_row[c].dst, chunk_sum[c]);
          }
        }
      }
    }
    for (int64_t i = 0; i < rows * kTileDim; ++i) LofiEndBlock(blocking, block_idx, acc[i]);
  }
  float out[kRowBlock * kTileDim];  // (rows, 32) bf16-valued Dst
  for (int64_t i = 0; i < rows * kTileDim; ++i) out[i] = acc[i].dst;
  StoreBlock(args, row0, rows, nt, out);
}

}  // namespace

void MatmulFp32Reference(const MatmulArgs& args) {
  DcheckArgs(args);
  // y: (m, n_cols) f32 = x: (m, k) bf16 @ w: (Kt, Nt) tiles, one 32 x 32 block at a time.
  for (int64_t nt = args.nt_begin; nt < args.nt_end; ++nt) {
    for (int64_t row0 = 0; row0 < args.m; row0 += kRowBlock) {
      Fp32Block(args, row0, std::min(kRowBlock, args.m - row0), nt);
    }
  }
}

void MatmulTtLofiReference(const MatmulArgs& args) {
  DcheckArgs(args);
  const LofiBlocking blocking = MakeLofiBlocking(args);
  // y: (m, n_cols) bf16-valued f32 = x: (m, k) bf16 @ w: (Kt, Nt) tiles.
  for (int64_t nt = args.nt_begin; nt < args.nt_end; ++nt) {
    for (int64_t row0 = 0; row0 < args.m; row0 += kRowBlock) {
      TtLofiBlock(args, blocking, row0, std::min(kRowBlock, args.m - row0), nt);
    }
  }
}

}  // namespace lmhead
