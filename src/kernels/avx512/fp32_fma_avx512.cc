// SPDX-License-Identifier: Apache-2.0
// fp32 matmul over kBfp4bPanels tiles with fp32 FMAs, for AVX-512 without BF16.
//
// The vdpbf16ps set's gemv (fp32_bf16_avx512.cc) with each bf16 pair product
// split into two FMAs, for Skylake-SP to Ice Lake servers, which lack
// AVX512-BF16. Each weight vector of bf16 pairs (the codes looked up as small
// bf16 integers) becomes two fp32 vectors, its even and odd tile rows. The
// group scale 2^(E - 129) goes, exactly, into the weights (from 4 rows:
// scaled once, shared by every row, PanelRowsFma) or into the activations (up
// to 3 rows: one multiply per 16 activations and tile, which saves two
// operations on every weight vector, PanelRowsFmaScaledActivations). Either
// way each product is exact in fp32, the same in both forms, and the FMAs
// round only the sums. Same fast-path check as the vdpbf16ps set
// (PanelIsFast, whose conditions also keep the scaled values normal and every
// sum finite); refused rows go to MatmulFp32Reference.
// The activations of a block of 8 rows are widened to fp32 once per call
// (zero past K), so every FMA broadcasts its activation from memory.
// Loop: per block of up to 8 rows and 1-4 panels read side by side, each row
// and column half has one register sum fed in k order (even tile row, then
// odd), so a row's result does not depend on the other rows of the call.
#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "kernels/avx512/avx512_kernels.h"
#include "kernels/avx512/bf16_panels_avx512.h"
#include "kernels/avx512/fp32_bf16_rows_avx512.h"
#include "kernels/tile_layout.h"
#include "kernels/x86_intrinsics.h"

namespace lmhead {
namespace avx512_bf16 {
namespace {

constexpr int kBlockRows = 8;                 // rows sharing one read of a panel
constexpr int kMaxRowsScaledActivations = 3;  // PanelRowsFmaScaledActivations up to this many

// Panels read side by side for R rows. Each of the 2 P R register sums takes
// two dependent FMAs per k pair (8 cycles at a 4-cycle latency) while the
// pair's 4 P R FMAs issue in 2 P R cycles: P R >= 4 keeps two FMAs a cycle.
constexpr int kMaxPanels = 4;
constexpr int MaxPanelsFma(int rows) { return rows == 1 ? 4 : rows <= 3 ? 2 : 1; }

// x32[r * stride + k] = row row0 + r of x as fp32 for k < K, 0 up to
// stride = 32 Kt.
void WidenRows(const MatmulArgs& args, int64_t row0, int rows, float* x32) {
  const int64_t stride = args.w.k_tiles * kTileDim;
  for (int r = 0; r < rows; ++r) {
    WidenToFp32(args.x + (row0 + r) * args.x_stride, 0, stride, args.k, x32 + r * stride);
  }
}

// xs[r][h][k] = x32[r * stride + 32 kt + k] * 2^(E - 129) with E the
// exponent of tile row k, column half h of `tile`: exact, as PanelIsFast
// keeps every scaled activation normal (zeros stay zero).
template <int R>
inline void ScaleRows(const uint8_t* tile, int64_t kt, const float* x32, int64_t stride,
                      float (*xs)[2][kTileDim]) {
  for (int h = 0; h < 2; ++h) {
    for (int j = 0; j < 2; ++j) {
      const __m512i e = _mm512_cvtepu8_epi32(
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(tile + 32 * h + 16 * j)));
      const __m512 scale = _mm512_castsi512_ps(
          _mm512_slli_epi32(_mm512_add_epi32(e, _mm512_set1_epi32(127 - kScaleBias)), 23));
      for (int r = 0; r < R; ++r) {
        _mm512_store_ps(
            xs[r][h] + 16 * j,
            _mm512_mul_ps(_mm512_load_ps(x32 + r * stride + kt * kTileDim + 16 * j), scale));
      }
    }
  }
}

// PanelRowsFma for up to kMaxRowsScaledActivations rows, same sums bit for
// bit: the activations are scaled instead of the weights (the same exact
// products in the same order), once per tile and row.
template <int R, int P>
void PanelRowsFmaScaledActivations(const uint8_t* panels, int64_t panel_bytes, int64_t k_tiles,
                                   const float* x32, int64_t stride, float* out) {
  static_assert(P * R <= kBlockRows, "2 P R sums must fit in 16 registers");
  __m512 acc[P][R][2];
  ZeroSums<R, P>(acc);
  const __m512i codes = CodeTable();
  // [kt % 2][panel][row][column half][tile row], built a tile ahead: a
  // broadcast from a store still in flight waits for the store to retire.
  alignas(64) float xs_ahead[2][P][R][2][kTileDim];
  for (int p = 0; p < P; ++p)
    ScaleRows<R>(panels + p * panel_bytes, 0, x32, stride, xs_ahead[0][p]);
  for (int64_t kt = 0; kt < k_tiles; ++kt) {
    const float(*xs)[R][2][kTileDim] = xs_ahead[kt & 1];
    for (int p = 0; p < P; ++p) {
      const uint8_t* tile = panels + p * panel_bytes + kt * kTileBytes;
      PrefetchAhead(tile);
      if (kt + 1 < k_tiles) {
        ScaleRows<R>(tile + kTileBytes, kt + 1, x32, stride, xs_ahead[(kt + 1) & 1][p]);
      }
    }
#pragma GCC unroll 4
    for (int i = 0; i < 4; ++i) {
      __m512i data[P][2];
      LoadBlocks<P>(panels, panel_bytes, kt, i, data);
#pragma GCC unroll 4
      for (int q = 0; q < 4; ++q) {
        const int pair = 4 * i + q;  // tile rows 2 pair, 2 pair + 1
        for (int p = 0; p < P; ++p) {
          for (int h = 0; h < 2; ++h) {
            const __m512i code = BlockWeights(data[p][h], q, codes);
            const __m512 even = EvenWords(code), odd = OddWords(code);
            for (int r = 0; r < R; ++r) {
              acc[p][r][h] =
                  _mm512_fmadd_ps(_mm512_set1_ps(xs[p][r][h][2 * pair]), even, acc[p][r][h]);
              acc[p][r][h] =
                  _mm512_fmadd_ps(_mm512_set1_ps(xs[p][r][h][2 * pair + 1]), odd, acc[p][r][h]);
            }
          }
        }
      }
    }
  }
  StoreSums<R, P>(acc, out);
}

// out[(p * R + r) * 32 + c] = x[r] @ (panel p)[:, c] for R <= 8 rows and P
// panels (consecutive tile columns, panel_bytes apart); x32 holds the rows as
// fp32, `stride` floats apart.
template <int R, int P>
void PanelRowsFma(const uint8_t* panels, int64_t panel_bytes, int64_t k_tiles, const float* x32,
                  int64_t stride, float* out) {
  static_assert(P * R <= kBlockRows, "2 P R sums must fit in 16 registers");
  __m512 acc[P][R][2];
  ZeroSums<R, P>(acc);
  const __m512i codes = CodeTable();
  const __m512i magnitude = _mm512_set1_epi16(0x7FFF);
  // [kt % 2][panel][column half][pair]: a pair's scale bits, broadcast from
  // memory, stored a tile ahead (a broadcast from a store still in flight
  // waits for the store to retire).
  alignas(64) uint32_t scales[2][P][2][16];
  for (int p = 0; p < P; ++p) {
    for (int h = 0; h < 2; ++h) {
      _mm512_store_si512(scales[0][p][h], ScaleBits(panels + p * panel_bytes, h));
    }
  }
  for (int64_t kt = 0; kt < k_tiles; ++kt) {
    const uint32_t(*scale)[2][16] = scales[kt & 1];
    for (int p = 0; p < P; ++p) {
      const uint8_t* tile = panels + p * panel_bytes + kt * kTileBytes;
      PrefetchAhead(tile);
      if (kt + 1 < k_tiles) {
        for (int h = 0; h < 2; ++h) {
          _mm512_store_si512(scales[(kt + 1) & 1][p][h], ScaleBits(tile + kTileBytes, h));
        }
      }
    }
    const float* x = x32 + kt * kTileDim;
#pragma GCC unroll 4
    for (int i = 0; i < 4; ++i) {
      __m512i data[P][2];
      LoadBlocks<P>(panels, panel_bytes, kt, i, data);
#pragma GCC unroll 4
      for (int q = 0; q < 4; ++q) {
        const int pair = 4 * i + q;  // tile rows 2 pair, 2 pair + 1
        __m512 even[P][2], odd[P][2];
        for (int p = 0; p < P; ++p) {
          for (int h = 0; h < 2; ++h) {
            const __m512i code = BlockWeights(data[p][h], q, codes);
            const __m512i e = _mm512_set1_epi32(static_cast<int>(scale[p][h][pair]));
            const __m512i w =
                _mm512_mask_add_epi16(code, _mm512_test_epi16_mask(code, magnitude), code, e);
            even[p][h] = EvenWords(w);
            odd[p][h] = OddWords(w);
          }
        }
        for (int r = 0; r < R; ++r) {
          const __m512 x_even = _mm512_set1_ps(x[r * stride + 2 * pair]);
          const __m512 x_odd = _mm512_set1_ps(x[r * stride + 2 * pair + 1]);
          for (int p = 0; p < P; ++p) {
            for (int h = 0; h < 2; ++h) {
              acc[p][r][h] = _mm512_fmadd_ps(x_even, even[p][h], acc[p][r][h]);
              acc[p][r][h] = _mm512_fmadd_ps(x_odd, odd[p][h], acc[p][r][h]);
            }
          }
        }
      }
    }
  }
  StoreSums<R, P>(acc, out);
}

using PanelFn = void (*)(const uint8_t*, int64_t, int64_t, const float*, int64_t, float*);

using PanelFns = std::array<PanelFn, kMaxPanels + 1>;

template <int R, int P>
constexpr PanelFn PanelFnOrNull() {
  if constexpr (P > MaxPanelsFma(R)) {
    return nullptr;
  } else if constexpr (R <= kMaxRowsScaledActivations) {
    return &PanelRowsFmaScaledActivations<R, P>;
  } else {
    return &PanelRowsFma<R, P>;
  }
}

template <int R, int... Ps>
constexpr PanelFns PanelFnsFor(std::integer_sequence<int, Ps...>) {
  return {nullptr, PanelFnOrNull<R, Ps + 1>()...};
}

// kPanelFns[R][P], for 1 <= R <= 8 and 1 <= P <= MaxPanelsFma(R).
template <int... Rs>
constexpr std::array<PanelFns, kBlockRows + 1> AllPanelFns(std::integer_sequence<int, Rs...>) {
  return {PanelFns{}, PanelFnsFor<Rs + 1>(std::make_integer_sequence<int, kMaxPanels>{})...};
}
constexpr auto kPanelFns = AllPanelFns(std::make_integer_sequence<int, kBlockRows>{});

}  // namespace
}  // namespace avx512_bf16

void MatmulFp32Avx512Fma(const MatmulArgs& args) {
  using namespace avx512_bf16;  // NOLINT(build/namespaces): this file's own helpers
  const int64_t panel_bytes = Bfp4bPanelBytes(args.w.k_tiles);
  const int64_t stride = args.w.k_tiles * kTileDim;
  alignas(64) float out[kBlockRows * kTileDim];  // P * R <= 8 rows of 32 sums
  std::unique_ptr<RowRanges> own;
  const RowRanges& ranges = RangesFor(args, own);
  thread_local std::vector<float> x32;  // one row block, reused by every call
  x32.resize(static_cast<size_t>(kBlockRows * stride + kFaceDim));
  // 64-byte aligned for WidenRows' stores (stride is a multiple of 32 floats).
  float* const rows_fp32 =
      reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(x32.data()) + 63) & ~uintptr_t{63});
  for (int64_t row0 = 0; row0 < args.m; row0 += kBlockRows) {
    const int rows = static_cast<int>(std::min<int64_t>(kBlockRows, args.m - row0));
    WidenRows(args, row0, rows, rows_fp32);
    for (int64_t nt = args.nt_begin; nt < args.nt_end;) {
      const int panels = static_cast<int>(std::min<int64_t>(MaxPanelsFma(rows), args.nt_end - nt));
      const uint8_t* first = args.w.tiles + nt * panel_bytes;
      kPanelFns[rows][panels](first, panel_bytes, args.w.k_tiles, rows_fp32, stride, out);
      for (int p = 0; p < panels; ++p, ++nt) {
        FinishPanel(args, ranges, nt, row0, rows, out + p * rows * kTileDim);
      }
    }
  }
}

}  // namespace lmhead
