// SPDX-License-Identifier: Apache-2.0
// The AMX-BF16 tt-lofi matmul over kBfp4bPanels tiles, written once over a tile-operations policy.
//
// Included by lofi_amx.cc, which instantiates it with the real tile
// instructions (amx_tiles.h), and by amx_emulated.cc, which instantiates it
// with a scalar model of them, as amx_matmul-inl.h is. Needs AVX-512
// F/BW/DQ/VL, as do the rare paths it calls (lofi_bf16_chunks.cc).
//
// Bit-exact with MatmulTtLofiReference by the argument of the vdpbf16ps
// kernel (lofi_panels-inl.h's top); only where the chunk sums come from
// differs:
//  - Per tile and LoFi chunk (16 k), TDPBF16PS computes C = A B from zeroed
//    C tiles: A holds the chunk's LoFi activations of up to 32 rows
//    (ScanRows, copied in tile order: AmxLofiRows), B its 8 k pairs of weights decoded exactly to
//    bf16 (code x 2^(E - 129)). Each product is exact in fp32, and where the chunk statistics
//    (OpenRows) prove every partial sum representable, C is the exact chunk sum whatever order and
//    rounding TDPBF16PS uses inside.
//  - The panel check (PanelIsFast) keeps every operand and every non-zero
//    partial sum normal, so TDPBF16PS's flushing of denormal inputs and
//    results never applies; the 8-row blocks it refuses are redone by
//    MatmulTtLofiReference.
//  - C goes to memory; AVX-512 rounds each row's sums into its Dst
//    (RoundInto). Rows the statistics leave open take RoundOpenRow: the
//    sharper check on scaled activations, else C's sums rounded within their
//    error bound, else the double sum (lofi_panels-inl.h's top).
// Blocking: a pass computes up to 32 rows (A0 rows 0-15, A1 rows 16-31) of
// one panel, so a decode call reads each panel once. A prefill runs the
// passes of kLofiRowChunk rows panel by panel: it reads a panel from memory
// once per chunk, and the chunk's activations stay in cache.
#ifndef LMHEAD_KERNELS_AMX_AMX_LOFI_INL_H_
#define LMHEAD_KERNELS_AMX_AMX_LOFI_INL_H_

#include <algorithm>
#include <cstdint>
#include <optional>

#include "kernels/activation_tiles.h"
#include "kernels/amx/amx_bfp4_vnni.h"
#include "kernels/amx/amx_matmul-inl.h"
#include "kernels/amx/amx_tile_config.h"
#include "kernels/avx512/bf16_panels_avx512.h"
#include "kernels/avx512/fp32_bf16_rows_avx512.h"
#include "kernels/avx512/lofi_bf16_chunks.h"
#include "kernels/kernels.h"
#include "kernels/reference.h"
#include "kernels/tile_layout.h"
#include "kernels/tt_lofi.h"
#include "kernels/x86_intrinsics.h"

namespace lmhead::amx {

inline constexpr int kLofiRowChunk = 128;

// What the set prepares once per input (PrepareTtLofiAmx): the tt-lofi panel
// sets' scan, which rows below kAmxMinRows take along to the FMA set (its own
// prepare), and its LoFi activations again in tile order, from whose groups
// of 16 or 32 rows the A tiles load.
class AmxLofiRows final : public PreparedActivations {
 public:
  explicit AmxLofiRows(const MatmulArgs& args)
      : scanned(args, 0, args.m), a(ScannedArgs(args, scanned), kARows) {}

  const avx512_lofi_bf16::ScannedRows scanned;
  const ActivationTiles a;

 private:
  // args with x the scan's LoFi activations (zero from K on).
  static MatmulArgs ScannedArgs(MatmulArgs args, const avx512_lofi_bf16::ScannedRows& scanned) {
    if (args.m > 0) {
      args.x = scanned.Block(0).x;
      args.x_stride = scanned.Block(0).x_stride;
    }
    return args;
  }
};

// What a pass keeps: Dst and the packer's L1 partials of its rows (bf16
// values as fp32), one chunk's sums, and two decoded tiles, so that decoding
// the next tile does not wait for the tile loads of this one.
struct LofiPassState {
  alignas(64) float dst[kBlockRows][kTileDim];
  alignas(64) float l1[kBlockRows][kTileDim];
  alignas(64) float sums[kBlockRows][kTileDim];
  BTilePair b[2];
};

// Rounds chunk c of tile kt, whose sums are in state.sums, into the Dst of
// the pass's rows in `fast` (bit r: row r of the pass; blocks[b / 8] holds
// rows b .. b + 7).
static inline void RoundChunk(const uint8_t* tile, int64_t kt, int c, const uint8_t* footer,
                              const avx512_lofi_bf16::RowBlock* const* blocks, int rows,
                              unsigned fast, LofiPassState& state) {
  using avx512_lofi_bf16::RoundInto;
  const int weight_spread = footer[kBfp4bFooterSpreads + 2 * kt + c];
  for (int b = 0; b < rows; b += avx512_lofi_bf16::kBlockRows) {
    const unsigned block_rows = (fast >> b) & 0xFFu;
    if (block_rows == 0) continue;
    const avx512_lofi_bf16::RowBlock& block = *blocks[b / avx512_lofi_bf16::kBlockRows];
    const unsigned open = avx512_lofi_bf16::OpenRows(block, kt, c, weight_spread, block_rows);
    for (unsigned left = block_rows; left != 0; left &= left - 1) {
      const int i = __builtin_ctz(left);
      const __m512 sum0 = _mm512_load_ps(state.sums[b + i]);
      const __m512 sum1 = _mm512_load_ps(state.sums[b + i] + kFaceDim);
      float* dst = state.dst[b + i];
      if ((open >> i & 1) != 0) {
        avx512_lofi_bf16::RoundOpenRow(tile, c, block.Row(i, kt), sum0, sum1, dst);
      } else {
        RoundInto(sum0, dst);
        RoundInto(sum1, dst + kFaceDim);
      }
    }
  }
}

// Rows [row0, row0 + rows) (rows <= 32) of panel nt, with the tiles
// configured for them.
template <typename Tiles>
void LofiPass(const MatmulArgs& args, const LofiBlocking& blocking, int max_sum,
              const AmxLofiRows& prepared, int64_t nt, int64_t row0, int rows,
              LofiPassState& state) {
  const avx512_lofi_bf16::ScannedRows& scanned = prepared.scanned;
  const ActivationTiles& tiles = prepared.a;
  constexpr int kBlock = avx512_lofi_bf16::kBlockRows;
  const uint8_t* panel = Panel(args, nt);
  const uint8_t* footer = Footer(args, nt);
  const avx512_lofi_bf16::RowBlock* blocks[kBlockRows / kBlock];  // looked up once per pass
  unsigned fast = 0;
  for (int b = 0; b < rows; b += kBlock) {
    blocks[b / kBlock] = &scanned.Block(row0 + b);
    if (avx512_lofi_bf16::PanelIsFast(footer, *blocks[b / kBlock], max_sum)) {
      fast |= ((1u << std::min(kBlock, rows - b)) - 1) << b;
    }
  }
  if (fast != 0) {
    const bool both = rows > kARows;
    // The pass's rows are one group of `tiles` (row0 is a multiple of 32, and
    // groups hold 32 rows where m > 16): A0 and A1 load from its tile rows,
    // 64 bytes per row.
    for (int64_t block_idx = 0; block_idx < blocking.num_blocks; ++block_idx) {
      avx512_lofi_bf16::BeginBlock(blocking, block_idx, rows, state.dst, state.l1);
      const int64_t kt_end = (block_idx + 1) * args.lofi.in0_block_w;
      for (int64_t kt = block_idx * args.lofi.in0_block_w; kt < kt_end; ++kt) {
        const uint8_t* tile = panel + kt * avx512_bf16::kTileBytes;
        avx512_bf16::PrefetchAhead(tile);
        BTilePair& decoded = state.b[kt & 1];
        DecodePanelTile(tile, decoded);
        for (int c = 0; c < 2; ++c) {
          const uint16_t* a = tiles.Row(row0, kt) + c * kFaceDim;
          Tiles::ZeroC(both);
          Tiles::LoadA(0, a, kARowBytes);
          if (both) Tiles::LoadA(1, a + kARows * kTileDim, kARowBytes);
          Tiles::LoadB(decoded, kChunkPairs * c);
          Tiles::Dot(both);
          Tiles::StoreC(&state.sums[0][0], kTileDim * sizeof(float), both);
          RoundChunk(tile, kt, c, footer, blocks, rows, fast, state);
        }
      }
      avx512_lofi_bf16::EndBlock(blocking, block_idx, rows, state.dst, state.l1);
    }
    avx512_bf16::StoreColumns(args, nt, row0, rows, &state.dst[0][0]);
  }
  for (int b = 0; b < rows; b += kBlock) {
    if ((fast >> b & 1) == 0) {
      avx512_bf16::SlowPanel(args, nt, row0 + b, std::min(kBlock, rows - b),
                             &MatmulTtLofiReference);
    }
  }
}

// Any m: the rows' scan and tiles from the caller (the set's prepare,
// PrepareTtLofiAmx) or made here.
template <typename Tiles>
void LofiPanels(const MatmulArgs& args) {
  if (args.m <= 0 || args.nt_begin >= args.nt_end) return;
  const LofiBlocking blocking = MakeLofiBlocking(args);
  const int max_sum = avx512_lofi::MaxExponentSum(2 * args.w.k_tiles + blocking.num_blocks);
  std::optional<AmxLofiRows> own;
  if (args.prepared == nullptr) own.emplace(args);
  const auto& prepared =
      args.prepared != nullptr ? static_cast<const AmxLofiRows&>(*args.prepared) : *own;
  LofiPassState state;
  int configured_rows = 0;  // LDTILECFG only when a pass's row count changes
  for (int64_t chunk0 = 0; chunk0 < args.m; chunk0 += kLofiRowChunk) {
    const int64_t chunk_end = std::min<int64_t>(chunk0 + kLofiRowChunk, args.m);
    for (int64_t nt = args.nt_begin; nt < args.nt_end; ++nt) {
      for (int64_t row0 = chunk0; row0 < chunk_end; row0 += kBlockRows) {
        const int rows = static_cast<int>(std::min<int64_t>(kBlockRows, chunk_end - row0));
        if (rows != configured_rows) {
          if (configured_rows != 0) Tiles::End();
          Tiles::Begin(std::min(rows, kARows), std::max(rows - kARows, 0), kChunkPairs);
          configured_rows = rows;
        }
        LofiPass<Tiles>(args, blocking, max_sum, prepared, nt, row0, rows, state);
      }
    }
  }
  if (configured_rows != 0) Tiles::End();
}

}  // namespace lmhead::amx

#endif  // LMHEAD_KERNELS_AMX_AMX_LOFI_INL_H_
