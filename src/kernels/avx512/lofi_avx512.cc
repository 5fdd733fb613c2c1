// SPDX-License-Identifier: Apache-2.0
// tt-lofi matmul with AVX-512: the reference's double arithmetic, 8 output columns per register.
//
// Bit-exactness with MatmulTtLofiReference (reference.cc, spec §4.8) rests on
// doing the same floating-point operations in the same order, only for 8
// columns at once:
//  - each 16-term chunk sum starts at +0.0 and adds a[j] * w[j][n] for
//    j = 0..15 in double; every product is exact (at most 7 x 5 significant
//    bits), so one FMA equals the reference's multiply-then-add;
//  - Dst = RNA16(RNA13(dst + S)) on the double bits. The two roundings collapse
//    into one integer add and one mask: adding 2^41 then clearing bits < 42,
//    then adding 2^44 and clearing bits < 45, keeps the same bits >= 45 as
//    adding 2^41 + 2^44 at once, because clearing low bits never changes a
//    carry into bit 44 or above;
//  - the reference then narrows to fp32 and flushes denormals, and treats
//    inf/NaN specially. Those branches are only needed for tiny, huge or
//    non-finite values, so each chunk first bounds its operands' exponents
//    (InRange): while every chunk of a pass is in range, all values stay
//    normal and finite and the rounding is the whole story; otherwise the pass
//    switches to a checked kernel that redoes odd lanes with DstAccumulate.
// Packer L1 accumulation (fp32 add, RNA16, flush) is vectorised the same way.
//
// A pass holds the Dst of up to 32 rows (all rows of a decode call, so the
// weights are read once) and decodes each chunk's weights once for them.
// Registered for bfp8_b; bfp4_b takes lofi_fma_avx512.cc's panel kernel,
// which proves most chunk sums exact in fp32 and runs 2-3x faster.
#include <cmath>
#include <cstdint>

#include "kernels/avx512/avx512_kernels.h"
#include "kernels/avx512/bfp_decode_avx512.h"
#include "kernels/avx512/lofi_avx512_blocks.h"
#include "kernels/tile_passes.h"
#include "kernels/tt_lofi.h"
#include "kernels/x86_intrinsics.h"

namespace lmhead {
namespace avx512_lofi {
namespace {

constexpr uint64_t kRnaBias = (uint64_t{1} << 41) + (uint64_t{1} << 44);
constexpr uint64_t kBf16KeepMask = ~((uint64_t{1} << 45) - 1);
constexpr uint64_t kAbsMask = 0x7FFFFFFFFFFFFFFFull;
// Doubles holding normal bf16 values: 2^-126 up to (2 - 2^-7) * 2^127.
constexpr uint64_t kMinNormalBits = uint64_t{897} << 52;
constexpr uint64_t kMaxBf16Bits = (uint64_t{1150} << 52) | (uint64_t{0x7F} << 45);

// Redoes the lanes of `t` that left the normal range with the scalar rule.
__m512i FixLanes(__m512i t, __m512d old_dst, __m512d chunk_sum) {
  const __m512i t_abs = _mm512_and_si512(t, _mm512_set1_epi64(static_cast<int64_t>(kAbsMask)));
  const __mmask8 outside = _mm512_cmpgt_epu64_mask(
      _mm512_sub_epi64(t_abs, _mm512_set1_epi64(static_cast<int64_t>(kMinNormalBits))),
      _mm512_set1_epi64(static_cast<int64_t>(kMaxBf16Bits - kMinNormalBits)));
  const __mmask8 bad = _mm512_mask_test_epi64_mask(outside, t_abs, t_abs);
  if (bad == 0) return t;
  alignas(64) double old_v[8], sum_v[8], out_v[8];
  _mm512_store_pd(old_v, old_dst);
  _mm512_store_pd(sum_v, chunk_sum);
  _mm512_store_si512(out_v, t);
  for (int lane = 0; lane < 8; ++lane) {
    if ((bad >> lane) & 1) {
      out_v[lane] =
          static_cast<double>(DstAccumulate(static_cast<float>(old_v[lane]), sum_v[lane]));
    }
  }
  return _mm512_load_si512(out_v);
}

// One chunk (16 k) for R rows and one tile's 32 columns: acc = sum_j a[r][j] *
// w[j][n], then dst = RNA16(RNA13(dst + acc)). a: [R][kChunk]; w and dst have
// row stride kPassCols.
template <int R, bool kChecked>
void ChunkKernel(const double* a, const double* w, double* dst) {
  __m512d acc[R][4];
  for (int r = 0; r < R; ++r) {
    for (int q = 0; q < 4; ++q) acc[r][q] = _mm512_setzero_pd();
  }
#pragma GCC unroll 16
  for (int j = 0; j < kChunk; ++j) {
    const double* wj = w + j * kPassCols;
    const __m512d w0 = _mm512_load_pd(wj);
    const __m512d w1 = _mm512_load_pd(wj + 8);
    const __m512d w2 = _mm512_load_pd(wj + 16);
    const __m512d w3 = _mm512_load_pd(wj + 24);
    for (int r = 0; r < R; ++r) {
      const __m512d ar = _mm512_set1_pd(a[r * kChunk + j]);
      acc[r][0] = _mm512_fmadd_pd(ar, w0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_pd(ar, w1, acc[r][1]);
      acc[r][2] = _mm512_fmadd_pd(ar, w2, acc[r][2]);
      acc[r][3] = _mm512_fmadd_pd(ar, w3, acc[r][3]);
    }
  }
  const __m512i bias = _mm512_set1_epi64(static_cast<int64_t>(kRnaBias));
  const __m512i keep = _mm512_set1_epi64(static_cast<int64_t>(kBf16KeepMask));
  for (int r = 0; r < R; ++r) {
    for (int q = 0; q < 4; ++q) {
      double* d = dst + r * kPassCols + q * 8;
      const __m512d old_dst = _mm512_load_pd(d);
      const __m512d sum = _mm512_add_pd(old_dst, acc[r][q]);
      __m512i t = _mm512_and_si512(_mm512_add_epi64(_mm512_castpd_si512(sum), bias), keep);
      if constexpr (kChecked) t = FixLanes(t, old_dst, acc[r][q]);
      _mm512_store_pd(d, _mm512_castsi512_pd(t));
    }
  }
}

template <bool kChecked>
void ChunkRows(const double* a, const double* w, double* dst, int rows) {
  int r = 0;
  for (; r + 4 <= rows; r += 4) {
    ChunkKernel<4, kChecked>(a + r * kChunk, w, dst + r * kPassCols);
  }
  const double* a_tail = a + r * kChunk;
  double* dst_tail = dst + r * kPassCols;
  switch (rows - r) {
    case 3:
      ChunkKernel<3, kChecked>(a_tail, w, dst_tail);
      break;
    case 2:
      ChunkKernel<2, kChecked>(a_tail, w, dst_tail);
      break;
    case 1:
      ChunkKernel<1, kChecked>(a_tail, w, dst_tail);
      break;
    default:
      break;
  }
}

// The chunk (tile row kt, half) of every tile of the pass. `checked` turns
// on, for the rest of the pass, once a chunk may leave the normal range.
void ChunkStep(const MatmulArgs& args, int max_sum, int64_t row0, int rows, int64_t nt0, int tiles,
               int64_t kt, int half, bool& checked, Workspace& ws) {
  const bool bfp8 = args.w.format == TileFormat::kBfp8b;
  const int weight_quantum_bits = bfp8 ? 6 : 2;
  const ExponentRange act =
      LoadActivationChunk(args, row0, rows, kt * kTileDim + half * kChunk, ws);
  const ExponentRange wgt = DecodeWeightChunk(args.w, kt, nt0, tiles, half, ws);
  checked = checked || !InRange(act, wgt, weight_quantum_bits, max_sum);
  for (int t = 0; t < tiles; ++t) {
    const double* w = &ws.w[0][t * kTileDim];
    double* dst = &ws.dst[t * kTileDim];
    if (checked) {
      ChunkRows<true>(&ws.a[0][0], w, dst, rows);
    } else {
      ChunkRows<false>(&ws.a[0][0], w, dst, rows);
    }
  }
}

// One pass: rows [row0, row0 + rows) x tile columns [nt0, nt0 + tiles).
void RunPass(const MatmulArgs& args, const LofiBlocking& blocking, int max_sum, int64_t row0,
             int rows, int64_t nt0, int tiles, Workspace& ws) {
  const int64_t block_tiles = args.lofi.in0_block_w;
  const size_t tile_bytes = args.w.format == TileFormat::kBfp8b ? 1088 : 576;
  bool checked = false;
  for (int64_t block_idx = 0; block_idx < blocking.num_blocks; ++block_idx) {
    BeginBlock(blocking, block_idx, rows, ws);
    for (int64_t kt = block_idx * block_tiles; kt < (block_idx + 1) * block_tiles; ++kt) {
      tile_passes::PrefetchTileRow(args.w, kt + tile_passes::kPrefetchTileRows, nt0, tiles,
                                   tile_bytes);
      for (int half = 0; half < 2; ++half) {
        ChunkStep(args, max_sum, row0, rows, nt0, tiles, kt, half, checked, ws);
      }
    }
    EndBlock(blocking, block_idx, rows, checked, ws);
  }
  StoreRows(args, row0, rows, nt0, tiles, ws);
}

}  // namespace
}  // namespace avx512_lofi

void MatmulTtLofiAvx512(const MatmulArgs& args) {
  using namespace avx512_lofi;  // NOLINT(build/namespaces): this file's own helpers
  if (args.m <= 0 || args.nt_begin >= args.nt_end) return;
  const LofiBlocking blocking = MakeLofiBlocking(args);
  const int max_sum = MaxExponentSum(2 * args.w.k_tiles + blocking.num_blocks);
  Workspace ws;
  tile_passes::ForEachPass(args, kPassTiles, kPassRows,
                           [&](int64_t row0, int rows, int64_t nt0, int tiles) {
                             RunPass(args, blocking, max_sum, row0, rows, nt0, tiles, ws);
                           });
}

}  // namespace lmhead
