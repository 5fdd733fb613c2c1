// SPDX-License-Identifier: Apache-2.0
// tt-lofi matmul over kBfp4bPanels tiles: chunk sums exact in fp32 where provable.
//
// Written once for two kinds of products, each instantiated in its own file
// with its own instruction-set flags: vdpbf16ps on bf16 pairs
// (lofi_bf16_avx512.cc, AVX512-BF16) and fp32 FMAs on the same operands
// widened to fp32 (lofi_fma_avx512.cc, AVX-512 F/BW/DQ/VL only: Skylake-SP to
// Ice Lake servers). Both give the same bits: where a chunk sum is proven
// exact, it is exact whatever instruction, order and grouping add its
// products. Everything here has internal linkage (an anonymous namespace), so
// neither file's copy reaches the other.
//
// Bit-exactness with MatmulTtLofiReference rests on each chunk sum S (16
// products a_j w_j, a = LofiSrcB(x)) being the reference's double sum, which
// is exact whenever every partial sum is representable, and on rounding
// dst + S as the reference does.
//  - Every product of a chunk is a multiple of q = 2^(ea_min - 6) 2^(E_min -
//    129) (a has 7 significant bits, ea its exponent; E the weight group
//    exponents) and every partial sum is at most B = sum |a_j| 7 2^(E_max -
//    129). When B < 2^24 q, every partial sum fits fp32's 24 bits, so
//    vdpbf16ps or FMAs return S exactly whatever their order and rounding. Per
//    row and chunk the kernel finds n with 7 sum |a_j| / 2^ea_min < 2^n once
//    per call; the weights' E_max - E_min is in the panel footer
//    (tile_layout.h); the chunk is exact when n + (E_max - E_min) <= 18.
//  - That check bounds activations and weight scales apart. A row whose chunk
//    fails it (about 6% of a row's chunks on trained-like weights) is checked
//    again on its scaled activations xs_j = a_j 2^(E_j - 129), per column
//    half (ChunkIsExact): q = 2^(e - 133) with e the smallest exponent of an
//    xs_j, B = 7 sum |xs_j|. That clears about 84% of them.
//  - A row whose chunk fails both checks (about 1% of the row-chunks, mostly
//    one activation far below the others) keeps its fp32 sum s, known only
//    within 2^-19 B + 2^-120 of S whatever the order (ChunkSumErrorBounds):
//    every rounding is at most 2^-24 of a partial sum. Rounding dst + s
//    minus and plus that bound, each outward, gives Dst where both round
//    alike (RoundIntoWithin: the rounding never decreases). Where a threshold
//    lies within the bound (about 30% of those halves on trained-like data),
//    the half is summed again in double from the same operands, exact for
//    spreads up to 39 binades.
//  - The products use the bf16 trick of fp32_bf16_avx512.cc: xs = a * 2^(E -
//    129) on the bf16 exponent field, the code looked up as a bf16 integer
//    (and widened to fp32 by a shift for the FMAs). A panel and row block
//    whose operands could leave the normal range (InRange, as the ordered
//    kernel checks per chunk) or whose spreads could exceed 39 binades go to
//    the reference; then every xs is a normal bf16 and no sum is denormal,
//    which vdpbf16ps's flushing needs.
// Rounding: Dst = RNA16(RNA13(dst + S)) is, on fp32 bits, one add of 0x9000
// and a mask (lofi_avx512.cc shows why the two roundings collapse): the result
// is the bf16 value of the interval between two thresholds, fp32 numbers whose
// low 16 bits are 0x7000, that holds |dst + S|. The kernel adds dst + S in
// fp32 rounding toward zero: truncation never moves a value across or onto a
// representable threshold, so the interval is the exact sum's. The reference
// rounds the double sum, which is exact wherever it matters: a sum within a
// double ulp of a threshold has |S| >= 2^-10 |dst + S|, so S's 24 bits end
// within 35 bits of the top. Chunk sums redone in double round the double sum.
// Dst and the packer's L1 partials (packer_l1_acc, spec §4.6) are fp32 arrays
// of bf16 values, blocked over K as MakeLofiBlocking says.
// Loop: per block of up to 8 rows, ScanRows stores the LoFi activations and
// the chunk statistics once for all panels. Per panel and tile, the next
// tile's xs (per column half) and open rows are prepared while this tile's
// products run: on Zen 5 a vdpbf16ps broadcast of 4 bytes from a 64-byte
// store still in flight waits about 14 cycles for the store to retire (the
// same holds for any load narrower or wider than the store, which the
// rounding paths avoid too). Each 64-byte block of codes is loaded and looked
// up once for all rows; every vdpbf16ps broadcasts its xs pair from memory,
// every FMA its xs widened to fp32.
// A chunk where some row is open takes an out-of-line path, so that the
// common one keeps its 2 R sums in registers.
#ifndef LMHEAD_KERNELS_AVX512_LOFI_PANELS_INL_H_
#define LMHEAD_KERNELS_AVX512_LOFI_PANELS_INL_H_

#include <algorithm>
#include <cstdint>
#include <optional>

#include "kernels/avx512/bf16_panels_avx512.h"
#include "kernels/avx512/fp32_bf16_rows_avx512.h"
#include "kernels/avx512/lofi_avx512_blocks.h"
#include "kernels/avx512/lofi_bf16_chunks.h"
#include "kernels/reference.h"
#include "kernels/tile_layout.h"
#include "kernels/tt_lofi.h"
#include "kernels/x86_intrinsics.h"

namespace lmhead {
namespace avx512_lofi_bf16 {
namespace {

using avx512_bf16::BlockWeights;
using avx512_bf16::CodeTable;
using avx512_bf16::EvenWords;
using avx512_bf16::kTileBytes;
using avx512_bf16::OddWords;
using avx512_bf16::ScaleBits;

// What multiplies the weights and the scaled activations.
enum class Products {
  kVdpbf16ps,  // bf16 pairs, AVX512-BF16
  kFma,        // fp32, AVX-512 F
};

// Dst and the L1 partials of the row block's 32 columns, bf16 values as fp32.
struct DstState {
  alignas(64) float dst[kBlockRows][kTileDim];
  alignas(64) float l1[kBlockRows][kTileDim];
};

// What one tile's products read for R rows, prepared while the tile before
// is computed: on Zen 5 a 4-byte broadcast load from a 64-byte store still in
// flight waits for the store to retire, which would stall every product of
// the chunk.
template <int R>
struct TileActivations {
  unsigned open[2];  // per chunk, the rows neither check proved exact (bit r: row r)
  // [row][column half][tile row]: the LoFi activations times the half's group
  // scales (bf16 bits).
  alignas(64) uint16_t xs[R][2][kTileDim];
  // xs widened to fp32, for Products::kFma only.
  alignas(64) float xs32[R][2][kTileDim];
};

// act.xs32[r] from act.xs[r]: each bf16 pattern moved to the high word of a
// 32-bit lane, the low word zeroed.
template <int R>
[[gnu::always_inline]] inline void WidenRow(int r, TileActivations<R>& act) {
  const __m512i low_words = _mm512_set_epi16(15, 0, 14, 0, 13, 0, 12, 0, 11, 0, 10, 0, 9, 0, 8, 0,
                                             7, 0, 6, 0, 5, 0, 4, 0, 3, 0, 2, 0, 1, 0, 0, 0);
  const __m512i high_words = _mm512_add_epi16(low_words, _mm512_set1_epi16(16));
  for (int h = 0; h < 2; ++h) {
    const __m512i v = _mm512_load_si512(act.xs[r][h]);
    _mm512_store_si512(act.xs32[r][h], _mm512_maskz_permutexvar_epi16(0xAAAAAAAAu, low_words, v));
    _mm512_store_si512(act.xs32[r][h] + kFaceDim,
                       _mm512_maskz_permutexvar_epi16(0xAAAAAAAAu, high_words, v));
  }
}

// Clears from act.open the rows whose scaled activations prove their chunk
// exact after all (ChunkIsExact), where the chunk statistics could not (rare:
// see the top).
template <int R>
[[gnu::noinline]] void ResolveOpenRows(TileActivations<R>& act) {
  for (int c = 0; c < 2; ++c) {
    for (unsigned left = act.open[c]; left != 0; left &= left - 1) {
      const int r = __builtin_ctz(left);
      // A mask, not a branch: the check ends a chain of about 15 dependent
      // instructions and fails for 1 row in 6, and a branch on it that
      // mispredicts discards the products issued meanwhile (2-4% at 8-32
      // rows on Zen 5). The empty asm keeps GCC from making it a branch.
      unsigned exact =
          ChunkIsExact(_mm512_load_si512(act.xs[r][0]), _mm512_load_si512(act.xs[r][1]), c);
      asm("" : "+r"(exact));
      act.open[c] &= ~(exact << r);
    }
  }
}

// act for tile kt (`tile`) of a panel with footer `footer`.
template <int R, Products P>
[[gnu::always_inline]] inline void PrepareTile(const uint8_t* tile, int64_t kt,
                                               const uint8_t* footer, const RowBlock& block,
                                               TileActivations<R>& act) {
  const __m512i e[2] = {ScaleBits(tile, 0), ScaleBits(tile, 1)};
  for (int r = 0; r < R; ++r) {
    const __m512i a = _mm512_load_si512(block.Row(r, kt));
    const __mmask32 nonzero = _mm512_test_epi16_mask(a, _mm512_set1_epi16(0x7FFF));
    for (int h = 0; h < 2; ++h) {
      _mm512_store_si512(act.xs[r][h], _mm512_mask_add_epi16(a, nonzero, a, e[h]));
    }
    if constexpr (P == Products::kFma) WidenRow(r, act);
  }
  for (int c = 0; c < 2; ++c) {
    act.open[c] = OpenRows(block, kt, c, footer[kBfp4bFooterSpreads + 2 * kt + c], (1u << R) - 1);
  }
  if ((act.open[0] | act.open[1]) != 0) ResolveOpenRows<R>(act);
}

// Sums per (row, column half) in ChunkSums for R rows: enough to keep 8
// products in flight.
constexpr int PartialSums(Products p, int rows) {
  if (p == Products::kFma) {
    if (rows == 1) return 4;
    return rows <= 3 ? 2 : 1;
  }
  if (rows <= 2) return 4;
  return rows <= 4 ? 2 : 1;
}

// sums[r][h] = the sum of chunk c for row r and column half h: the 16
// products xs * code, each weight vector decoded once for all R rows. With
// vdpbf16ps, one product pair per instruction and A sums per (row, half)
// keep 2 R A >= 8 of them in flight; with FMAs, one product per instruction,
// the even and odd tile rows alternating over A sums.
template <int R, Products P>
[[gnu::always_inline]] inline void ChunkSums(const uint8_t* tile, int c,
                                             const TileActivations<R>& act, __m512 (*sums)[2]) {
  constexpr int A = PartialSums(P, R);
  const __m512i codes = CodeTable();
  __m512 acc[R][2][A];
  for (int r = 0; r < R; ++r) {
    for (int h = 0; h < 2; ++h) {
      for (int i = 0; i < A; ++i) acc[r][h][i] = _mm512_setzero_ps();
    }
  }
#pragma GCC unroll 2
  for (int i = 0; i < 2; ++i) {
    __m512i data[2] = {_mm512_loadu_si512(tile + 64 + 64 * (2 * c + i)),
                       _mm512_loadu_si512(tile + 64 + 64 * (4 + 2 * c + i))};
    // One load per block: GCC would fold a load into each shift below, and
    // the engine's tiles need not be 64-byte aligned (a line-crossing load
    // costs two).
    asm("" : "+v"(data[0]), "+v"(data[1]));
#pragma GCC unroll 4
    for (int q = 0; q < 4; ++q) {
      const int pair = (2 * c + i) * 4 + q;  // tile rows 2 pair, 2 pair + 1
      const __m512i w[2] = {BlockWeights(data[0], q, codes), BlockWeights(data[1], q, codes)};
      if constexpr (P == Products::kVdpbf16ps) {
        for (int r = 0; r < R; ++r) {
          for (int h = 0; h < 2; ++h) {
            __m512& s = acc[r][h][(4 * i + q) % A];
            s = avx512_bf16::DotPair(s, w[h],
                                     reinterpret_cast<const uint32_t*>(&act.xs[r][h][2 * pair]));
          }
        }
      } else {
        const __m512 even[2] = {EvenWords(w[0]), EvenWords(w[1])};
        const __m512 odd[2] = {OddWords(w[0]), OddWords(w[1])};
        for (int r = 0; r < R; ++r) {
          for (int h = 0; h < 2; ++h) {
            __m512& s_even = acc[r][h][(2 * (4 * i + q)) % A];
            s_even = _mm512_fmadd_ps(_mm512_set1_ps(act.xs32[r][h][2 * pair]), even[h], s_even);
            __m512& s_odd = acc[r][h][(2 * (4 * i + q) + 1) % A];
            s_odd = _mm512_fmadd_ps(_mm512_set1_ps(act.xs32[r][h][2 * pair + 1]), odd[h], s_odd);
          }
        }
      }
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int h = 0; h < 2; ++h) {
      sums[r][h] = acc[r][h][0];
      for (int i = 1; i < A; ++i) sums[r][h] = _mm512_add_ps(sums[r][h], acc[r][h][i]);
    }
  }
}

// Rounds chunk c's sums into Dst when some row is open (rare: see the top).
// Out of line: the common case keeps its sums in registers.
template <int R>
[[gnu::noinline]] void RoundMixedChunk(const uint8_t* tile, int c, const TileActivations<R>& act,
                                       const __m512 (*sums)[2], float (*dst)[kTileDim]) {
  const unsigned open = act.open[c];
  for (unsigned left = ((1u << R) - 1) & ~open; left != 0; left &= left - 1) {
    const int r = __builtin_ctz(left);
    RoundInto(sums[r][0], dst[r]);
    RoundInto(sums[r][1], dst[r] + kFaceDim);
  }
  for (unsigned left = open; left != 0; left &= left - 1) {
    const int r = __builtin_ctz(left);
    RoundInexactRow(tile, c, act.xs[r], sums[r][0], sums[r][1], dst[r]);
  }
}

// Tile kt of the panel for R rows: both chunks into state.dst.
template <int R, Products P>
[[gnu::always_inline]] inline void TileRows(const uint8_t* tile, const TileActivations<R>& act,
                                            DstState& state) {
  for (int c = 0; c < 2; ++c) {
    __m512 sums[R][2];
    ChunkSums<R, P>(tile, c, act, sums);
    if (act.open[c] != 0) {
      // Only this rare branch puts the sums in memory (a call clobbers every
      // vector register).
      alignas(64) __m512 stored[R][2];
      __builtin_memcpy(stored, sums, sizeof(stored));
      RoundMixedChunk<R>(tile, c, act, stored, state.dst);
      continue;
    }
    for (int r = 0; r < R; ++r) {
      RoundInto(sums[r][0], state.dst[r]);
      RoundInto(sums[r][1], state.dst[r] + kFaceDim);
    }
  }
}

template <int R, Products P>
void RunPanel(const MatmulArgs& args, const LofiBlocking& blocking, const uint8_t* panel,
              int64_t nt, int64_t row0, const RowBlock& block, DstState& state) {
  const uint8_t* footer = panel + args.w.k_tiles * kTileBytes;
  TileActivations<R> act[2];  // tile kt's in act[kt % 2]
  PrepareTile<R, P>(panel, 0, footer, block, act[0]);
  for (int64_t block_idx = 0; block_idx < blocking.num_blocks; ++block_idx) {
    BeginBlock(blocking, block_idx, R, state.dst, state.l1);
    const int64_t kt_end = (block_idx + 1) * args.lofi.in0_block_w;
    for (int64_t kt = block_idx * args.lofi.in0_block_w; kt < kt_end; ++kt) {
      const uint8_t* tile = panel + kt * kTileBytes;
      avx512_bf16::PrefetchAhead(tile);
      if (kt + 1 < args.w.k_tiles) {
        PrepareTile<R, P>(tile + kTileBytes, kt + 1, footer, block, act[(kt + 1) % 2]);
      }
      TileRows<R, P>(tile, act[kt % 2], state);
    }
    EndBlock(blocking, block_idx, R, state.dst, state.l1);
  }
  // Dst rows are 32 floats apart: the layout avx512_bf16::StoreColumns reads.
  avx512_bf16::StoreColumns(args, nt, row0, R, &state.dst[0][0]);
}

using PanelFn = void (*)(const MatmulArgs&, const LofiBlocking&, const uint8_t*, int64_t, int64_t,
                         const RowBlock&, DstState&);
template <Products P>
constexpr PanelFn kPanelFns[kBlockRows + 1] = {nullptr,        RunPanel<1, P>, RunPanel<2, P>,
                                               RunPanel<3, P>, RunPanel<4, P>, RunPanel<5, P>,
                                               RunPanel<6, P>, RunPanel<7, P>, RunPanel<8, P>};

// The whole kernel (kernels.h's contract) with products P.
template <Products P>
void MatmulTtLofiPanels(const MatmulArgs& args) {
  if (args.m <= 0 || args.nt_begin >= args.nt_end) return;
  const LofiBlocking blocking = MakeLofiBlocking(args);
  const int max_sum = avx512_lofi::MaxExponentSum(2 * args.w.k_tiles + blocking.num_blocks);
  const int64_t panel_bytes = Bfp4bPanelBytes(args.w.k_tiles);
  // Every call of a work split scans the same rows: done once when the
  // caller prepared them (PrepareTtLofiPanels), else here, 8 rows at a time.
  const auto* prepared = static_cast<const ScannedRows*>(args.prepared);
  DstState state;
  for (int64_t row0 = 0; row0 < args.m; row0 += kBlockRows) {
    const int rows = static_cast<int>(std::min<int64_t>(kBlockRows, args.m - row0));
    std::optional<ScannedRows> own;
    if (prepared == nullptr) own.emplace(args, row0, rows);
    const RowBlock& block = (prepared != nullptr ? *prepared : *own).Block(row0);
    for (int64_t nt = args.nt_begin; nt < args.nt_end; ++nt) {
      const uint8_t* panel = args.w.tiles + nt * panel_bytes;
      if (PanelIsFast(panel + args.w.k_tiles * kTileBytes, block, max_sum)) {
        kPanelFns<P>[rows](args, blocking, panel, nt, row0, block, state);
      } else {
        avx512_bf16::SlowPanel(args, nt, row0, rows, &MatmulTtLofiReference);
      }
    }
  }
}

}  // namespace
}  // namespace avx512_lofi_bf16
}  // namespace lmhead

#endif  // LMHEAD_KERNELS_AVX512_LOFI_PANELS_INL_H_
