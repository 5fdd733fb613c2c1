// SPDX-License-Identifier: Apache-2.0
// fp32 matmul over kBfp4bPanels tiles with vdpbf16ps: exact bf16 products, fp32 sums.
//
// Why the fp32 bound of kernels.h holds: a bfp4_b weight is code * 2^(E - 129)
// with |code| <= 7, and x is bf16. The kernel folds each group's scale into the
// activation, xs = x * 2^(E - 129) (an add to the bf16 exponent field, exact
// while xs stays a normal bf16), and looks the code up as a small bf16
// integer, so every product xs * code is exact in fp32 and vdpbf16ps rounds
// only its sums, like fp32 FMAs. vdpbf16ps flushes denormal inputs and
// results to zero; a panel is computed this way only when (PanelIsFast)
//   - its non-zero groups have 3 <= E <= 254, so TT's decode is exactly
//     code * 2^(E - 129) (no denormal, inf or NaN weights);
//   - every non-zero x of the rows has a biased exponent ex with
//     ex + E - 129 >= 8: then every product is a multiple of 2^-126, so no
//     partial sum is denormal, and xs is normal; denormal, inf and NaN x
//     are refused outright (their exponent field does not scale);
//   - ex + E - 129 <= 249 - ceil(log2 K): no partial sum can overflow.
// The check is per row and panel; refused rows go to MatmulFp32Reference
// (rare: extreme or non-finite values).
//
// Loop: per block of up to 8 rows and panel (one tile column, contiguous in
// memory), every sum stays in a register over all of K: one per row and
// column half, fed in a fixed order, so a row's result does not depend on the
// other rows of the call (a last-token call equals the prefill's last row).
// With few rows, 2 or 3 panels run side by side to keep 4-16 sums in flight.
// Per 64-byte block of codes, shifts expose the four nibbles of each 16-bit
// word and vpermw looks them up (bf16 pairs of rows 2q, 2q + 1 of one column
// per 32-bit lane). Up to 4 rows, each tile's xs are built once, a tile ahead
// (2 x 32 bf16 per row), and every weight vector meets one broadcast xs pair
// per row; from 5 rows the weights are scaled instead and one broadcast x
// pair serves both column halves (PanelRowsScaledWeights). A block of rows
// after the first re-reads the bank from L2/L3 (a DeepSeek-V3 bank is 1.4 MB).
#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>

#include "kernels/avx512/avx512_kernels.h"
#include "kernels/avx512/bf16_panels_avx512.h"
#include "kernels/avx512/fp32_bf16_rows_avx512.h"
#include "kernels/tile_layout.h"
#include "kernels/x86_intrinsics.h"

namespace lmhead {
namespace avx512_bf16 {
namespace {

constexpr int kBlockRows = 8;             // rows sharing one read of a panel
constexpr int kMaxPanels = 3;             // panels read side by side for few rows
constexpr int kMinRowsScaledWeights = 5;  // PanelRowsScaledWeights from this many rows
// xs[r][h] = x[r] of tile row kt times each group's scale (bf16 bits; zero
// stays zero), for `rows` rows.
inline void ScaleActivations(const uint8_t* tile, int64_t kt, int64_t k, const uint16_t* x,
                             int64_t x_stride, int rows, uint16_t (*xs)[2][kTileDim]) {
  const __m512i e[2] = {ScaleBits(tile, 0), ScaleBits(tile, 1)};
  const __mmask32 kmask = KMask(k, kt);
  for (int r = 0; r < rows; ++r) {
    const __m512i v = _mm512_maskz_loadu_epi16(kmask, x + r * x_stride + kt * kTileDim);
    const __mmask32 nonzero = _mm512_test_epi16_mask(v, _mm512_set1_epi16(0x7FFF));
    for (int h = 0; h < 2; ++h)
      _mm512_store_si512(xs[r][h], _mm512_mask_add_epi16(v, nonzero, v, e[h]));
  }
}

// out[(p * R + r) * 32 + c] = x[r] @ (panel p)[:, c] for R <= 8 rows and P
// panels (consecutive tile columns, panel_bytes apart), every sum in a
// register: 2 P R <= 16 of them. Each row and column half has one sum, fed
// the tile's weight vectors in a fixed order, so a row's result does not
// depend on the other rows of the call; the P panels are what keeps enough
// sums in flight for vdpbf16ps's latency when R is small.
template <int R, int P>
void PanelRows(const uint8_t* panels, int64_t panel_bytes, int64_t k_tiles, int64_t k,
               const uint16_t* x, int64_t x_stride, float* out) {
  static_assert(P * R <= kBlockRows, "2 P R sums must fit in 16 registers");
  __m512 acc[P][R][2];
  ZeroSums<R, P>(acc);
  const __m512i codes = CodeTable();
  // [kt % 2][panel][row][column half][tile row]: built a tile ahead, since a
  // broadcast from a store still in flight waits for the store to retire.
  alignas(64) uint16_t xs_ahead[2][P][R][2][kTileDim];
  for (int p = 0; p < P; ++p) {
    ScaleActivations(panels + p * panel_bytes, 0, k, x, x_stride, R, xs_ahead[0][p]);
  }
  for (int64_t kt = 0; kt < k_tiles; ++kt) {
    uint16_t(*xs)[R][2][kTileDim] = xs_ahead[kt & 1];
    for (int p = 0; p < P; ++p) {
      const uint8_t* tile = panels + p * panel_bytes + kt * kTileBytes;
      PrefetchAhead(tile);
      if (kt + 1 < k_tiles) {
        ScaleActivations(tile + kTileBytes, kt + 1, k, x, x_stride, R, xs_ahead[(kt + 1) & 1][p]);
      }
    }
    // Block i of both column halves and all panels at once, so that each
    // weight vector step feeds 2 P R different sums: vdpbf16ps's latency is
    // hidden even for one row (each sum still gets its terms in k order).
#pragma GCC unroll 4
    for (int i = 0; i < 4; ++i) {
      __m512i data[P][2];
      LoadBlocks<P>(panels, panel_bytes, kt, i, data);
#pragma GCC unroll 4
      for (int q = 0; q < 4; ++q) {
        const int pair = 4 * i + q;  // tile rows 2 pair, 2 pair + 1
        for (int p = 0; p < P; ++p) {
          for (int h = 0; h < 2; ++h) {
            const __m512i w = BlockWeights(data[p][h], q, codes);
            for (int r = 0; r < R; ++r) {
              acc[p][r][h] = DotPair(acc[p][r][h], w,
                                     reinterpret_cast<const uint32_t*>(&xs[p][r][h][2 * pair]));
            }
          }
        }
      }
    }
  }
  StoreSums<R, P>(acc, out);
}

// PanelRows for R >= 4, same sums bit for bit: the weights are scaled
// instead of the activations (w = code * 2^(E - 129), exact as in
// fp32_bf16_gemm_avx512.cc), so one broadcast activation pair per row feeds
// all 2 P sums of the row. Broadcasts are what limit PanelRows with many
// rows: there each vdpbf16ps needs its own (the scale differs per column
// half), and on Zen 5 a broadcast costs about half a vdpbf16ps.
template <int R, int P>
void PanelRowsScaledWeights(const uint8_t* panels, int64_t panel_bytes, int64_t k_tiles, int64_t k,
                            const uint16_t* x, int64_t x_stride, float* out) {
  static_assert(P * R <= kBlockRows, "2 P R sums must fit in 16 registers");
  __m512 acc[P][R][2];
  ZeroSums<R, P>(acc);
  const __m512i codes = CodeTable();
  const __m512i magnitude = _mm512_set1_epi16(0x7FFF);
  alignas(64) uint16_t tail[R][kTileDim];    // the last tile row's x, zero-padded
  alignas(64) uint32_t scales[2][P][2][16];  // [kt % 2][panel][column half][pair]
  for (int p = 0; p < P; ++p) {
    for (int h = 0; h < 2; ++h) {
      _mm512_store_si512(scales[0][p][h], ScaleBits(panels + p * panel_bytes, h));
    }
  }
  for (int64_t kt = 0; kt < k_tiles; ++kt) {
    const uint16_t* xp[R];  // x pairs of tile row kt
    const bool partial = (kt + 1) * kTileDim > k;
    for (int r = 0; r < R; ++r) {
      const uint16_t* row = x + r * x_stride + kt * kTileDim;
      if (partial) _mm512_store_si512(tail[r], _mm512_maskz_loadu_epi16(KMask(k, kt), row));
      xp[r] = partial ? tail[r] : row;
    }
    // A pair's scales are broadcast from memory (a load, where a vpermd per
    // weight vector competed with the decode's shuffles: 2-3% at 8-32 rows),
    // stored a tile ahead: a broadcast from a store still in flight waits for
    // the store to retire.
    const uint32_t(*scale)[2][16] = scales[kt & 1];  // tile kt's
    for (int p = 0; p < P; ++p) {
      const uint8_t* tile = panels + p * panel_bytes + kt * kTileBytes;
      PrefetchAhead(tile);
      if (kt + 1 < k_tiles) {
        for (int h = 0; h < 2; ++h) {
          _mm512_store_si512(scales[(kt + 1) & 1][p][h], ScaleBits(tile + kTileBytes, h));
        }
      }
    }
#pragma GCC unroll 4
    for (int i = 0; i < 4; ++i) {
      __m512i data[P][2];
      LoadBlocks<P>(panels, panel_bytes, kt, i, data);
#pragma GCC unroll 4
      for (int q = 0; q < 4; ++q) {
        const int pair = 4 * i + q;  // tile rows 2 pair, 2 pair + 1
        __m512bh w[P][2];
        for (int p = 0; p < P; ++p) {
          for (int h = 0; h < 2; ++h) {
            const __m512i code = BlockWeights(data[p][h], q, codes);
            const __m512i e = _mm512_set1_epi32(static_cast<int>(scale[p][h][pair]));
            w[p][h] = reinterpret_cast<__m512bh>(
                _mm512_mask_add_epi16(code, _mm512_test_epi16_mask(code, magnitude), code, e));
          }
        }
        for (int r = 0; r < R; ++r) {
          const __m512bh xb =
              reinterpret_cast<__m512bh>(_mm512_set1_epi32(LoadPair(xp[r] + 2 * pair)));
          for (int p = 0; p < P; ++p) {
            for (int h = 0; h < 2; ++h) acc[p][r][h] = _mm512_dpbf16_ps(acc[p][r][h], w[p][h], xb);
          }
        }
      }
    }
  }
  StoreSums<R, P>(acc, out);
}

using PanelFn = void (*)(const uint8_t*, int64_t, int64_t, int64_t, const uint16_t*, int64_t,
                         float*);

// Panels per call for R rows: two keep 4 R sums in flight without more read
// streams than help (measured on Zen 5); the last three columns of an
// 11-column DeepSeek-V3 bank go together when R <= 2.
constexpr int MaxPanels(int rows) { return rows <= 2 ? 3 : rows <= 4 ? 2 : 1; }

int PanelsFor(int rows, int64_t columns_left) {
  if (columns_left == 3 && MaxPanels(rows) >= 3) return 3;
  return static_cast<int>(std::min<int64_t>({2, MaxPanels(rows), columns_left}));
}

template <int R, int P>
constexpr PanelFn PanelFnOrNull() {
  if constexpr (P > MaxPanels(R)) {
    return nullptr;
  } else if constexpr (R >= kMinRowsScaledWeights) {
    return &PanelRowsScaledWeights<R, P>;
  } else {
    return &PanelRows<R, P>;
  }
}

template <int R, int... Ps>
constexpr std::array<PanelFn, kMaxPanels + 1> PanelFnsFor(std::integer_sequence<int, Ps...>) {
  return {nullptr, PanelFnOrNull<R, Ps + 1>()...};
}

// kPanelFns[R][P], for 1 <= P <= MaxPanels(R).
template <int... Rs>
constexpr std::array<std::array<PanelFn, kMaxPanels + 1>, kBlockRows + 1> AllPanelFns(
    std::integer_sequence<int, Rs...>) {
  return {std::array<PanelFn, kMaxPanels + 1>{},
          PanelFnsFor<Rs + 1>(std::make_integer_sequence<int, kMaxPanels>{})...};
}
constexpr auto kPanelFns = AllPanelFns(std::make_integer_sequence<int, kBlockRows>{});

}  // namespace

}  // namespace avx512_bf16

void MatmulFp32Avx512Bf16(const MatmulArgs& args) {
  using namespace avx512_bf16;  // NOLINT(build/namespaces): this file's own helpers
  const int64_t panel_bytes = Bfp4bPanelBytes(args.w.k_tiles);
  alignas(64) float out[kBlockRows * kTileDim];  // P * R <= 8 rows of 32 sums
  std::unique_ptr<RowRanges> own;
  const RowRanges& ranges = RangesFor(args, own);
  for (int64_t row0 = 0; row0 < args.m; row0 += kBlockRows) {
    const int rows = static_cast<int>(std::min<int64_t>(kBlockRows, args.m - row0));
    const uint16_t* x = args.x + row0 * args.x_stride;
    for (int64_t nt = args.nt_begin; nt < args.nt_end;) {
      const int panels = PanelsFor(rows, args.nt_end - nt);
      const uint8_t* first = args.w.tiles + nt * panel_bytes;
      kPanelFns[rows][panels](first, panel_bytes, args.w.k_tiles, args.k, x, args.x_stride, out);
      for (int p = 0; p < panels; ++p, ++nt) {
        FinishPanel(args, ranges, nt, row0, rows, out + p * rows * kTileDim);
      }
    }
  }
}

}  // namespace lmhead
