// SPDX-License-Identifier: Apache-2.0
// The AMX kernels' decode, layout and blocking, run on emulated tiles against the reference.
//
// The tile instructions themselves only run on AMX machines (kernels_test.cc
// covers the registered "matmul/bfp4b/fp32/amx" set there); everything around
// them is the same code here (amx_emulated.h).
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <utility>
#include <vector>

#include "kernels/amx/amx_emulated.h"
#include "kernels/cpu_features.h"
#include "kernels/kernel_test_util.h"
#include "kernels/kernels.h"
#include "kernels/test_weights.h"
#include "lmhead/formats.h"

namespace lmhead {
namespace {

using kernel_test::Case;

void Gemv(const MatmulArgs& args) { EXPECT_TRUE(amx_test::EmulatedGemvBfp4(args)); }
void Gemm(const MatmulArgs& args) { EXPECT_TRUE(amx_test::EmulatedGemmBfp4(args)); }

class AmxEmulationTest : public testing::Test {
 protected:
  void SetUp() override {
    if (!DetectCpuFeatures().Has(kCpuAvx512)) GTEST_SKIP() << "the decode needs AVX-512";
  }
};

// Every weight lands, exactly, at B row k / 2, word 2 n + k % 2 of its half.
TEST_F(AmxEmulationTest, DecodePutsEveryWeightAtItsVnniPosition) {
  std::mt19937 rng(3);
  TestWeights w(TileFormat::kBfp4b, 1, 1);
  w.FillRandom(rng, 3, 254);
  uint16_t left[16 * 32], right[16 * 32];
  ASSERT_TRUE(amx_test::DecodeBfp4ToVnni(w.bytes().data(), left, right));
  for (int64_t k = 0; k < kTileDim; ++k) {
    for (int64_t n = 0; n < kTileDim; ++n) {
      const uint16_t* half = n < 16 ? left : right;
      const uint16_t bits = half[(k / 2) * 32 + 2 * (n % 16) + k % 2];
      ASSERT_EQ(static_cast<double>(Bf16ToFp32(bits)), w.Value(k, n)) << "k " << k << " n " << n;
    }
  }
}

TEST_F(AmxEmulationTest, DecodeRefusesValuesOutsideTheNormalRange) {
  for (int exponent : {0, 2, 255}) {
    TestWeights w(TileFormat::kBfp4b, 1, 1);
    for (int64_t k = 0; k < kTileDim; ++k) {
      for (int64_t n = 0; n < kTileDim; n += kFaceDim) w.SetExponent(k, n, 127);
    }
    w.SetExponent(17, 20, static_cast<uint8_t>(exponent));
    uint16_t left[16 * 32], right[16 * 32];
    EXPECT_FALSE(amx_test::DecodeBfp4ToVnni(w.bytes().data(), left, right))
        << "exponent " << exponent;
  }
}

// Decode: every m from 1 to 32 (one or two A tiles, padded rows), K = 200
// (the last A tile padded past k), several N ranges, n_cols cutting a tile.
TEST_F(AmxEmulationTest, GemvMatchesReference) {
  std::mt19937 rng(41);
  TestWeights w(TileFormat::kBfp4b, 7, 5);
  w.FillRandom(rng, 118, 134);
  const int64_t k = 200, x_stride = 205;
  const std::vector<uint16_t> x = RandomBf16(rng, 32, k, x_stride, 110, 134);
  const int64_t ranges[][2] = {{0, 5}, {1, 4}, {4, 5}, {2, 2}};
  for (int64_t m = 1; m <= 32; ++m) {
    for (const auto& range : ranges) {
      kernel_test::ExpectMatchesReference("emulated amx gemv", Numerics::kFp32, Gemv,
                                          {&w, &x, m, k, x_stride, range[0], range[1], 147, {}});
    }
  }
}

// Prefill: row blocks of 32 with a last one of <= 16 rows, more than one
// kGemmRows block, and K in two blocks (10 tiles, the last partly past k).
TEST_F(AmxEmulationTest, GemmMatchesReference) {
  std::mt19937 rng(43);
  TestWeights w(TileFormat::kBfp4b, 10, 3);
  w.FillRandom(rng, 118, 134);
  const int64_t k = 300;
  const std::vector<uint16_t> x = RandomBf16(rng, 300, k, k, 110, 134);
  for (int64_t m : {33, 50, 64, 257, 300}) {
    for (const auto& range : {std::pair<int64_t, int64_t>{0, 3}, {1, 2}}) {
      kernel_test::ExpectMatchesReference("emulated amx gemm", Numerics::kFp32, Gemm,
                                          {&w, &x, m, k, k, range.first, range.second, 87, {}});
    }
  }
}

TEST_F(AmxEmulationTest, KernelsHandBackTilesOutsideTheNormalRange) {
  std::mt19937 rng(47);
  TestWeights w(TileFormat::kBfp4b, 2, 2);
  w.FillRandom(rng, 120, 130);
  w.SetExponent(40, 40, 2);  // tile (1, 1)
  const std::vector<uint16_t> x = RandomBf16(rng, 40, 64, 64, 120, 130);
  std::vector<float> y(40 * 64);
  MatmulArgs args{.x = x.data(),
                  .x_stride = 64,
                  .m = 8,
                  .k = 64,
                  .w = w.View(),
                  .nt_begin = 0,
                  .nt_end = 2,
                  .y = y.data(),
                  .y_stride = 64,
                  .n_cols = 64,
                  .lofi = {}};
  EXPECT_FALSE(amx_test::EmulatedGemvBfp4(args));
  args.m = 40;
  EXPECT_FALSE(amx_test::EmulatedGemmBfp4(args));
}

}  // namespace
}  // namespace lmhead
