// SPDX-License-Identifier: Apache-2.0
// fp32 gemm (many rows) over kBfp4bPanels tiles: weights decoded once per row block, vdpbf16ps.
//
// Same numerics as MatmulFp32Avx512Bf16 (fp32_bf16_avx512.cc), bit for bit:
// there a product is xs * code with xs = x * 2^(E - 129); here it is x * w
// with w = code * 2^(E - 129), decoded exactly to bf16 (PanelIsFast keeps E
// in [3, 254], so w is a normal bf16, and refuses denormal or non-finite x).
// Both products are exact in fp32 and equal. Every row keeps one sum per
// column half, fed the k pairs in increasing order over all of K (a sum
// leaves its register between slabs only through exact fp32 stores), so a
// row's result is the same bits whichever path or rows share its call.
//
// Loop: per block of up to kRowBlock rows and slab of kSlabTiles tile rows,
// each panel's slab is decoded into a 16 KB bf16 buffer (L1) that every row
// of the block then reads: the decode is spread over 192 rows instead of the
// 8 of the gemv path. The micro-kernel keeps 12 rows x 2 column halves of
// sums in registers, loads two weight vectors per k pair and broadcasts one
// activation pair per row for two vdpbf16ps.
#include <algorithm>
#include <array>
#include <cstdint>
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

constexpr int kGemmMinRows = 33;  // fewer rows: the gemv path (reads the weights once)
constexpr int kGroupRows = 12;    // rows per micro-kernel call: 24 sums in registers
constexpr int kRowBlock = 16 * kGroupRows;
constexpr int kSlabTiles = 8;  // 8 x 2 KB of decoded weights
constexpr int kPairs = kTileDim / 2;
constexpr int kTileWords = kPairs * 2 * kTileDim;  // decoded bf16 per tile

// Decodes one packed tile into `dst`: for pair p (tile rows 2p, 2p + 1) and
// column half h, the 32 bf16 of DecodeScaledPairs at dst + (2 p + h) * 32.
void DecodeTile(const uint8_t* tile, __m512i codes, uint16_t* dst) {
  DecodeScaledPairs(tile, codes, [dst](int h, int pair, __m512i v) {
    _mm512_store_si512(dst + (2 * pair + h) * kTileDim, v);
  });
}

// sums[r * 32 + c] += x[r] @ w[:, c] over `pairs` k pairs, for R rows: w the
// decoded slab, x[r] at x + r * x_stride (bf16 pairs in k order). `first`
// starts the sums at zero instead of reading them.
template <int R>
void SlabRows(const uint16_t* w, int pairs, const uint16_t* x, int64_t x_stride, bool first,
              float* sums) {
  __m512 acc[R][2];
  for (int r = 0; r < R; ++r) {
    for (int h = 0; h < 2; ++h) {
      acc[r][h] = first ? _mm512_setzero_ps() : _mm512_load_ps(sums + r * kTileDim + h * kFaceDim);
    }
  }
  for (int p = 0; p < pairs; ++p) {
    const __m512bh w0 = reinterpret_cast<__m512bh>(_mm512_load_si512(w + 2 * p * kTileDim));
    const __m512bh w1 = reinterpret_cast<__m512bh>(_mm512_load_si512(w + (2 * p + 1) * kTileDim));
#pragma GCC unroll 12
    for (int r = 0; r < R; ++r) {
      const __m512bh xb =
          reinterpret_cast<__m512bh>(_mm512_set1_epi32(LoadPair(x + r * x_stride + 2 * p)));
      acc[r][0] = _mm512_dpbf16_ps(acc[r][0], w0, xb);
      acc[r][1] = _mm512_dpbf16_ps(acc[r][1], w1, xb);
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int h = 0; h < 2; ++h) _mm512_store_ps(sums + r * kTileDim + h * kFaceDim, acc[r][h]);
  }
}

using SlabFn = void (*)(const uint16_t*, int, const uint16_t*, int64_t, bool, float*);

template <int... Rs>
constexpr std::array<SlabFn, kGroupRows + 1> AllSlabFns(std::integer_sequence<int, Rs...>) {
  return {nullptr, &SlabRows<Rs + 1>...};
}
constexpr auto kSlabFns = AllSlabFns(std::make_integer_sequence<int, kGroupRows>{});

// Activations of tile rows [full, k_tiles) (the last, partial one), rows
// [row0, row0 + rows), zero-padded to 32 in `tail` (32 per row).
void PadTail(const MatmulArgs& args, int64_t kt, int64_t row0, int rows, uint16_t* tail) {
  const __mmask32 kmask = KMask(args.k, kt);
  for (int r = 0; r < rows; ++r) {
    const uint16_t* x = args.x + (row0 + r) * args.x_stride + kt * kTileDim;
    _mm512_store_si512(tail + r * kTileDim, _mm512_maskz_loadu_epi16(kmask, x));
  }
}

// Tile rows [kt0, kt1) of every panel for rows [row0, row0 + rows): decode
// each panel's slab once, then run it over the rows in groups of 12. Tile row
// k_tiles - 1 is partial when k % 32 != 0; its activations come from `tail`.
void SlabAllPanels(const MatmulArgs& args, int64_t row0, int rows, int64_t kt0, int64_t kt1,
                   const uint16_t* tail, uint16_t* slab, float* sums) {
  const int64_t panel_bytes = Bfp4bPanelBytes(args.w.k_tiles);
  const int64_t full = std::min(kt1, args.k / kTileDim);  // tiles read straight from x
  const __m512i codes = CodeTable();
  // The next slab's activations into L2 while this one runs: 8 lines per row
  // and slab, too short a stream for the hardware prefetcher.
  if (kt1 < full) {
    const int64_t lines = (std::min(full, kt1 + kSlabTiles) - kt1) * kTileDim * 2 / 64;
    for (int r = 0; r < rows; ++r) {
      const char* next =
          reinterpret_cast<const char*>(args.x + (row0 + r) * args.x_stride + kt1 * kTileDim);
      for (int64_t line = 0; line < lines; ++line) _mm_prefetch(next + 64 * line, _MM_HINT_T1);
    }
  }
  for (int64_t nt = args.nt_begin; nt < args.nt_end; ++nt) {
    const uint8_t* panel = args.w.tiles + nt * panel_bytes;
    for (int64_t kt = kt0; kt < kt1; ++kt) {
      DecodeTile(panel + kt * kTileBytes, codes, slab + (kt - kt0) * kTileWords);
    }
    float* panel_sums = sums + (nt - args.nt_begin) * kRowBlock * kTileDim;
    for (int g = 0; g < rows; g += kGroupRows) {
      const int group = std::min(kGroupRows, rows - g);
      const SlabFn fn = kSlabFns[group];
      float* group_sums = panel_sums + g * kTileDim;
      bool first = kt0 == 0;
      if (full > kt0) {
        const uint16_t* x = args.x + (row0 + g) * args.x_stride + kt0 * kTileDim;
        fn(slab, static_cast<int>((full - kt0) * kPairs), x, args.x_stride, first, group_sums);
        first = false;
      }
      for (int64_t kt = std::max(full, kt0); kt < kt1; ++kt) {
        fn(slab + (kt - kt0) * kTileWords, kPairs, tail + g * kTileDim, kTileDim, first,
           group_sums);
        first = false;
      }
    }
  }
}

}  // namespace
}  // namespace avx512_bf16

void MatmulFp32Avx512Bf16Gemm(const MatmulArgs& args) {
  using namespace avx512_bf16;  // NOLINT(build/namespaces): this file's own helpers
  if (args.m < kGemmMinRows) {
    MatmulFp32Avx512Bf16(args);
    return;
  }
  const int64_t panels = args.nt_end - args.nt_begin;
  // Cache lines: std::allocator honours their 64-byte alignment.
  std::vector<CacheLine> sums(static_cast<size_t>(panels) * kRowBlock * kTileDim * 4 / 64);
  std::vector<CacheLine> slab(static_cast<size_t>(kSlabTiles) * kTileWords * 2 / 64);
  alignas(64) uint16_t tail[kRowBlock * kTileDim];
  std::unique_ptr<RowRanges> own;
  const RowRanges& ranges = RangesFor(args, own);
  const int64_t full_tiles = args.k / kTileDim;
  for (int64_t row0 = 0; row0 < args.m; row0 += kRowBlock) {
    const int rows = static_cast<int>(std::min<int64_t>(kRowBlock, args.m - row0));
    if (full_tiles < args.w.k_tiles) PadTail(args, full_tiles, row0, rows, tail);
    for (int64_t kt0 = 0; kt0 < args.w.k_tiles; kt0 += kSlabTiles) {
      const int64_t kt1 = std::min<int64_t>(kt0 + kSlabTiles, args.w.k_tiles);
      SlabAllPanels(args, row0, rows, kt0, kt1, tail, reinterpret_cast<uint16_t*>(slab.data()),
                    reinterpret_cast<float*>(sums.data()));
    }
    for (int64_t nt = args.nt_begin; nt < args.nt_end; ++nt) {
      FinishPanel(args, ranges, nt, row0, rows,
                  reinterpret_cast<const float*>(sums.data()) +
                      (nt - args.nt_begin) * kRowBlock * kTileDim);
    }
  }
}

}  // namespace lmhead
