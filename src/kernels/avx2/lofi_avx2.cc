// SPDX-License-Identifier: Apache-2.0
// tt-lofi matmul with AVX2: the reference's double arithmetic, 4 output columns per register.
//
// Bit-exact with MatmulTtLofiReference (reference.cc, spec §4.8) by doing the
// same floating-point operations in the same order, for 32 columns at once
// (the method of avx512/lofi_avx512.cc, without its fast paths):
//  - each 16-term chunk sum starts at +0.0 and adds a[j] * w[j][n] for j =
//    0..15 in double; every product is exact (at most 7 x 5 significant
//    bits), so one FMA equals the reference's multiply-then-add;
//  - Dst = RNA16(RNA13(dst + S)) on the double bits: adding 2^41 + 2^44 and
//    clearing the bits below 45 is both roundings at once (lofi_avx512.cc
//    shows why). A chunk where some lane's result is not a normal bf16 or
//    zero (denormal, overflow, inf, NaN) is redone by the scalar
//    DstAccumulate;
//  - the K blocks and the packer's L1 accumulation follow LofiBeginBlock and
//    LofiEndBlock (tt_lofi.h), 8 lanes at a time.
// A pass covers up to 32 rows and one tile column, so a decode call decodes
// and reads every weight tile once: per tile the 1024 weights are decoded
// (bfp_decode_avx2.h), given the LoFi SrcA rule and widened to double in L1.
// A bfp4_b tile in the normal range keeps its codes instead, and each row's
// activations take the group scales (LoadCodes): the same products, a
// cheaper decode.
#include <cstdint>
#include <cstring>

#include "kernels/avx2/avx2_kernels.h"
#include "kernels/avx2/bfp_decode_avx2.h"
#include "kernels/tile_passes.h"
#include "kernels/tt_lofi.h"
#include "kernels/x86_intrinsics.h"

namespace lmhead {
namespace avx2_lofi {
namespace {

constexpr int kPassRows = 32;
constexpr uint64_t kRnaBias = (uint64_t{1} << 41) + (uint64_t{1} << 44);
constexpr uint64_t kBf16KeepMask = ~((uint64_t{1} << 45) - 1);

struct Workspace {
  alignas(64) float values[kBfpGroupsPerTile][kFaceDim];  // the decoded tile (DecodeTile)
  // LoFi SrcA weights, [k][n]; for a `scaled` tile its codes, with each tile
  // row's group scales in scale[column half][k].
  alignas(64) double w[kTileDim][kTileDim];
  alignas(64) double scale[2][kTileDim];
  bool scaled = false;
  // One row's SrcB activations of the chunk, per column half (times scale).
  alignas(64) double a[2][kLofiChunk];
  alignas(64) float dst[kPassRows][kTileDim];  // Dst, bf16 values
  alignas(64) float l1[kPassRows][kTileDim];   // packer L1 partials
};

// LofiSrcA and LofiSrcB (tt_lofi.h) on 8 fp32 patterns: denormals flushed
// (sign kept), then the bits of `mask` kept.
inline __m256i LofiOperands(__m256i bits, uint32_t mask) {
  const __m256i denormal = _mm256_cmpeq_epi32(_mm256_and_si256(bits, _mm256_set1_epi32(0x7F800000)),
                                              _mm256_setzero_si256());
  const __m256i kept = _mm256_and_si256(bits, _mm256_set1_epi32(static_cast<int>(mask)));
  const __m256i sign = _mm256_and_si256(bits, _mm256_set1_epi32(static_cast<int>(0x80000000u)));
  return _mm256_blendv_epi8(kept, sign, denormal);
}

// A bfp4_b tile in the normal range as codes and scales: ws.w[k][n] = the
// code (a small integer, exact in SrcA: 3 significant bits of the 5 it keeps)
// and ws.scale[h][k] = 2^(E - 129) of tile row k, column half h. Then a *
// scale * code is the product a * w exactly, so every FMA gives the same bits.
void LoadCodes(const uint8_t* tile, Workspace& ws) {
  for (int g = 0; g < kBfpGroupsPerTile; g += 2) {
    __m128i codes[2];
    avx2_decode::GroupCodePair(TileFormat::kBfp4b, tile + kBfpGroupsPerTile, g, codes);
    for (int j = 0; j < 2; ++j) {
      // Group g + j is tile row ((g + j) / 32) * 16 + (g + j) % 16, columns
      // (((g + j) / 16) % 2) * 16 + i.
      const int group = g + j;
      double* row =
          &ws.w[(group / 32) * kFaceDim + group % kFaceDim][((group / kFaceDim) % 2) * kFaceDim];
      _mm256_store_pd(row, _mm256_cvtepi32_pd(_mm_cvtepi8_epi32(codes[j])));
      _mm256_store_pd(row + 4, _mm256_cvtepi32_pd(_mm_cvtepi8_epi32(_mm_srli_si128(codes[j], 4))));
      _mm256_store_pd(row + 8, _mm256_cvtepi32_pd(_mm_cvtepi8_epi32(_mm_srli_si128(codes[j], 8))));
      _mm256_store_pd(row + 12,
                      _mm256_cvtepi32_pd(_mm_cvtepi8_epi32(_mm_srli_si128(codes[j], 12))));
    }
  }
  for (int h = 0; h < 2; ++h) {
    for (int k = 0; k < kTileDim; k += 4) {
      // Tile row k of half h is group (k / 16) * 32 + 16 h + k % 16.
      int32_t bytes;
      std::memcpy(&bytes, tile + (k / kFaceDim) * 32 + kFaceDim * h + k % kFaceDim, sizeof(bytes));
      const __m256i e = _mm256_cvtepu8_epi64(_mm_cvtsi32_si128(bytes));
      _mm256_store_pd(&ws.scale[h][k],
                      _mm256_castsi256_pd(_mm256_slli_epi64(
                          _mm256_add_epi64(e, _mm256_set1_epi64x(1023 - 129)), 52)));
    }
  }
}

// ws.w = the LoFi SrcA weights of tile (kt, nt), as doubles in [k][n] order,
// or (ws.scaled) the codes and scales of LoadCodes.
void LoadWeights(const MatmulArgs& args, int64_t kt, int64_t nt, Workspace& ws) {
  const uint8_t* tile = args.w.tiles + static_cast<size_t>(kt * args.w.n_tiles + nt) *
                                           avx2_decode::BfpTileBytes(args.w.format);
  ws.scaled = args.w.format == TileFormat::kBfp4b && avx2_decode::TileInRange(args.w.format, tile);
  if (ws.scaled) {
    LoadCodes(tile, ws);
    return;
  }
  avx2_decode::DecodeTile(args.w.format, tile, ws.values);
  for (int g = 0; g < kBfpGroupsPerTile; ++g) {
    // Group g is tile row (g / 32) * 16 + g % 16, columns ((g / 16) % 2) * 16 + i.
    double* row = &ws.w[(g / 32) * kFaceDim + g % kFaceDim][((g / kFaceDim) % 2) * kFaceDim];
    for (int i = 0; i < kFaceDim; i += 8) {
      const __m256 v = _mm256_castsi256_ps(
          LofiOperands(_mm256_castps_si256(_mm256_load_ps(&ws.values[g][i])), kLofiSrcAMask));
      _mm256_store_pd(row + i, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
      _mm256_store_pd(row + i + 4, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
    }
  }
}

// ws.a[0] = LofiSrcB of row `row`'s activations k0 .. k0 + 15 (tile-local
// k0 = k_tile), zero from args.k; for a scaled tile, ws.a[h] = that times
// ws.scale[h] (exact in double).
void LoadActivations(const MatmulArgs& args, int64_t row, int64_t k0, int k_tile, Workspace& ws) {
  const uint16_t* x = args.x + row * args.x_stride + k0;
  uint16_t padded[kLofiChunk] = {};
  if (args.k - k0 < kLofiChunk) {
    if (args.k > k0) std::memcpy(padded, x, static_cast<size_t>(args.k - k0) * sizeof(uint16_t));
    x = padded;
  }
  for (int j = 0; j < kLofiChunk; j += 8) {
    const __m256i bits = _mm256_slli_epi32(
        _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + j))), 16);
    const __m256 v = _mm256_castsi256_ps(LofiOperands(bits, kLofiSrcBMask));
    const __m256d a[2] = {_mm256_cvtps_pd(_mm256_castps256_ps128(v)),
                          _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1))};
    for (int i = 0; i < 2; ++i) {
      if (!ws.scaled) {
        _mm256_store_pd(&ws.a[0][j + 4 * i], a[i]);
        continue;
      }
      for (int h = 0; h < 2; ++h) {
        _mm256_store_pd(&ws.a[h][j + 4 * i],
                        _mm256_mul_pd(a[i], _mm256_load_pd(&ws.scale[h][k_tile + j + 4 * i])));
      }
    }
  }
}

// One MVMUL chunk (tile rows k0 .. k0 + 15 of ws.w) for one row: the 32
// columns' sums in k order, then Dst = DstAccumulate(dst, sum) for each.
void ChunkRow(const Workspace& ws, int k0, float* dst) {
  __m256d sums[8];
  for (int v = 0; v < 8; ++v) sums[v] = _mm256_setzero_pd();
  const double* a_right = ws.scaled ? ws.a[1] : ws.a[0];  // columns 16-31
#pragma GCC unroll 16
  for (int j = 0; j < kLofiChunk; ++j) {
    const __m256d a[2] = {_mm256_broadcast_sd(ws.a[0] + j), _mm256_broadcast_sd(a_right + j)};
    for (int v = 0; v < 8; ++v) {
      sums[v] = _mm256_fmadd_pd(a[v / 4], _mm256_load_pd(&ws.w[k0 + j][4 * v]), sums[v]);
    }
  }
  // RNA16(RNA13(dst + S)) on the double bits, narrowed to fp32: exact for
  // normal bf16 values and zero. If a lane narrows to a denormal, inf or NaN,
  // the whole row of the chunk takes the scalar rule.
  __m256 rounded[4];
  __m256i bad = _mm256_setzero_si256();
  for (int v = 0; v < 8; v += 2) {
    __m128 narrow[2];
    for (int i = 0; i < 2; ++i) {
      const __m256d old = _mm256_cvtps_pd(_mm_load_ps(dst + 4 * (v + i)));
      const __m256i t =
          _mm256_and_si256(_mm256_add_epi64(_mm256_castpd_si256(_mm256_add_pd(old, sums[v + i])),
                                            _mm256_set1_epi64x(static_cast<int64_t>(kRnaBias))),
                           _mm256_set1_epi64x(static_cast<int64_t>(kBf16KeepMask)));
      narrow[i] = _mm256_cvtpd_ps(_mm256_castsi256_pd(t));
    }
    const __m256i f = _mm256_castps_si256(_mm256_set_m128(narrow[1], narrow[0]));
    const __m256i e = _mm256_and_si256(f, _mm256_set1_epi32(0x7F800000));
    const __m256i magnitude = _mm256_and_si256(f, _mm256_set1_epi32(0x7FFFFFFF));
    const __m256i not_finite = _mm256_cmpeq_epi32(e, _mm256_set1_epi32(0x7F800000));
    const __m256i denormal =
        _mm256_andnot_si256(_mm256_cmpeq_epi32(magnitude, _mm256_setzero_si256()),
                            _mm256_cmpeq_epi32(e, _mm256_setzero_si256()));
    bad = _mm256_or_si256(bad, _mm256_or_si256(not_finite, denormal));
    rounded[v / 2] = _mm256_castsi256_ps(f);
  }
  if (_mm256_testz_si256(bad, bad) == 0) {
    // Rare: redo every lane with the scalar rule (exactly what the fast lanes
    // computed, for those).
    alignas(32) double sum[kTileDim];
    for (int v = 0; v < 8; ++v) _mm256_store_pd(sum + 4 * v, sums[v]);
    for (int n = 0; n < kTileDim; ++n) dst[n] = DstAccumulate(dst[n], sum[n]);
    return;
  }
  for (int v = 0; v < 4; ++v) _mm256_store_ps(dst + 8 * v, rounded[v]);
}

// LofiBeginBlock (tt_lofi.h) for every element of the pass: block 0 starts
// from zero; with packer L1 accumulation the middle blocks start from zero
// and the last from the L1 partial. Without it Dst carries over.
void BeginBlock(const LofiBlocking& blocking, int64_t block_idx, int rows, Workspace& ws) {
  const size_t bytes = sizeof(ws.dst[0]) * static_cast<size_t>(rows);
  if (block_idx == 0) {
    std::memset(ws.dst, 0, bytes);
    std::memset(ws.l1, 0, bytes);
  } else if (blocking.packer_l1_acc_en) {
    if (block_idx == blocking.num_blocks - 1) {
      std::memcpy(ws.dst, ws.l1, bytes);
    } else {
      std::memset(ws.dst, 0, bytes);
    }
  }
}

// LofiEndBlock for every element: with packer L1 accumulation, block 0 is
// packed to L1 as is, blocks 1 .. B-2 are added by the packer
// (PackerL1Accumulate: fp32 add, RNA to bf16, denormals flushed). Both inputs
// are bf16 values, so the RNA add and mask keeps inf as inf and NaN as NaN
// (a payload's low 16 bits are zero); a rounding overflow carries into inf.
void EndBlock(const LofiBlocking& blocking, int64_t block_idx, int rows, Workspace& ws) {
  if (!blocking.packer_l1_acc_en || block_idx == blocking.num_blocks - 1) return;
  if (block_idx == 0) {
    std::memcpy(ws.l1, ws.dst, sizeof(ws.dst[0]) * static_cast<size_t>(rows));
    return;
  }
  const __m256i exponent = _mm256_set1_epi32(0x7F800000);
  for (int r = 0; r < rows; ++r) {
    for (int n = 0; n < kTileDim; n += 8) {
      const __m256i sum = _mm256_castps_si256(
          _mm256_add_ps(_mm256_load_ps(&ws.l1[r][n]), _mm256_load_ps(&ws.dst[r][n])));
      const __m256i rounded = _mm256_and_si256(_mm256_add_epi32(sum, _mm256_set1_epi32(0x8000)),
                                               _mm256_set1_epi32(static_cast<int>(0xFFFF0000u)));
      const __m256i denormal =
          _mm256_cmpeq_epi32(_mm256_and_si256(rounded, exponent), _mm256_setzero_si256());
      const __m256i flushed = _mm256_blendv_epi8(
          rounded, _mm256_and_si256(rounded, _mm256_set1_epi32(static_cast<int>(0x80000000u))),
          denormal);
      _mm256_store_si256(reinterpret_cast<__m256i*>(&ws.l1[r][n]), flushed);
    }
  }
}

void RunPass(const MatmulArgs& args, const LofiBlocking& blocking, int64_t row0, int rows,
             int64_t nt, Workspace& ws) {
  const int64_t block_tiles = args.lofi.in0_block_w;
  for (int64_t block_idx = 0; block_idx < blocking.num_blocks; ++block_idx) {
    BeginBlock(blocking, block_idx, rows, ws);
    for (int64_t kt = block_idx * block_tiles; kt < (block_idx + 1) * block_tiles; ++kt) {
      tile_passes::PrefetchTileRow(args.w, kt + tile_passes::kPrefetchTileRows, nt, 1,
                                   static_cast<size_t>(avx2_decode::BfpTileBytes(args.w.format)));
      LoadWeights(args, kt, nt, ws);
      // Two MVMUL chunks per tile: tile-local k in [0, 16), then [16, 32) (spec §4.4).
      for (int k0 = 0; k0 < kTileDim; k0 += kLofiChunk) {
        for (int r = 0; r < rows; ++r) {
          LoadActivations(args, row0 + r, kt * kTileDim + k0, k0, ws);
          ChunkRow(ws, k0, ws.dst[r]);
        }
      }
    }
    EndBlock(blocking, block_idx, rows, ws);
  }
  const int64_t n = nt * kTileDim;
  const int64_t cols = args.n_cols - n < kTileDim ? args.n_cols - n : kTileDim;
  for (int r = 0; r < rows; ++r) {
    if (cols > 0) {
      std::memcpy(args.y + (row0 + r) * args.y_stride + n, ws.dst[r],
                  static_cast<size_t>(cols) * sizeof(float));
    }
  }
}

}  // namespace
}  // namespace avx2_lofi

void MatmulTtLofiAvx2(const MatmulArgs& args) {
  using namespace avx2_lofi;  // NOLINT(build/namespaces): this file's own helpers
  if (args.m <= 0 || args.nt_begin >= args.nt_end) return;
  const LofiBlocking blocking = MakeLofiBlocking(args);
  Workspace ws;
  tile_passes::ForEachPass(args, 1, kPassRows, [&](int64_t row0, int rows, int64_t nt, int) {
    RunPass(args, blocking, row0, rows, nt, ws);
  });
}

}  // namespace lmhead
