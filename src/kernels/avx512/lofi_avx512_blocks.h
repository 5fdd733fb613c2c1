// SPDX-License-Identifier: Apache-2.0
// The per-chunk steps of the AVX-512 tt-lofi kernel: decode, activations, K blocks, store.
//
// Internal to lofi_avx512.cc; declared here only to keep each file short. All
// functions need AVX-512 F/BW/DQ/VL (their file is compiled with it).
#ifndef LMHEAD_KERNELS_AVX512_LOFI_AVX512_BLOCKS_H_
#define LMHEAD_KERNELS_AVX512_LOFI_AVX512_BLOCKS_H_

#include <cstdint>

#include "kernels/kernels.h"
#include "kernels/tt_lofi.h"

namespace lmhead::avx512_lofi {

// One MVMUL chunk of K (spec §4.4).
inline constexpr int kChunk = 16;
// A pass covers up to 32 rows (all rows of a decode call, so the weights are
// read once) and up to 2 tile columns; its state fits in about 38 KiB of
// stack.
inline constexpr int kPassRows = 32;
inline constexpr int kPassTiles = 2;
inline constexpr int kPassCols = kPassTiles * kTileDim;

// Everything one pass touches, in doubles where the reference uses doubles.
struct Workspace {
  alignas(64) double w[kChunk][kPassCols];  // LoFi SrcA weights of the chunk
  alignas(64) double a[kPassRows][kChunk];  // LoFi SrcB activations of the chunk
  // Dst (bf16 values) and the packer L1 partials of row r, pass column c at
  // [r * kPassCols + c].
  alignas(64) double dst[kPassRows * kPassCols];
  alignas(64) float l1[kPassRows * kPassCols];
};

// Biased fp32 exponents of the nonzero values seen (weights: of the groups with
// a nonzero exponent byte); empty when hi < lo.
struct ExponentRange {
  int lo = 255;
  int hi = 0;
};

// Largest ahi + ehi (biased exponents of the largest activation and weight
// group) for which no Dst or L1 value of a K loop with `steps` roundings
// (chunks plus packer additions) can reach 2^127.
int MaxExponentSum(int64_t steps);

// True when no value of a chunk can leave the fp32 normal range: every
// product is a multiple of 2^(act.lo - 133 + wgt.lo - 127 - weight_quantum_bits)
// >= 2^-126 (weight_quantum_bits: 2 for bfp4_b, 6 for bfp8_b), so every nonzero
// sum is normal, and act.hi + wgt.hi <= max_sum (MaxExponentSum).
bool InRange(const ExponentRange& act, const ExponentRange& wgt, int weight_quantum_bits,
             int max_sum);

// Decodes rows [half * 16, half * 16 + 16) of tile row kt, tile columns
// [nt0, nt0 + tiles), into ws.w with the LoFi SrcA rule (flush, 5 bits).
ExponentRange DecodeWeightChunk(const TileMatrixView& w, int64_t kt, int64_t nt0, int tiles,
                                int half, Workspace& ws);

// ws.a[r][j] = LofiSrcB(x[row0 + r, k0 + j]), zero for k0 + j >= args.k.
ExponentRange LoadActivationChunk(const MatmulArgs& args, int64_t row0, int rows, int64_t k0,
                                  Workspace& ws);

// LofiBeginBlock / LofiEndBlock (tt_lofi.h) for the pass's rows. `checked`
// routes non-finite and denormal lanes through PackerL1Accumulate.
void BeginBlock(const LofiBlocking& blocking, int64_t block_idx, int rows, Workspace& ws);
void EndBlock(const LofiBlocking& blocking, int64_t block_idx, int rows, bool checked,
              Workspace& ws);

// Writes Dst to y for the pass's rows and the columns below args.n_cols.
void StoreRows(const MatmulArgs& args, int64_t row0, int rows, int64_t nt0, int tiles,
               const Workspace& ws);

}  // namespace lmhead::avx512_lofi

#endif  // LMHEAD_KERNELS_AVX512_LOFI_AVX512_BLOCKS_H_
