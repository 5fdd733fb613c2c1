// SPDX-License-Identifier: Apache-2.0
// The arithmetic of a Tensix LoFi matmul (bf16 x bfp weights, bf16 Dst), written once.
//
// Every function here restates one rule of shared/spec/tt-numerics.md (cited as
// "spec §x.y"). reference.cc composes them into the tt-lofi kernel; the tests in
// tt_lofi_test.cc check each rule against hand-computed values and the
// published hardware data points.
//
// Design goals: readable, bit-exact with the spec's model, no hidden state.
// Non-goals: speed (fast kernels reimplement these with SIMD and are tested
// against reference.cc), fp32_dest_acc_en=true (the DeepSeek-V3 LM head runs
// COMPUTE_KERNEL_CONFIG_LOFI, which has fp32_dest_acc_en=false), bfp8_b output.
#ifndef LMHEAD_KERNELS_TT_LOFI_H_
#define LMHEAD_KERNELS_TT_LOFI_H_

#include <bit>
#include <cstdint>

#include "base/check.h"
#include "kernels/kernels.h"

namespace lmhead {

// Significant bits a LoFi MVMUL reads from each source register, as fp32 masks
// (spec §4.3): SrcA (in1, the weights) keeps sign, exponent, hidden 1 and the
// top 4 mantissa bits; SrcB (in0, the activations) the top 6.
inline constexpr uint32_t kLofiSrcAMask = 0xFFF80000u;
inline constexpr uint32_t kLofiSrcBMask = 0xFFFE0000u;

// Mantissa bits dropped from an fp32 pattern by TF32 (10 kept) and BF16 (7 kept).
inline constexpr int kTf32DroppedBits = 13;
inline constexpr int kBf16DroppedBits = 16;

// One MVMUL adds a 16-term dot-product chunk into Dst (spec §4.4).
inline constexpr int kLofiChunk = 16;

// The bf16 activations themselves come from formats.h's Fp32ToBf16 (round to
// nearest even, torch semantics): the host-side conversion the model hands over.

// Round an fp32 value to nearest, ties away from zero, keeping 23 - dropped_bits
// mantissa bits (spec §4.5 "RNAk"). Overflow past the largest finite value of
// the narrowed format gives +-inf, as the carry ripples into an all-ones
// exponent; inf stays inf, NaN stays a quiet NaN. 0 < dropped_bits < 23.
float RoundFp32Rna(float x, int dropped_bits);
inline float Rna13(float x) { return RoundFp32Rna(x, kTf32DroppedBits); }
inline float Rna16(float x) { return RoundFp32Rna(x, kBf16DroppedBits); }

// The FPU flushes values with a zero exponent field to zero (spec §3.3, §4.5).
// The sign is kept: only the mantissa of a denormal is cleared.
inline float FlushDenormal(float x) {
  const uint32_t bits = std::bit_cast<uint32_t>(x);
  return (bits & 0x7F800000u) == 0 ? std::bit_cast<float>(bits & 0x80000000u) : x;
}

// What a LoFi MVMUL uses of a bf16 activation in SrcB (spec §4.3, §4.8):
// denormals flushed, then the last mantissa bit truncated toward zero
// (bits & 0xFFFE0000). Precondition: x is bf16-valued (low 16 bits zero).
inline float LofiSrcB(float x) {
  LMHEAD_DCHECK((std::bit_cast<uint32_t>(x) & 0xFFFFu) == 0, "activation {} is not bf16", x);
  return std::bit_cast<float>(std::bit_cast<uint32_t>(FlushDenormal(x)) & kLofiSrcBMask);
}

// What a LoFi MVMUL uses of a weight in SrcA (spec §4.3): denormals flushed,
// then bits & 0xFFF80000. A no-op for every bfloat4_b value (at most 3
// significant bits); truncates bfloat8_b values to 5 significant bits.
inline float LofiSrcA(float w) {
  return std::bit_cast<float>(std::bit_cast<uint32_t>(FlushDenormal(w)) & kLofiSrcAMask);
}

// One MVMUL contribution to a bf16 Dst with fp32_dest_acc_en=false (spec §4.5):
//   dst = RNA16(RNA13(dst + chunk_sum)), denormal results flushed.
// The rounding starts from the double value dst + chunk_sum, so no extra
// rounding to fp32 happens in between. The caller's double sum of the 16
// products (each of at most 7 x 5 = 12 significant bits) plus dst is exact
// whenever the largest non-zero term is below 2^24 times the smallest, which
// holds for real hidden states and weights; otherwise it carries one double
// rounding (relative 2^-53), far below the TF32 step. The spec marks the
// hardware's own width for this sum UNCERTAIN (§4.5).
// Results beyond the bf16 range become +-inf (the Tensix has no IEEE inf; its
// largest-exponent pattern plays that role, spec §4.5).
float DstAccumulate(float dst, double chunk_sum);

// The packer's L1 accumulation of a bf16 Dst into a Float16_b partial
// (packer_l1_acc, spec §4.6): modelled as an fp32 add (round to nearest even)
// followed by RNA conversion to bf16; the spec marks the adder's rounding
// UNCERTAIN. Both inputs are bf16-valued.
float PackerL1Accumulate(float l1, float dst);

// How the K loop of the compute kernel is split (spec §4.6): num_blocks =
// Kt / in0_block_w blocks, and whether the packer accumulates partials in L1
// between them. Both matmul factories the LM head uses run the same compute
// kernel, ttnn/.../kernels/compute/bmm_large_block_zm_fused_bias_activation.cpp
// (read @ 01647ce5): without bias, block 0 packs with l1_acc off, blocks
// 1 .. B-2 start from a cleared Dst and pack with l1_acc on, and
// only after block B-2 is the reload enabled, so the last block starts from
// the L1 partial.
struct LofiBlocking {
  int64_t num_blocks = 1;
  // The program factory's packer_l1_acc_en. The factories differ: the
  // DRAM-sharded one (decode; factory/matmul_multicore_reuse_mcast_dram_sharded_
  // program_factory.cpp @ 01502698) enables it for `num_blocks > 1`, the 2D
  // multicast one (prefill) for `num_blocks > 2`. With a bf16 Dst and bf16
  // output the difference never shows: for num_blocks <= 2 block 0 is packed
  // and the last block reloads it losslessly, which is the sequential result
  // either way. MakeLofiBlocking uses `> 2`.
  bool packer_l1_acc_en = false;
};

// LofiBlocking for Kt tiles of K split into blocks of in0_block_w tiles, with
// the compute config's packer_l1_acc. Precondition: in0_block_w divides Kt
// (TTNN validates Kt % in0_block_w == 0).
LofiBlocking MakeLofiBlocking(int64_t k_tiles, int64_t in0_block_w, bool packer_l1_acc);

// MakeLofiBlocking for a kernel call: its weights' Kt and its LoFi options.
LofiBlocking MakeLofiBlocking(const MatmulArgs& args);

// The state of one output element through the K loop: the bf16 Dst register
// and, with packer L1 accumulation, the bf16 partial held in L1 (mm_partials).
// Thread-compatible plain data.
struct LofiAccumulator {
  float dst = 0.0f;
  float l1 = 0.0f;
};

// Called before the first chunk of K block `block_idx` (0-based), in order.
// Without L1 accumulation Dst simply carries over (a spill to a bf16 interm0
// and a reload is lossless). With it: blocks 0 .. B-2 start from a zeroed Dst
// and the last block starts from the L1 partial (reload).
void LofiBeginBlock(const LofiBlocking& blocking, int64_t block_idx, LofiAccumulator& acc);

// Called after the last chunk of K block `block_idx`. With L1 accumulation:
// block 0 is packed to L1 as is, blocks 1 .. B-2 are added into L1 by the
// packer; the last block's Dst is the output. Otherwise nothing happens.
void LofiEndBlock(const LofiBlocking& blocking, int64_t block_idx, LofiAccumulator& acc);

// The whole spec §4.8 recipe for one output element, straight from vectors:
// a[k] are bf16-valued activations, w[k * w_stride] the exactly decoded weights
// of one output column, k_len a multiple of 32 (whole tiles; pad with zeros).
// Returns the bf16-valued output. The reference kernel computes the same thing
// tile by tile; this form exists for hand-checked cases and as the readable
// statement of the recipe.
float LofiDot(const float* a, const float* w, int64_t w_stride, int64_t k_len, int64_t in0_block_w,
              bool packer_l1_acc);

}  // namespace lmhead

#endif  // LMHEAD_KERNELS_TT_LOFI_H_
