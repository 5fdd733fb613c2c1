// SPDX-License-Identifier: Apache-2.0
// Spec tests of the LoFi arithmetic: hand-computed values and published hardware data points.
#include "kernels/tt_lofi.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "lmhead/formats.h"

namespace lmhead {
namespace {

float FromBits(uint32_t bits) { return std::bit_cast<float>(bits); }
uint32_t BitsOf(float x) { return std::bit_cast<uint32_t>(x); }
constexpr float kInf = std::numeric_limits<float>::infinity();

// Host bf16 rounding (formats.h) as the kernels rely on it: RNE, ties to even.
TEST(Bf16RoundingTest, HostConversionIsRoundToNearestEven) {
  EXPECT_EQ(Fp32ToBf16(1.0f), 0x3F80);
  EXPECT_EQ(Fp32ToBf16(FromBits(0x3F808000)), 0x3F80);  // 1 + 2^-8: tie, 0x3F80 is even.
  EXPECT_EQ(Fp32ToBf16(FromBits(0x3F818000)), 0x3F82);  // tie, 0x3F81 is odd: up.
  EXPECT_EQ(Fp32ToBf16(FromBits(0x3F808001)), 0x3F81);  // just above the tie.
  EXPECT_EQ(Fp32ToBf16(FromBits(0xBF818000)), 0xBF82);  // negative: magnitude rounds the same.
  EXPECT_EQ(Fp32ToBf16(FromBits(0x7F7FFFFF)), 0x7F80);  // rounds past the max: +inf.
  EXPECT_EQ(Fp32ToBf16(FromBits(0xFFC00001)), 0x7FC0);  // any NaN: the quiet NaN.
}

// RNA keeps 23 - k mantissa bits, ties away from zero (spec §4.5).
TEST(RnaTest, TiesGoAwayFromZeroWhereRneGoesToEven) {
  const float one_plus_2m8 = 1.0f + std::ldexp(1.0f, -8);  // bf16 tie between 1 and 1+2^-7.
  EXPECT_EQ(Rna16(one_plus_2m8), 1.0f + std::ldexp(1.0f, -7));
  EXPECT_EQ(Bf16ToFp32(Fp32ToBf16(one_plus_2m8)), 1.0f);  // RNE: to even.
  EXPECT_EQ(Rna16(-one_plus_2m8), -(1.0f + std::ldexp(1.0f, -7)));
  EXPECT_EQ(Rna16(FromBits(0x3F807FFF)), 1.0f);                  // below the tie: down.
  EXPECT_EQ(Rna16(FromBits(0x3F818000)), FromBits(0x3F820000));  // odd tie: up, as RNE.
  EXPECT_EQ(Rna13(1.0f + std::ldexp(1.0f, -11)), 1.0f + std::ldexp(1.0f, -10));
  EXPECT_EQ(Rna13(FromBits(0x3F800FFF)), 1.0f);
}

TEST(RnaTest, OverflowGivesInfAndSpecialsSurvive) {
  EXPECT_EQ(Rna16(FromBits(0x7F7F7FFF)), FromBits(0x7F7F0000));  // largest finite bf16.
  EXPECT_EQ(Rna16(FromBits(0x7F7F8000)), kInf);                  // tie above it: away = inf.
  EXPECT_EQ(Rna16(FromBits(0xFF7FFFFF)), -kInf);
  EXPECT_EQ(Rna13(FromBits(0x7F7FF000)), kInf);
  EXPECT_EQ(Rna16(kInf), kInf);
  EXPECT_TRUE(std::isnan(Rna16(FromBits(0x7F800001))));  // a low-payload NaN must not become inf.
  EXPECT_TRUE(std::isnan(Rna13(std::numeric_limits<float>::quiet_NaN())));
}

TEST(FlushDenormalTest, ZeroExponentFlushesKeepingTheSign) {
  EXPECT_EQ(BitsOf(FlushDenormal(FromBits(0x00000001))), 0x00000000u);
  EXPECT_EQ(BitsOf(FlushDenormal(FromBits(0x807FFFFF))), 0x80000000u);
  EXPECT_EQ(BitsOf(FlushDenormal(FromBits(0x00800000))), 0x00800000u);  // smallest normal stays.
  EXPECT_EQ(FlushDenormal(-3.5f), -3.5f);
}

// SrcB keeps the hidden 1 and 6 mantissa bits of a bf16 activation (spec §4.3).
TEST(LofiSourceTest, SrcBTruncatesTheLastBf16MantissaBitTowardZero) {
  EXPECT_EQ(LofiSrcB(Bf16ToFp32(0x3F81)), 1.0f);                // 1.0078125 -> 1
  EXPECT_EQ(LofiSrcB(Bf16ToFp32(0xBF81)), -1.0f);               // magnitude truncated, sign kept.
  EXPECT_EQ(LofiSrcB(Bf16ToFp32(0x3F82)), Bf16ToFp32(0x3F82));  // 7 significant bits: exact.
  EXPECT_EQ(LofiSrcB(Bf16ToFp32(0x3FFF)), Bf16ToFp32(0x3FFE));  // 1.9921875 -> 1.984375
  EXPECT_EQ(LofiSrcB(Bf16ToFp32(0x0040)), 0.0f);                // bf16 denormal: flushed.
}

// Every bfloat4_b value has at most 3 significant bits, so the SrcA mask is a
// no-op for all of them (spec §4.3). Values are built from the spec's formula
// (-1)^s * mag * 2^(E-129), not from a decoder.
TEST(LofiSourceTest, SrcAMaskIsANoOpForEveryNormalBfp4Value) {
  int checked = 0;
  for (int exponent = 1; exponent <= 254; ++exponent) {
    for (int mag = 1; mag <= 7; ++mag) {
      for (float sign : {1.0f, -1.0f}) {
        const float value = sign * std::ldexp(static_cast<float>(mag), exponent - 129);
        if (std::fpclassify(value) != FP_NORMAL) continue;  // flushed, checked below.
        ASSERT_EQ(BitsOf(LofiSrcA(value)), BitsOf(value)) << "E=" << exponent << " mag=" << mag;
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 3400);
  EXPECT_EQ(LofiSrcA(std::ldexp(1.0f, -128)), 0.0f);  // E=1, mag=2: an fp32 denormal.
}

TEST(LofiSourceTest, SrcAMaskTruncatesBfp8ToFiveSignificantBits) {
  // bfp8_b magnitude 127 with E=127 is 127 * 2^-6 = 1.984375 (7 significant bits).
  EXPECT_EQ(LofiSrcA(std::ldexp(127.0f, -6)), std::ldexp(124.0f, -6));  // 1.9375
  EXPECT_EQ(LofiSrcA(std::ldexp(-127.0f, -6)), std::ldexp(-124.0f, -6));
}

// tt-metal issue #34664: bf16 FPU additions x + 1 on Wormhole. The inputs are
// bf16 (torch rounds the decimals); TT returned the values below where torch
// (one RNE rounding) returns 1, 1, 1, 1.0078125, 1.015625.
TEST(DstAccumulateTest, ReproducesTheFiveDataPointsOfTtMetalIssue34664) {
  struct Case {
    double input_decimal;  // as written in the issue
    double input_bf16;     // its exact bf16 value
    float tt_result;
    float torch_result;
  };
  const Case cases[] = {
      {0.00341796875, 7 * std::ldexp(1.0, -11), 1.0078125f, 1.0f},
      {0.003448486328, 226 * std::ldexp(1.0, -16), 1.0078125f, 1.0f},
      {0.00373840332, 245 * std::ldexp(1.0, -16), 1.0078125f, 1.0f},
      {0.01129150391, 185 * std::ldexp(1.0, -14), 1.015625f, 1.0078125f},
      {0.01953125, 5 * std::ldexp(1.0, -8), 1.0234375f, 1.015625f},
  };
  for (const Case& c : cases) {
    const float x = Bf16ToFp32(Fp32ToBf16(static_cast<float>(c.input_decimal)));
    ASSERT_EQ(static_cast<double>(x), c.input_bf16) << c.input_decimal;
    EXPECT_EQ(DstAccumulate(1.0f, x), c.tt_result) << c.input_decimal;
    EXPECT_EQ(Bf16ToFp32(Fp32ToBf16(1.0f + x)), c.torch_result) << c.input_decimal;
  }
}

TEST(DstAccumulateTest, DoubleRoundingRoundsUpBelowTheBf16Tie) {
  // S = 1 + 2^-8 - 2^-12 is below the bf16 tie 1 + 2^-8, so one RNA16 gives 1.
  // RNA13 first lands exactly on the tie (3.75 steps of 2^-10 -> 4), and RNA16
  // then goes away from zero: the bias the spec describes (§4.5).
  const double s = 1.0 + std::ldexp(1.0, -8) - std::ldexp(1.0, -12);
  EXPECT_EQ(Rna16(static_cast<float>(s)), 1.0f);
  EXPECT_EQ(DstAccumulate(0.0f, s), 1.0f + std::ldexp(1.0f, -7));
  EXPECT_EQ(DstAccumulate(0.0f, -s), -(1.0f + std::ldexp(1.0f, -7)));
}

TEST(DstAccumulateTest, RoundsFromTheExactSumNotFromAnFp32Sum) {
  // dst + S = 1 + 2^-8 - 2^-11 - 2^-40 is 3.5 - 2^-30 steps of 2^-10 above 1:
  // RNA13 gives 1 + 3 * 2^-10, and RNA16 then 1. Rounding the sum to fp32 first
  // drops the 2^-40, makes RNA13 see an exact tie (-> 1 + 2^-8) and RNA16 a
  // second tie (-> 1 + 2^-7): the model must round the exact value.
  const double chunk = std::ldexp(1.0, -8) - std::ldexp(1.0, -11) - std::ldexp(1.0, -40);
  EXPECT_EQ(DstAccumulate(1.0f, chunk), 1.0f);
  EXPECT_EQ(Rna16(Rna13(static_cast<float>(1.0 + chunk))), 1.0f + std::ldexp(1.0f, -7));
}

TEST(DstAccumulateTest, DenormalsFlushAndOverflowGivesInf) {
  EXPECT_EQ(DstAccumulate(0.0f, std::ldexp(1.0, -130)), 0.0f);
  EXPECT_EQ(DstAccumulate(0.0f, 0.0), 0.0f);
  const float max_bf16 = Bf16ToFp32(0x7F7F);                       // 1.9921875 * 2^127
  EXPECT_EQ(DstAccumulate(max_bf16, std::ldexp(1.0, 120)), kInf);  // exactly 2^128
  EXPECT_EQ(DstAccumulate(-max_bf16, -std::ldexp(1.0, 120)), -kInf);
  EXPECT_EQ(DstAccumulate(max_bf16, std::ldexp(1.0, 118)), max_bf16);  // a quarter step: down.
}

// tt-metal #11954 / spec §4.5: accumulating 1*1 products one at a time in a
// bf16 Dst stalls at 512 under RNA13-then-RNA16, where plain bf16 RNE stalls
// at 256. By hand: from 256 (bf16 step 2) each +1 is a tie that goes up by 2,
// so 512 is reached after 256 + 128 = 384 additions; at 512 (step 4) +1 is a
// quarter step and rounds back down.
TEST(OnesTimesOnesTest, OneProductPerStepStallsAt512) {
  float dst = 0.0f;
  float rne = 0.0f;
  for (int step = 1; step <= 1024; ++step) {
    dst = DstAccumulate(dst, 1.0);
    rne = Bf16ToFp32(Fp32ToBf16(rne + 1.0f));
    if (step == 383) {
      EXPECT_EQ(dst, 510.0f);
    }
    if (step == 384) {
      EXPECT_EQ(dst, 512.0f);
    }
  }
  EXPECT_EQ(dst, 512.0f);
  EXPECT_EQ(rne, 256.0f);
}

// With the hardware's 16-term chunks (spec §4.4) 1024 ones sum to exactly 1024:
// every partial is a multiple of 16 below 2048, where the bf16 step is <= 8.
// The chunk model stalls only at 8192: from 4096 (step 32) each +16 is a tie
// that goes up by 32, reaching 8192 after 256 + 128 = 384 chunks, i.e. 6144
// products; then +16 is a quarter step. K = 6144 therefore gives 8192, the
// value tt-metal #8449 reports for an all-ones matmul "instead of 6144".
// (#11954's 512 for K = 4096 is not a Dst effect in this model: its output,
// and so its spilled partials, were bfloat4_b, where 512 + a block sum below
// 128 truncates back to 512; bfp partials are outside this model's scope.)
TEST(OnesTimesOnesTest, SixteenTermChunksGive1024ThenOvershootTo8192) {
  for (int64_t k : {1024, 6144, 16384}) {
    const std::vector<float> ones(static_cast<size_t>(k), 1.0f);
    const float expected = k == 1024 ? 1024.0f : 8192.0f;
    EXPECT_EQ(LofiDot(ones.data(), ones.data(), 1, k, k / 32, false), expected) << k;
    EXPECT_EQ(LofiDot(ones.data(), ones.data(), 1, k, 1, false), expected) << k;
  }
  // With packer L1 accumulation each 32-term block starts from zero (sum 32)
  // and the packer adds it into an L1 partial, which has the same step sizes.
  const std::vector<float> ones(1024, 1.0f);
  EXPECT_EQ(LofiDot(ones.data(), ones.data(), 1, 1024, 1, true), 1024.0f);
}

TEST(PackerL1Test, Fp32AddThenRnaToBf16) {
  EXPECT_EQ(PackerL1Accumulate(256.0f, 1.0f), 258.0f);  // 257: tie, away.
  EXPECT_EQ(PackerL1Accumulate(256.0f, 0.5f), 256.0f);  // quarter step: down.
  EXPECT_EQ(PackerL1Accumulate(-256.0f, -1.0f), -258.0f);
  EXPECT_EQ(PackerL1Accumulate(1.0f, -1.0f), 0.0f);
}

TEST(LofiBlockingTest, FactoryConditionAndBlockCount) {
  EXPECT_EQ(MakeLofiBlocking(224, 4, true).num_blocks, 56);      // DeepSeek decode (in0_block_w 4)
  EXPECT_TRUE(MakeLofiBlocking(224, 8, true).packer_l1_acc_en);  // prefill: 28 blocks
  EXPECT_FALSE(MakeLofiBlocking(224, 8, false).packer_l1_acc_en);
  EXPECT_FALSE(MakeLofiBlocking(2, 1, true).packer_l1_acc_en);
}

// A constructed case where packer_l1_acc changes the result (spec §4.6).
// K = 4 tiles, in0_block_w = 1: four blocks of 32, weights all 1.
//   block 0: chunk sums 256, 0        block 1: chunk sums 1, 1
//   blocks 2 and 3: zero
// Sequential bf16 Dst: 256 -> 257 is a tie -> 258 -> 259 is a tie -> 260.
// L1 acc: block 1 starts from 0 and sums 2 exactly; L1 = 256 + 2 = 258; blocks
// 2 and 3 add 0; the last block reloads 258. The exact answer is 258.
TEST(LofiDotTest, PackerL1AccumulationChangesTheAssociation) {
  std::vector<float> a(128, 0.0f);
  const std::vector<float> w(128, 1.0f);
  a[0] = 256.0f;
  a[32] = 1.0f;
  a[48] = 1.0f;
  EXPECT_EQ(LofiDot(a.data(), w.data(), 1, 128, 1, false), 260.0f);
  EXPECT_EQ(LofiDot(a.data(), w.data(), 1, 128, 1, true), 258.0f);
  // Two blocks (in0_block_w = 2): block 0 is packed and reloaded, so the
  // result is the sequential one with or without L1 accumulation.
  EXPECT_EQ(LofiDot(a.data(), w.data(), 1, 128, 2, true), 260.0f);
  EXPECT_EQ(LofiDot(a.data(), w.data(), 1, 128, 4, true), 260.0f);
}

// The accumulator API directly: with L1 accumulation forced on for two blocks
// (the DRAM-sharded factory's `num_blocks > 1`), block 0 is packed and the last
// block reloads it, which is the sequential result.
TEST(LofiAccumulatorTest, TwoBlocksWithL1AccumulationAreSequential) {
  const LofiBlocking two_blocks{.num_blocks = 2, .packer_l1_acc_en = true};
  LofiAccumulator acc;
  LofiBeginBlock(two_blocks, 0, acc);
  acc.dst = DstAccumulate(acc.dst, 256.0);
  LofiEndBlock(two_blocks, 0, acc);
  LofiBeginBlock(two_blocks, 1, acc);
  EXPECT_EQ(acc.dst, 256.0f);
  acc.dst = DstAccumulate(acc.dst, 1.0);
  acc.dst = DstAccumulate(acc.dst, 1.0);
  LofiEndBlock(two_blocks, 1, acc);
  EXPECT_EQ(acc.dst, 260.0f);
}

TEST(LofiDotTest, ActivationLsbIsTruncatedBeforeMultiplying) {
  // a = 1.0078125 (bf16 0x3F81) times w = 1, 32 times: LoFi uses 1.0 each time.
  const std::vector<float> a(32, Bf16ToFp32(0x3F81));
  const std::vector<float> w(32, 1.0f);
  EXPECT_EQ(LofiDot(a.data(), w.data(), 1, 32, 1, false), 32.0f);
}

TEST(LofiDotTest, WeightStrideWalksOneColumn) {
  // w is a 32 x 2 row-major matrix; column 1 holds 0.5, column 0 holds 100.
  std::vector<float> w(64);
  for (int k = 0; k < 32; ++k) {
    w[2 * k] = 100.0f;
    w[2 * k + 1] = 0.5f;
  }
  const std::vector<float> a(32, 2.0f);
  EXPECT_EQ(LofiDot(a.data(), w.data() + 1, 2, 32, 1, false), 32.0f);
}

}  // namespace
}  // namespace lmhead
