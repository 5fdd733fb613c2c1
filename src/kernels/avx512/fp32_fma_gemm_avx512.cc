// SPDX-License-Identifier: Apache-2.0
// fp32 gemm (many rows) over kBfp4bPanels tiles with fp32 FMAs: weights decoded once per row block.
//
// Same numerics as MatmulFp32Avx512Fma (fp32_fma_avx512.cc), bit for bit:
// the products x * w with w = code * 2^(E - 129), exact in fp32 under
// PanelIsFast, and every row's sum per column half fed in k order over all of
// K (a sum leaves its register between slabs only through exact fp32 stores),
// so a row's result is the same whichever path or rows share its call.
// Loop, as the vdpbf16ps gemm (fp32_bf16_gemm_avx512.cc): per block of up to
// kRowBlock rows and slab of kSlabTiles tile rows, the rows' activations are
// widened to fp32 once for every panel, and each panel's slab is decoded to
// fp32 weights in a 16 KB buffer (L1) that every row of the block reads: the
// decode is spread over 192 rows instead of the 8 of the gemv. The
// micro-kernel keeps 12 rows x 2 column halves of sums in registers, loads
// two weight vectors per k and broadcasts one activation per row from memory
// for two FMAs.
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

constexpr int kGemmMinRows = 33;  // fewer rows: the gemv (reads the weights once)
constexpr int kGroupRows = 12;    // rows per micro-kernel call: 24 sums in registers
constexpr int kRowBlock = 16 * kGroupRows;
constexpr int kSlabTiles = 4;                  // 4 x 4 KB of decoded weights
constexpr int kSlabK = kSlabTiles * kTileDim;  // k of one slab
constexpr int kTileFloats = kTileDim * kTileDim;

// Decodes one packed tile into `dst`: tile row k, column half h at dst +
// (2 k + h) * 16, exactly code * 2^(E - 129) (PanelIsFast keeps E in range).
void DecodeTileFp32(const uint8_t* tile, __m512i codes, float* dst) {
  DecodeScaledPairs(tile, codes, [dst](int h, int pair, __m512i v) {
    _mm512_store_ps(dst + (4 * pair + h) * kFaceDim, EvenWords(v));
    _mm512_store_ps(dst + (4 * pair + 2 + h) * kFaceDim, OddWords(v));
  });
}

// x32[r * kSlabK + j] = x[row0 + r][32 kt0 + j] as fp32 for the slab's k,
// zero past args.k.
void WidenSlab(const MatmulArgs& args, int64_t row0, int rows, int64_t kt0, float* x32) {
  for (int r = 0; r < rows; ++r) {
    WidenToFp32(args.x + (row0 + r) * args.x_stride, kt0 * kTileDim, kSlabK, args.k,
                x32 + r * kSlabK);
  }
}

// sums[r * 32 + c] += x[r] @ w[:, c] over the first k_len k of the slab, for
// R rows: w the decoded slab, x[r] at x32 + r * kSlabK. `first` starts the
// sums at zero instead of reading them.
template <int R>
void SlabRowsFma(const float* w, int k_len, const float* x32, bool first, float* sums) {
  __m512 acc[R][2];
  for (int r = 0; r < R; ++r) {
    for (int h = 0; h < 2; ++h) {
      acc[r][h] = first ? _mm512_setzero_ps() : _mm512_load_ps(sums + r * kTileDim + h * kFaceDim);
    }
  }
  for (int k = 0; k < k_len; ++k) {
    const __m512 w0 = _mm512_load_ps(w + 2 * k * kFaceDim);
    const __m512 w1 = _mm512_load_ps(w + (2 * k + 1) * kFaceDim);
#pragma GCC unroll 12
    for (int r = 0; r < R; ++r) {
      const __m512 x = _mm512_set1_ps(x32[r * kSlabK + k]);
      acc[r][0] = _mm512_fmadd_ps(x, w0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(x, w1, acc[r][1]);
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int h = 0; h < 2; ++h) _mm512_store_ps(sums + r * kTileDim + h * kFaceDim, acc[r][h]);
  }
}

using SlabFn = void (*)(const float*, int, const float*, bool, float*);

template <int... Rs>
constexpr std::array<SlabFn, kGroupRows + 1> AllSlabFns(std::integer_sequence<int, Rs...>) {
  return {nullptr, &SlabRowsFma<Rs + 1>...};
}
constexpr auto kSlabFns = AllSlabFns(std::make_integer_sequence<int, kGroupRows>{});

// Tile rows [kt0, kt1) of every panel for rows [row0, row0 + rows), whose
// activations are in x32: decode each panel's slab once, then run it over the
// rows in groups of 12.
void SlabAllPanels(const MatmulArgs& args, int rows, int64_t kt0, int64_t kt1, const float* x32,
                   float* slab, float* sums) {
  const int64_t panel_bytes = Bfp4bPanelBytes(args.w.k_tiles);
  const __m512i codes = CodeTable();
  const int k_len = static_cast<int>((kt1 - kt0) * kTileDim);
  for (int64_t nt = args.nt_begin; nt < args.nt_end; ++nt) {
    const uint8_t* panel = args.w.tiles + nt * panel_bytes;
    for (int64_t kt = kt0; kt < kt1; ++kt) {
      DecodeTileFp32(panel + kt * kTileBytes, codes, slab + (kt - kt0) * kTileFloats);
    }
    float* panel_sums = sums + (nt - args.nt_begin) * kRowBlock * kTileDim;
    for (int g = 0; g < rows; g += kGroupRows) {
      const int group = std::min(kGroupRows, rows - g);
      kSlabFns[group](slab, k_len, x32 + g * kSlabK, kt0 == 0, panel_sums + g * kTileDim);
    }
  }
}

}  // namespace
}  // namespace avx512_bf16

void MatmulFp32Avx512FmaGemm(const MatmulArgs& args) {
  using namespace avx512_bf16;  // NOLINT(build/namespaces): this file's own helpers
  if (args.m < kGemmMinRows) {
    MatmulFp32Avx512Fma(args);
    return;
  }
  const int64_t panels = args.nt_end - args.nt_begin;
  // Cache lines: std::allocator honours their 64-byte alignment.
  std::vector<CacheLine> sums(static_cast<size_t>(panels) * kRowBlock * kTileDim * 4 / 64);
  std::vector<CacheLine> slab(static_cast<size_t>(kSlabTiles) * kTileFloats * 4 / 64);
  std::vector<CacheLine> x32(static_cast<size_t>(kRowBlock) * kSlabK * 4 / 64);
  std::unique_ptr<RowRanges> own;
  const RowRanges& ranges = RangesFor(args, own);
  for (int64_t row0 = 0; row0 < args.m; row0 += kRowBlock) {
    const int rows = static_cast<int>(std::min<int64_t>(kRowBlock, args.m - row0));
    for (int64_t kt0 = 0; kt0 < args.w.k_tiles; kt0 += kSlabTiles) {
      const int64_t kt1 = std::min<int64_t>(kt0 + kSlabTiles, args.w.k_tiles);
      WidenSlab(args, row0, rows, kt0, reinterpret_cast<float*>(x32.data()));
      SlabAllPanels(args, rows, kt0, kt1, reinterpret_cast<const float*>(x32.data()),
                    reinterpret_cast<float*>(slab.data()), reinterpret_cast<float*>(sums.data()));
    }
    for (int64_t nt = args.nt_begin; nt < args.nt_end; ++nt) {
      FinishPanel(args, ranges, nt, row0, rows,
                  reinterpret_cast<const float*>(sums.data()) +
                      (nt - args.nt_begin) * kRowBlock * kTileDim);
    }
  }
}

}  // namespace lmhead
