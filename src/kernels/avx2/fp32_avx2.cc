// SPDX-License-Identifier: Apache-2.0
// fp32 matmul with AVX2 and FMA: bfp tiles decoded exactly to fp32 in L1, then fp32 FMAs over 8
// columns.
//
// The loop of fp32_avx512.cc at half the vector width, for CPUs without
// AVX-512. A pass covers up to 32 rows and 4 tile columns (one engine work
// item), so a decode call (m <= 32) decodes and reads every weight tile once.
// For each tile row kt the pass converts the rows' 32 activations to fp32
// once; per tile it decodes the 1024 weights, value = code * 2^(E - bias)
// (exact: a small integer times a power of two), and runs blocks of up to 3
// rows over its 32 k. A block keeps 4 column vectors per row in registers (12
// of AVX2's 16), reads the weights from L1 as FMA operands and broadcasts one
// activation per row and k; one row alone alternates two sets of sums over
// even and odd k to hide the FMA latency. Partial sums of the pass live in a
// 16 KiB block in L1. One row alone, bound by the decode, takes the codes as
// small integers and the activations times the group scales instead.
#include <cstdint>
#include <cstring>

#include "kernels/avx2/avx2_kernels.h"
#include "kernels/avx2/bfp_decode_avx2.h"
#include "kernels/scaled_activations.h"
#include "kernels/tile_passes.h"
#include "kernels/x86_intrinsics.h"

namespace lmhead {
namespace avx2_fp32 {
namespace {

constexpr int kPassRows = 32;
constexpr int kPassTiles = 4;
constexpr int kPassCols = kPassTiles * kTileDim;
constexpr int kBlockRows = 3;
// Passes of up to this many rows scale the activations (TileStep). From 2 rows
// the second broadcast per k costs what the cheaper decode saves (measured).
constexpr int kMaxScaledXRows = 1;

struct Workspace {
  alignas(64) float acc[kPassRows][kPassCols];            // y partial sums of the pass
  alignas(64) float x[kPassRows][kTileDim];               // activations of tile row kt
  alignas(64) float values[kBfpGroupsPerTile][kFaceDim];  // the decoded tile
  // Passes of few rows: x times each column half's group scales (ScaleX),
  // and the exponent bounds of x's non-zero values.
  alignas(64) float xs[kMaxScaledXRows][2][kTileDim];
  scaled_activations::ExponentBounds x_bounds;
};

// ws.x[r] = x[row0 + r, 32 kt .. 32 kt + 31] as fp32, zero past args.k; for
// passes of up to kMaxScaledXRows rows, their exponent bounds too.
void LoadX(const MatmulArgs& args, int64_t row0, int rows, int64_t kt, Workspace& ws) {
  ws.x_bounds = {};
  const int64_t k0 = kt * kTileDim;
  const int64_t valid = args.k - k0 < kTileDim ? args.k - k0 : kTileDim;
  for (int r = 0; r < rows; ++r) {
    const uint16_t* x = args.x + (row0 + r) * args.x_stride + k0;
    uint16_t padded[kTileDim] = {};
    if (valid < kTileDim) {
      std::memcpy(padded, x, static_cast<size_t>(valid) * sizeof(uint16_t));
      x = padded;
    }
    if (rows <= kMaxScaledXRows) scaled_activations::AddActivations(x, kTileDim, ws.x_bounds);
    for (int i = 0; i < kTileDim; i += 8) {
      const __m128i bf16 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i));
      _mm256_store_si256(reinterpret_cast<__m256i*>(&ws.x[r][i]),
                         _mm256_slli_epi32(_mm256_cvtepu16_epi32(bf16), 16));
    }
  }
}

// acc[r][0..31] += sum_k a[r][h][k] * tile[k][16 h .. 16 h + 15] for R rows,
// with a[r][h][k] = x[r * RowStride + h * HalfStride + k]: the activations
// (HalfStride 0) times the decoded values, or the scaled activations times
// the codes. P sets of sums take turns over k (two for one row, so that 8
// sums are in flight).
template <int R, int RowStride, int HalfStride>
void TileRows(const float* x, const Workspace& ws, float* acc) {
  constexpr int P = R == 1 ? 2 : 1;
  __m256 sums[P][R][4];  // [k parity][row][8 columns]
  for (int p = 0; p < P; ++p) {
    for (int r = 0; r < R; ++r) {
      for (int v = 0; v < 4; ++v) sums[p][r][v] = _mm256_setzero_ps();
    }
  }
#pragma GCC unroll 32
  for (int k = 0; k < kTileDim; ++k) {
    // Tile row k lives in faces 0/1 (k < 16) or 2/3: groups g0 and g0 + 16.
    const int g0 = (k / kFaceDim) * 2 * kFaceDim + k % kFaceDim;
    const float* w[2] = {ws.values[g0], ws.values[g0 + kFaceDim]};
    for (int r = 0; r < R; ++r) {
      const __m256 xr[2] = {_mm256_broadcast_ss(x + r * RowStride + k),
                            _mm256_broadcast_ss(x + r * RowStride + HalfStride + k)};
      for (int v = 0; v < 4; ++v) {
        __m256& s = sums[k % P][r][v];
        s = _mm256_fmadd_ps(xr[v / 2], _mm256_load_ps(w[v / 2] + 8 * (v % 2)), s);
      }
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int v = 0; v < 4; ++v) {
      float* a = acc + r * kPassCols + 8 * v;
      __m256 sum = sums[0][r][v];
      if (P == 2) sum = _mm256_add_ps(sum, sums[P - 1][r][v]);
      _mm256_store_ps(a, _mm256_add_ps(_mm256_load_ps(a), sum));
    }
  }
}

// ws.xs[r][h][k] = ws.x[r][k] * 2^(E - bias), E the exponent of tile row k,
// column half h: an add to the fp32 exponent field (zero stays zero), exact
// where scaled_activations::AreExact says so.
void ScaleX(const uint8_t* tile, int bias, int rows, Workspace& ws) {
  __m256i adjust[2][4];  // [h][k / 8]: (E - bias) << 23
  for (int h = 0; h < 2; ++h) {
    for (int i = 0; i < 4; ++i) {
      // Tile row k = 8 i + j is in group (k / 16) * 32 + 16 h + k % 16.
      const uint8_t* e = tile + (i / 2) * 32 + 16 * h + 8 * (i % 2);
      adjust[h][i] = _mm256_slli_epi32(
          _mm256_sub_epi32(
              _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(e))),
              _mm256_set1_epi32(bias)),
          23);
    }
  }
  for (int r = 0; r < rows; ++r) {
    for (int i = 0; i < 4; ++i) {
      const __m256i x = _mm256_load_si256(reinterpret_cast<const __m256i*>(&ws.x[r][8 * i]));
      const __m256i zero = _mm256_cmpeq_epi32(_mm256_slli_epi32(x, 1), _mm256_setzero_si256());
      for (int h = 0; h < 2; ++h) {
        _mm256_store_si256(reinterpret_cast<__m256i*>(&ws.xs[r][h][8 * i]),
                           _mm256_andnot_si256(zero, _mm256_add_epi32(x, adjust[h][i])));
      }
    }
  }
}

// R rows from `x` (RowStride floats apart, HalfStride between column halves)
// in blocks of kBlockRows.
template <int RowStride, int HalfStride>
void BlockRows(const float* x, int rows, const Workspace& ws, float* acc) {
  int r = 0;
  for (; r + kBlockRows <= rows; r += kBlockRows) {
    TileRows<kBlockRows, RowStride, HalfStride>(x + r * RowStride, ws, acc + r * kPassCols);
  }
  if (rows - r == 2) TileRows<2, RowStride, HalfStride>(x + r * RowStride, ws, acc + r * kPassCols);
  if (rows - r == 1) TileRows<1, RowStride, HalfStride>(x + r * RowStride, ws, acc + r * kPassCols);
}

// Adds tile (kt, nt) times the pass's activations into the sums of tile
// column t. A pass of one row, where the decode dominates, scales the
// activations by the group scales and decodes only the codes (fewer
// instructions per weight) where that is exact; the same FMAs on the same
// products then give the same bits. Other passes decode the values.
void TileStep(const MatmulArgs& args, int64_t kt, int64_t nt, int t, int rows, Workspace& ws) {
  const uint8_t* tile = args.w.tiles + static_cast<size_t>(kt * args.w.n_tiles + nt) *
                                           avx2_decode::BfpTileBytes(args.w.format);
  float* acc = &ws.acc[0][t * kTileDim];
  const int bias = avx2_decode::ScaleBias(args.w.format);
  if (rows <= kMaxScaledXRows && scaled_activations::TileFoldIsExact(ws.x_bounds, tile, bias)) {
    avx2_decode::DecodeTileCodes(args.w.format, tile, ws.values);
    ScaleX(tile, bias, rows, ws);
    BlockRows<2 * kTileDim, kTileDim>(&ws.xs[0][0][0], rows, ws, acc);
  } else {
    avx2_decode::DecodeTile(args.w.format, tile, ws.values);
    BlockRows<kTileDim, 0>(&ws.x[0][0], rows, ws, acc);
  }
}

void StoreRows(const MatmulArgs& args, int64_t row0, int rows, int64_t nt0, int tiles,
               const Workspace& ws) {
  for (int c = 0; c < tiles * kTileDim; c += 8) {
    const int64_t n = nt0 * kTileDim + c;
    const int64_t cols = args.n_cols - n;
    if (cols <= 0) break;
    // Lane i is stored where i < cols.
    const __m256i mask =
        _mm256_cmpgt_epi32(_mm256_set1_epi32(cols >= 8 ? 8 : static_cast<int>(cols)),
                           _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    for (int r = 0; r < rows; ++r) {
      _mm256_maskstore_ps(args.y + (row0 + r) * args.y_stride + n, mask,
                          _mm256_load_ps(&ws.acc[r][c]));
    }
  }
}

void RunPass(const MatmulArgs& args, int64_t row0, int rows, int64_t nt0, int tiles,
             Workspace& ws) {
  std::memset(ws.acc, 0, sizeof(ws.acc[0]) * static_cast<size_t>(rows));
  for (int64_t kt = 0; kt < args.w.k_tiles; ++kt) {
    tile_passes::PrefetchTileRow(args.w, kt + tile_passes::kPrefetchTileRows, nt0, tiles,
                                 static_cast<size_t>(avx2_decode::BfpTileBytes(args.w.format)));
    LoadX(args, row0, rows, kt, ws);
    for (int t = 0; t < tiles; ++t) TileStep(args, kt, nt0 + t, t, rows, ws);
  }
  StoreRows(args, row0, rows, nt0, tiles, ws);
}

}  // namespace
}  // namespace avx2_fp32

void MatmulFp32Avx2(const MatmulArgs& args) {
  using namespace avx2_fp32;  // NOLINT(build/namespaces): this file's own helpers
  Workspace ws;
  tile_passes::ForEachPass(args, kPassTiles, kPassRows,
                           [&](int64_t row0, int rows, int64_t nt0, int tiles) {
                             RunPass(args, row0, rows, nt0, tiles, ws);
                           });
}

}  // namespace lmhead
