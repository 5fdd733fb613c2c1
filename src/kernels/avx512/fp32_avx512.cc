// SPDX-License-Identifier: Apache-2.0
// fp32 matmul with AVX-512 for bfp8_b: tiles decoded exactly to fp32 in L1, then fp32 FMAs
// over 16 columns.
//
// A pass covers up to 32 rows and 4 tile columns (one engine work item), so a
// decode call (m <= 32) decodes and reads every weight tile once. For each
// tile row kt the pass converts the rows' 32 activations once, then per tile
// decodes the 1024 weights (code * 2^(E - bias), exact) and runs 4 rows at a
// time over its 32 k: per k two weight registers (columns 0-15 and 16-31) meet
// a broadcast activation, with two accumulators per column half (even and
// odd k) to hide the FMA latency. Partial sums live in a 16 KiB block in L1.
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernels/avx512/avx512_kernels.h"
#include "kernels/avx512/bfp_decode_avx512.h"
#include "kernels/scaled_activations.h"
#include "kernels/tile_passes.h"
#include "kernels/x86_intrinsics.h"
#include "lmhead/formats.h"

namespace lmhead {
namespace avx512_fp32 {
namespace {

using avx512_decode::DecodedTile;
using avx512_decode::TileCodes;

constexpr size_t kTileBytes = 1088;  // a bfp8_b tile
constexpr int kBias = 133;           // value = code * 2^(E - 133)
constexpr int kPassRows = 32;
constexpr int kPassTiles = 4;
constexpr int kPassCols = kPassTiles * kTileDim;
// Up to this many rows a tile is used straight from its int8 codes.
constexpr int kCodeRows = 12;

struct Workspace {
  alignas(64) float acc[kPassRows][kPassCols];         // y partial sums of the pass
  alignas(64) float x[kPassRows][kTileDim];            // activations of tile row kt
  alignas(64) float xs[kPassRows][kBfpGroupsPerTile];  // x times each group's scale
  scaled_activations::ExponentBounds x_bounds;         // of tile row kt's non-zero x
  TileCodes codes;
  DecodedTile tile;
};

// ws.tile = the exact fp32 values of `tile`, value = code * 2^(E - kBias).
void DecodeTile(const uint8_t* tile, Workspace& ws) {
  if (!avx512_decode::ExponentsInRange(tile, kBias - 126)) {
    // Denormal, inf or NaN values: TT's host decode, value by value.
    DecodeBfpGroupsToFp32(TileFormat::kBfp8b, tile, tile + kBfpGroupsPerTile, kBfpGroupsPerTile,
                          &ws.tile.values[0][0]);
    return;
  }
  avx512_decode::SplitBfp8(tile + kBfpGroupsPerTile, ws.codes);
  avx512_decode::ScaleCodes(ws.codes, tile, kBias, ws.tile);
}

// ws.x[r] = x[row0 + r, 32 kt .. 32 kt + 31] as fp32, zero past args.k, and
// the exponent bounds of their non-zero values.
void LoadX(const MatmulArgs& args, int64_t row0, int rows, int64_t kt, Workspace& ws) {
  const int64_t k0 = kt * kTileDim;
  const int64_t valid = args.k - k0;
  const __mmask32 mask =
      valid >= kTileDim ? ~__mmask32{0} : static_cast<__mmask32>((uint64_t{1} << valid) - 1);
  // Per lane, the exponent bounds of the non-zero x (as AddActivations).
  __m512i e_lo = _mm512_set1_epi16(255), e_hi = _mm512_setzero_si512();
  for (int r = 0; r < rows; ++r) {
    const __m512i bf16 = _mm512_maskz_loadu_epi16(mask, args.x + (row0 + r) * args.x_stride + k0);
    const __m512i magnitude = _mm512_and_si512(bf16, _mm512_set1_epi16(0x7FFF));
    const __m512i e = _mm512_srli_epi16(magnitude, 7);
    e_lo = _mm512_mask_min_epu16(e_lo, _mm512_test_epi16_mask(magnitude, magnitude), e_lo, e);
    e_hi = _mm512_max_epu16(e_hi, e);
    const __m512i lo = _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm512_castsi512_si256(bf16)), 16);
    const __m512i hi =
        _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm512_extracti64x4_epi64(bf16, 1)), 16);
    _mm512_store_si512(&ws.x[r][0], lo);
    _mm512_store_si512(&ws.x[r][16], hi);
  }
  const auto widen = [](__m512i v, int half) {
    return _mm512_cvtepu16_epi32(half == 0 ? _mm512_castsi512_si256(v)
                                           : _mm512_extracti64x4_epi64(v, 1));
  };
  ws.x_bounds = {
      static_cast<int>(_mm512_reduce_min_epu32(_mm512_min_epu32(widen(e_lo, 0), widen(e_lo, 1)))),
      static_cast<int>(_mm512_reduce_max_epu32(_mm512_max_epu32(widen(e_hi, 0), widen(e_hi, 1))))};
}

// acc[r][0..31] += the two k-parity sums of each row and column half.
template <int R>
inline void AddSums(const __m512 (*sums)[2][2], float* acc) {
  for (int r = 0; r < R; ++r) {
    for (int h = 0; h < 2; ++h) {
      float* a = acc + r * kPassCols + h * kFaceDim;
      _mm512_store_ps(
          a, _mm512_add_ps(_mm512_load_ps(a), _mm512_add_ps(sums[r][h][0], sums[r][h][1])));
    }
  }
}

// acc[r][0..31] += sum_k x[r][k] * tile[k][0..31] for R rows.
template <int R>
void TileRows(const float* x, const DecodedTile& tile, float* acc) {
  __m512 sums[R][2][2];  // [row][column half][k parity]
  for (int r = 0; r < R; ++r) {
    for (int h = 0; h < 2; ++h) sums[r][h][0] = sums[r][h][1] = _mm512_setzero_ps();
  }
#pragma GCC unroll 32
  for (int k = 0; k < kTileDim; ++k) {
    // Tile row k lives in faces 0/1 (k < 16) or 2/3: groups g0 and g0 + 16.
    const int g0 = (k / kFaceDim) * 2 * kFaceDim + k % kFaceDim;
    const __m512 w0 = _mm512_load_ps(tile.values[g0]);
    const __m512 w1 = _mm512_load_ps(tile.values[g0 + kFaceDim]);
    for (int r = 0; r < R; ++r) {
      const __m512 xr = _mm512_set1_ps(x[r * kTileDim + k]);
      sums[r][0][k % 2] = _mm512_fmadd_ps(xr, w0, sums[r][0][k % 2]);
      sums[r][1][k % 2] = _mm512_fmadd_ps(xr, w1, sums[r][1][k % 2]);
    }
  }
  AddSums<R>(sums, acc);
}

// The same sum from the tile's int8 codes, with each group's scale folded
// into the activation instead: xs[r][g] = x[r][k(g)] * 2^(E_g - bias) (exact
// where TileStep uses it),
// so a group costs one widening and one conversion, shared by R rows.
template <int R>
void TileRowsFromCodes(const float* xs, const TileCodes& codes, float* acc) {
  __m512 sums[R][2][2];  // [row][column half][k parity]
  for (int r = 0; r < R; ++r) {
    for (int h = 0; h < 2; ++h) sums[r][h][0] = sums[r][h][1] = _mm512_setzero_ps();
  }
#pragma GCC unroll 32
  for (int k = 0; k < kTileDim; ++k) {
    const int g0 = (k / kFaceDim) * 2 * kFaceDim + k % kFaceDim;
    const __m512 w0 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_load_si128(
        reinterpret_cast<const __m128i*>(codes.bytes + avx512_decode::CodeOffset(g0)))));
    const __m512 w1 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_load_si128(
        reinterpret_cast<const __m128i*>(codes.bytes + avx512_decode::CodeOffset(g0 + kFaceDim)))));
    for (int r = 0; r < R; ++r) {
      const float* xr = xs + r * kBfpGroupsPerTile;
      sums[r][0][k % 2] = _mm512_fmadd_ps(_mm512_set1_ps(xr[g0]), w0, sums[r][0][k % 2]);
      sums[r][1][k % 2] = _mm512_fmadd_ps(_mm512_set1_ps(xr[g0 + kFaceDim]), w1, sums[r][1][k % 2]);
    }
  }
  AddSums<R>(sums, acc);
}

// Calls fn(std::integral_constant<int, R>, r) for row blocks [r, r + R) of
// at most 4 rows covering [0, rows).
template <typename Fn>
void ForRowBlocks(int rows, Fn fn) {
  int r = 0;
  for (; r + 4 <= rows; r += 4) fn(std::integral_constant<int, 4>{}, r);
  switch (rows - r) {
    case 3:
      fn(std::integral_constant<int, 3>{}, r);
      break;
    case 2:
      fn(std::integral_constant<int, 2>{}, r);
      break;
    case 1:
      fn(std::integral_constant<int, 1>{}, r);
      break;
    default:
      break;
  }
}

// Adds tile (kt, nt) times the pass's activations into the accumulators of
// tile column t. Small row counts use the codes and scaled activations where
// those are exact (scaled_activations.h); large ones (and tiles with
// denormal, inf or NaN values) decode the tile to fp32 once and share it
// across all row blocks.
void TileStep(const MatmulArgs& args, int64_t kt, int64_t nt, int t, int rows, Workspace& ws) {
  const uint8_t* tile = args.w.tiles + static_cast<size_t>(kt * args.w.n_tiles + nt) * kTileBytes;
  float* acc = &ws.acc[0][t * kTileDim];
  if (rows > kCodeRows || !scaled_activations::TileFoldIsExact(ws.x_bounds, tile, kBias)) {
    DecodeTile(tile, ws);
    ForRowBlocks(rows, [&](auto block, int r) {
      TileRows<decltype(block)::value>(ws.x[r], ws.tile, acc + r * kPassCols);
    });
    return;
  }
  __m512 scale[4];
  for (int face = 0; face < 4; ++face)
    scale[face] = avx512_decode::Scales(tile + face * kFaceDim, kBias);
  for (int r = 0; r < rows; ++r) {
    // Faces 0 and 1 hold k 0..15, faces 2 and 3 k 16..31 (spec §1.2).
    const __m512 x_lo = _mm512_load_ps(&ws.x[r][0]);
    const __m512 x_hi = _mm512_load_ps(&ws.x[r][kFaceDim]);
    _mm512_store_ps(&ws.xs[r][0], _mm512_mul_ps(x_lo, scale[0]));
    _mm512_store_ps(&ws.xs[r][16], _mm512_mul_ps(x_lo, scale[1]));
    _mm512_store_ps(&ws.xs[r][32], _mm512_mul_ps(x_hi, scale[2]));
    _mm512_store_ps(&ws.xs[r][48], _mm512_mul_ps(x_hi, scale[3]));
  }
  avx512_decode::SplitBfp8(tile + kBfpGroupsPerTile, ws.codes);
  ForRowBlocks(rows, [&](auto block, int r) {
    TileRowsFromCodes<decltype(block)::value>(ws.xs[r], ws.codes, acc + r * kPassCols);
  });
}

void StoreRows(const MatmulArgs& args, int64_t row0, int rows, int64_t nt0, int tiles,
               const Workspace& ws) {
  for (int c = 0; c < tiles * kTileDim; c += kFaceDim) {
    const int64_t n = nt0 * kTileDim + c;
    const int64_t cols = args.n_cols - n;
    if (cols <= 0) break;
    const __mmask16 mask =
        cols >= kFaceDim ? __mmask16{0xFFFF} : static_cast<__mmask16>((1u << cols) - 1);
    for (int r = 0; r < rows; ++r) {
      _mm512_mask_storeu_ps(args.y + (row0 + r) * args.y_stride + n, mask,
                            _mm512_load_ps(&ws.acc[r][c]));
    }
  }
}

void RunPass(const MatmulArgs& args, int64_t row0, int rows, int64_t nt0, int tiles,
             Workspace& ws) {
  std::memset(ws.acc, 0, sizeof(ws.acc[0]) * rows);
  for (int64_t kt = 0; kt < args.w.k_tiles; ++kt) {
    tile_passes::PrefetchTileRow(args.w, kt + tile_passes::kPrefetchTileRows, nt0, tiles,
                                 kTileBytes);
    LoadX(args, row0, rows, kt, ws);
    for (int t = 0; t < tiles; ++t) {
      TileStep(args, kt, nt0 + t, t, rows, ws);
    }
  }
  StoreRows(args, row0, rows, nt0, tiles, ws);
}

}  // namespace
}  // namespace avx512_fp32

void MatmulFp32Avx512(const MatmulArgs& args) {
  using namespace avx512_fp32;  // NOLINT(build/namespaces): this file's own helpers
  Workspace ws;
  tile_passes::ForEachPass(args, kPassTiles, kPassRows,
                           [&](int64_t row0, int rows, int64_t nt0, int tiles) {
                             RunPass(args, row0, rows, nt0, tiles, ws);
                           });
}

}  // namespace lmhead
