// SPDX-License-Identifier: Apache-2.0
// The LoFi matmul arithmetic of shared/spec/tt-numerics.md §4, one rule per function.
#include "kernels/tt_lofi.h"

#include <bit>
#include <cmath>
#include <limits>

#include "base/check.h"

namespace lmhead {
namespace {

constexpr uint32_t kFp32SignMask = 0x80000000u;
constexpr uint32_t kFp32ExponentMask = 0x7F800000u;
constexpr uint32_t kFp32MantissaMask = 0x007FFFFFu;
constexpr uint32_t kFp32QuietNan = 0x7FC00000u;
constexpr uint64_t kFp64ExponentMask = 0x7FF0000000000000ull;
constexpr int kFp64MantissaBits = 52;
constexpr int kFp32MantissaBits = 23;

bool IsNanBits(uint32_t bits) {
  return (bits & kFp32ExponentMask) == kFp32ExponentMask && (bits & kFp32MantissaMask) != 0;
}

// Round a finite double to nearest, ties away from zero, keeping `kept_bits`
// mantissa bits. Sign-magnitude: adding half a step to the magnitude and
// truncating rounds ties away from zero; a carry out of the mantissa bumps the
// exponent, which is exactly the rounded value.
double RoundDoubleRna(double x, int kept_bits) {
  const int dropped = kFp64MantissaBits - kept_bits;
  uint64_t bits = std::bit_cast<uint64_t>(x);
  bits += uint64_t{1} << (dropped - 1);
  bits &= ~((uint64_t{1} << dropped) - 1);
  return std::bit_cast<double>(bits);
}

// A double holding at most 10 significant bits as fp32: exact inside the fp32
// range, +-inf above it (explicit, since an out-of-range conversion is UB),
// flushed to zero below the normal range.
float NarrowToFp32(double x) {
  if (std::fabs(x) > static_cast<double>(std::numeric_limits<float>::max())) {
    return std::copysign(std::numeric_limits<float>::infinity(), static_cast<float>(x));
  }
  return FlushDenormal(static_cast<float>(x));
}

}  // namespace

float RoundFp32Rna(float x, int dropped_bits) {
  LMHEAD_DCHECK(dropped_bits > 0 && dropped_bits < kFp32MantissaBits, "dropped_bits={}",
                dropped_bits);
  uint32_t bits = std::bit_cast<uint32_t>(x);
  if ((bits & kFp32ExponentMask) == kFp32ExponentMask) {
    return IsNanBits(bits) ? std::bit_cast<float>(kFp32QuietNan | (bits & kFp32SignMask)) : x;
  }
  // Same sign-magnitude trick as RoundDoubleRna; 0x7F7FF000 + 0x1000 carries
  // into the exponent and gives 0x7F800000, i.e. overflow to inf.
  bits += uint32_t{1} << (dropped_bits - 1);
  bits &= ~((uint32_t{1} << dropped_bits) - 1);
  return std::bit_cast<float>(bits);
}

float DstAccumulate(float dst, double chunk_sum) {
  const double sum = static_cast<double>(dst) + chunk_sum;
  if ((std::bit_cast<uint64_t>(sum) & kFp64ExponentMask) == kFp64ExponentMask) {
    return static_cast<float>(sum);  // inf or NaN in, inf or NaN out.
  }
  // RNA13 then RNA16 on the fp32 mantissa: keep 10, then 7 explicit bits.
  const double tf32 = RoundDoubleRna(sum, kFp32MantissaBits - kTf32DroppedBits);
  const double bf16 = RoundDoubleRna(tf32, kFp32MantissaBits - kBf16DroppedBits);
  return NarrowToFp32(bf16);
}

float PackerL1Accumulate(float l1, float dst) { return FlushDenormal(Rna16(l1 + dst)); }

LofiBlocking MakeLofiBlocking(int64_t k_tiles, int64_t in0_block_w, bool packer_l1_acc) {
  LMHEAD_DCHECK(in0_block_w > 0 && k_tiles % in0_block_w == 0, "Kt={} in0_block_w={}", k_tiles,
                in0_block_w);
  LofiBlocking blocking;
  blocking.num_blocks = k_tiles / in0_block_w;
  blocking.packer_l1_acc_en = packer_l1_acc && blocking.num_blocks > 2;
  return blocking;
}

LofiBlocking MakeLofiBlocking(const MatmulArgs& args) {
  return MakeLofiBlocking(args.w.k_tiles, args.lofi.in0_block_w, args.lofi.packer_l1_acc);
}

void LofiBeginBlock(const LofiBlocking& blocking, int64_t block_idx, LofiAccumulator& acc) {
  if (block_idx == 0) {
    acc = LofiAccumulator{};
  } else if (blocking.packer_l1_acc_en) {
    const bool last = block_idx == blocking.num_blocks - 1;
    acc.dst = last ? acc.l1 : 0.0f;
  }
}

void LofiEndBlock(const LofiBlocking& blocking, int64_t block_idx, LofiAccumulator& acc) {
  if (!blocking.packer_l1_acc_en || block_idx == blocking.num_blocks - 1) return;
  acc.l1 = block_idx == 0 ? acc.dst : PackerL1Accumulate(acc.l1, acc.dst);
}

float LofiDot(const float* a, const float* w, int64_t w_stride, int64_t k_len, int64_t in0_block_w,
              bool packer_l1_acc) {
  constexpr int64_t kTile = 32;
  LMHEAD_CHECK(k_len % kTile == 0, "k_len={} is not whole tiles", k_len);
  const LofiBlocking blocking = MakeLofiBlocking(k_len / kTile, in0_block_w, packer_l1_acc);
  const int64_t block_len = in0_block_w * kTile;
  LofiAccumulator acc;
  for (int64_t block_idx = 0; block_idx < blocking.num_blocks; ++block_idx) {
    LofiBeginBlock(blocking, block_idx, acc);
    // Chunks of 16 consecutive k in increasing order (spec §4.4).
    for (int64_t k0 = block_idx * block_len; k0 < (block_idx + 1) * block_len; k0 += kLofiChunk) {
      double chunk_sum = 0.0;
      for (int64_t k = k0; k < k0 + kLofiChunk; ++k) {
        chunk_sum += static_cast<double>(LofiSrcB(a[k])) * LofiSrcA(w[k * w_stride]);
      }
      acc.dst = DstAccumulate(acc.dst, chunk_sum);
    }
    LofiEndBlock(blocking, block_idx, acc);
  }
  return acc.dst;
}

}  // namespace lmhead
