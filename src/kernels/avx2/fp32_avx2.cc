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
// 16 KiB block in L1.
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernels/avx2/avx2_kernels.h"
#include "kernels/x86_intrinsics.h"
#include "lmhead/formats.h"

namespace lmhead {
namespace avx2_fp32 {
namespace {

constexpr int kPassRows = 32;
constexpr int kPassTiles = 4;
constexpr int kPassCols = kPassTiles * kTileDim;
constexpr int kBlockRows = 3;
// Tile rows ahead of the one being computed that are prefetched (a work
// item's next tile row is a bank row further, which the hardware prefetchers
// do not follow far enough).
constexpr int64_t kPrefetchTileRows = 3;

struct Workspace {
  alignas(64) float acc[kPassRows][kPassCols];  // y partial sums of the pass
  alignas(64) float x[kPassRows][kTileDim];     // activations of tile row kt
  // The decoded tile in group order: values[g][i] is datum i of group g =
  // face * 16 + row_in_face (spec §1.2), i.e. tile row (g / 32) * 16 + g % 16,
  // column ((g / 16) % 2) * 16 + i.
  alignas(64) float values[kBfpGroupsPerTile][kFaceDim];
};

// TileBytes() of formats.h, restated: this file calls no shared inline function.
int BfpTileBytes(TileFormat format) { return format == TileFormat::kBfp8b ? 1088 : 576; }

// True when every exponent byte of the tile is in [lo, 254]: then every value
// is code * 2^(E - bias) in the fp32 normal range (or zero), as TT's host
// decode gives it.
bool ExponentsInRange(const uint8_t* exponents, int lo) {
  const __m256i low = _mm256_set1_epi8(static_cast<char>(lo));
  const __m256i all_ones = _mm256_set1_epi8(-1);
  for (int i = 0; i < kBfpGroupsPerTile; i += 32) {
    const __m256i e = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(exponents + i));
    const __m256i at_least_lo = _mm256_cmpeq_epi8(_mm256_max_epu8(e, low), e);
    const __m256i is_255 = _mm256_cmpeq_epi8(e, all_ones);
    if (_mm256_movemask_epi8(_mm256_andnot_si256(is_255, at_least_lo)) != -1) return false;
  }
  return true;
}

// values[g] = codes * 2^(E_g - bias) for the 16 signed int8 codes of group g.
inline void ScaleGroup(__m128i codes, int exponent, int bias, float* values) {
  const __m256 scale = _mm256_castsi256_ps(_mm256_set1_epi32((exponent - bias + 127) << 23));
  const __m256 lo = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(codes));
  const __m256 hi = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(codes, 8)));
  _mm256_store_ps(values, _mm256_mul_ps(lo, scale));
  _mm256_store_ps(values + 8, _mm256_mul_ps(hi, scale));
}

// ws.values = the exact fp32 values of `tile`.
void DecodeTile(TileFormat format, const uint8_t* tile, Workspace& ws) {
  const bool bfp8 = format == TileFormat::kBfp8b;
  const int bias = bfp8 ? 133 : 129;  // value = code * 2^(E - bias)
  if (!ExponentsInRange(tile, bias - 126)) {
    // Denormal, inf or NaN values: TT's host decode, value by value.
    DecodeBfpGroupsToFp32(format, tile, tile + kBfpGroupsPerTile, kBfpGroupsPerTile,
                          &ws.values[0][0]);
    return;
  }
  const uint8_t* data = tile + kBfpGroupsPerTile;
  if (bfp8) {
    // Sign-magnitude bytes: vpsignb negates the magnitude where the sign is set.
    for (int g = 0; g < kBfpGroupsPerTile; ++g) {
      const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + 16 * g));
      const __m128i codes = _mm_sign_epi8(_mm_and_si128(bytes, _mm_set1_epi8(0x7F)), bytes);
      ScaleGroup(codes, tile[g], bias, ws.values[g]);
    }
    return;
  }
  // Two groups per 16 bytes, low nibble first; sign-magnitude nibble to signed
  // int8 by table (-0 becomes 0).
  const __m128i to_signed = _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 0, -1, -2, -3, -4, -5, -6, -7);
  const __m128i low_nibbles = _mm_set1_epi8(0x0F);
  for (int g = 0; g < kBfpGroupsPerTile; g += 2) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + 8 * g));
    const __m128i lo = _mm_and_si128(bytes, low_nibbles);
    const __m128i hi = _mm_and_si128(_mm_srli_epi16(bytes, 4), low_nibbles);
    ScaleGroup(_mm_shuffle_epi8(to_signed, _mm_unpacklo_epi8(lo, hi)), tile[g], bias,
               ws.values[g]);
    ScaleGroup(_mm_shuffle_epi8(to_signed, _mm_unpackhi_epi8(lo, hi)), tile[g + 1], bias,
               ws.values[g + 1]);
  }
}

// ws.x[r] = x[row0 + r, 32 kt .. 32 kt + 31] as fp32, zero past args.k.
void LoadX(const MatmulArgs& args, int64_t row0, int rows, int64_t kt, Workspace& ws) {
  const int64_t k0 = kt * kTileDim;
  const int64_t valid = args.k - k0 < kTileDim ? args.k - k0 : kTileDim;
  for (int r = 0; r < rows; ++r) {
    const uint16_t* x = args.x + (row0 + r) * args.x_stride + k0;
    uint16_t padded[kTileDim] = {};
    if (valid < kTileDim) {
      std::memcpy(padded, x, static_cast<size_t>(valid) * sizeof(uint16_t));
      x = padded;
    }
    for (int i = 0; i < kTileDim; i += 8) {
      const __m128i bf16 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i));
      _mm256_store_si256(reinterpret_cast<__m256i*>(&ws.x[r][i]),
                         _mm256_slli_epi32(_mm256_cvtepu16_epi32(bf16), 16));
    }
  }
}

// acc[r][0..31] += sum_k x[r][k] * tile[k][0..31] for R rows. P sets of sums
// take turns over k (two for one row, so that 8 sums are in flight).
template <int R>
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
      const __m256 xr = _mm256_broadcast_ss(x + r * kTileDim + k);
      for (int v = 0; v < 4; ++v) {
        __m256& s = sums[k % P][r][v];
        s = _mm256_fmadd_ps(xr, _mm256_load_ps(w[v / 2] + 8 * (v % 2)), s);
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

// Adds tile (kt, nt) times the pass's activations into the sums of tile
// column t, in blocks of kBlockRows rows.
void TileStep(const MatmulArgs& args, int64_t kt, int64_t nt, int t, int rows, Workspace& ws) {
  const uint8_t* tile =
      args.w.tiles + static_cast<size_t>(kt * args.w.n_tiles + nt) * BfpTileBytes(args.w.format);
  DecodeTile(args.w.format, tile, ws);
  float* acc = &ws.acc[0][t * kTileDim];
  int r = 0;
  for (; r + kBlockRows <= rows; r += kBlockRows) {
    TileRows<kBlockRows>(ws.x[r], ws, acc + r * kPassCols);
  }
  if (rows - r == 2) TileRows<2>(ws.x[r], ws, acc + r * kPassCols);
  if (rows - r == 1) TileRows<1>(ws.x[r], ws, acc + r * kPassCols);
}

void StoreRows(const MatmulArgs& args, int64_t row0, int rows, int64_t nt0, int tiles,
               const Workspace& ws) {
  for (int c = 0; c < tiles * kTileDim; c += 8) {
    const int64_t n = nt0 * kTileDim + c;
    const int64_t cols = args.n_cols - n;
    if (cols <= 0) break;
    // Lane i is stored where i < cols.
    const __m256i mask = _mm256_cmpgt_epi32(
        _mm256_set1_epi32(cols >= 8 ? 8 : static_cast<int>(cols)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    for (int r = 0; r < rows; ++r) {
      _mm256_maskstore_ps(args.y + (row0 + r) * args.y_stride + n, mask,
                          _mm256_load_ps(&ws.acc[r][c]));
    }
  }
}

void PrefetchTileRow(const TileMatrixView& w, int64_t kt, int64_t nt0, int tiles) {
  if (kt >= w.k_tiles) return;
  const size_t tile_bytes = static_cast<size_t>(BfpTileBytes(w.format));
  const char* p = reinterpret_cast<const char*>(w.tiles) +
                  static_cast<size_t>(kt * w.n_tiles + nt0) * tile_bytes;
  const size_t bytes = static_cast<size_t>(tiles) * tile_bytes;
  for (size_t offset = 0; offset < bytes; offset += 64) _mm_prefetch(p + offset, _MM_HINT_T0);
}

void RunPass(const MatmulArgs& args, int64_t row0, int rows, int64_t nt0, int tiles,
             Workspace& ws) {
  std::memset(ws.acc, 0, sizeof(ws.acc[0]) * static_cast<size_t>(rows));
  for (int64_t kt = 0; kt < args.w.k_tiles; ++kt) {
    PrefetchTileRow(args.w, kt + kPrefetchTileRows, nt0, tiles);
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
  for (int64_t nt0 = args.nt_begin; nt0 < args.nt_end; nt0 += kPassTiles) {
    const int tiles =
        static_cast<int>(args.nt_end - nt0 < kPassTiles ? args.nt_end - nt0 : kPassTiles);
    for (int64_t row0 = 0; row0 < args.m; row0 += kPassRows) {
      const int rows = static_cast<int>(args.m - row0 < kPassRows ? args.m - row0 : kPassRows);
      RunPass(args, row0, rows, nt0, tiles, ws);
    }
  }
}

}  // namespace lmhead
