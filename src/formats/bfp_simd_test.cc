// SPDX-License-Identifier: Apache-2.0
// The SIMD fast path equals the scalar specification bit for bit on every compiled target.
#include "formats/bfp_simd.h"

#include <gtest/gtest.h>

#include <bit>
#include <cstring>
#include <random>
#include <vector>

#include "formats/tile.h"
#include "hwy/targets.h"
#include "lmhead/formats.h"

namespace lmhead {
namespace {

constexpr TileFormat kAllFormats[] = {TileFormat::kBfp4b, TileFormat::kBfp8b, TileFormat::kBf16,
                                      TileFormat::kFp32};

// Mostly uniform random bit patterns (every NaN payload, Inf, denormal and sign),
// plus groups of gaussians at one scale, where rounding decisions matter.
std::vector<uint32_t> RandomBits(size_t count, std::mt19937& rng) {
  std::vector<uint32_t> bits(count);
  std::normal_distribution<float> gauss;
  std::uniform_int_distribution<int> scale(-140, 120);
  for (size_t group = 0; group < count / 16; ++group) {
    const bool structured = group % 2 == 0;
    const int group_exp = scale(rng);
    for (size_t idx = group * 16; idx < group * 16 + 16; ++idx) {
      bits[idx] = structured ? std::bit_cast<uint32_t>(std::ldexp(gauss(rng), group_exp))
                             : static_cast<uint32_t>(rng());
    }
  }
  return bits;
}

class BfpSimdTest : public ::testing::TestWithParam<int64_t> {
 protected:
  void SetUp() override { hwy::SetSupportedTargetsForTest(GetParam()); }
  void TearDown() override { hwy::SetSupportedTargetsForTest(0); }
};

// Full and ragged windows, fp32 and bf16 sources, every format.
TEST_P(BfpSimdTest, PackMatchesReference) {
  ASSERT_STREQ(FastTargetName(), hwy::TargetName(GetParam()));
  std::mt19937 rng(1234);
  std::uniform_int_distribution<int> extent(0, kTileDim);
  constexpr ptrdiff_t kStride = 40;
  for (int trial = 0; trial < 300; ++trial) {
    const std::vector<uint32_t> bits = RandomBits(kTileDim * kStride, rng);
    std::vector<float> fp32(bits.size());
    std::memcpy(fp32.data(), bits.data(), bits.size() * 4);
    std::vector<uint16_t> bf16(bits.size());
    for (size_t idx = 0; idx < bits.size(); ++idx)
      bf16[idx] = static_cast<uint16_t>(bits[idx] >> 16);
    const bool full = trial % 3 != 0;
    const int rows = full ? kTileDim : extent(rng);
    const int cols = full ? kTileDim : extent(rng);
    for (TileFormat format : kAllFormats) {
      std::vector<uint8_t> ref(TileBytes(format)), fast(TileBytes(format), 0xAB);
      PackTileFp32Ref(format, fp32.data(), kStride, rows, cols, ref.data());
      PackTileFp32(format, fp32.data(), kStride, rows, cols, fast.data());
      ASSERT_EQ(ref, fast) << ToString(format) << " fp32 trial " << trial;
      PackTileBf16Ref(format, bf16.data(), kStride, rows, cols, ref.data());
      PackTileBf16(format, bf16.data(), kStride, rows, cols, fast.data());
      ASSERT_EQ(ref, fast) << ToString(format) << " bf16 trial " << trial;
    }
  }
}

// Random tile bytes (any exponent, including the tiny ones decoded by the
// scalar fallback, and codes 0x8/0x80 that TT never writes) into full and
// ragged windows, as fp32 and bf16; plus the group decode helpers.
TEST_P(BfpSimdTest, UnpackMatchesReference) {
  std::mt19937 rng(99);
  std::uniform_int_distribution<int> byte(0, 255), extent(0, kTileDim), tiny(0, 8);
  constexpr ptrdiff_t kStride = 37;
  for (int trial = 0; trial < 300; ++trial) {
    for (TileFormat format : kAllFormats) {
      std::vector<uint8_t> tile(TileBytes(format));
      for (uint8_t& value : tile) value = static_cast<uint8_t>(byte(rng));
      if (IsBfp(format) && trial % 2 == 0) {
        for (int group = 0; group < kBfpGroupsPerTile; ++group) {
          tile[group] = static_cast<uint8_t>(tiny(rng));
        }
      }
      const bool full = trial % 3 != 0;
      const int rows = full ? kTileDim : extent(rng);
      const int cols = full ? kTileDim : extent(rng);
      std::vector<float> ref(kTileDim * kStride, 0.5f), fast(kTileDim * kStride, 0.5f);
      UnpackTileToFp32Ref(format, tile.data(), ref.data(), kStride, rows, cols);
      UnpackTileToFp32(format, tile.data(), fast.data(), kStride, rows, cols);
      ASSERT_EQ(0, std::memcmp(ref.data(), fast.data(), ref.size() * 4))
          << ToString(format) << " fp32 trial " << trial;
      std::vector<uint16_t> ref16(kTileDim * kStride, 7), fast16(kTileDim * kStride, 7);
      UnpackTileToBf16Ref(format, tile.data(), ref16.data(), kStride, rows, cols);
      UnpackTileToBf16(format, tile.data(), fast16.data(), kStride, rows, cols);
      ASSERT_EQ(ref16, fast16) << ToString(format) << " bf16 trial " << trial;
      if (!IsBfp(format)) continue;

      // Decoding all 64 groups gives the tile in tile order.
      std::vector<float> whole(kTileElems), groups(kTileElems);
      std::vector<uint16_t> groups16(kTileElems);
      UnpackTileToFp32Ref(format, tile.data(), whole.data(), kTileDim, kTileDim, kTileDim);
      DecodeBfpGroupsToFp32(format, tile.data(), tile.data() + kBfpGroupsPerTile, kBfpGroupsPerTile,
                            groups.data());
      DecodeBfpGroupsToBf16(format, tile.data(), tile.data() + kBfpGroupsPerTile, kBfpGroupsPerTile,
                            groups16.data());
      for (int row = 0; row < kTileDim; ++row) {
        for (int col = 0; col < kTileDim; ++col) {
          const uint32_t want = std::bit_cast<uint32_t>(whole[row * kTileDim + col]);
          const int pos = TileOrderIndex(row, col);
          ASSERT_EQ(want, std::bit_cast<uint32_t>(groups[pos])) << row << "," << col;
          ASSERT_EQ(want >> 16, groups16[pos]) << row << "," << col;
        }
      }
    }
  }
}

std::vector<int64_t> TargetsToTest() {
  std::vector<int64_t> targets = CompiledAndSupportedTargets();
  // Stop the mock that SupportedAndGeneratedTargets may leave behind.
  hwy::SetSupportedTargetsForTest(0);
  return targets;
}

INSTANTIATE_TEST_SUITE_P(AllTargets, BfpSimdTest, ::testing::ValuesIn(TargetsToTest()),
                         [](const ::testing::TestParamInfo<int64_t>& param_info) {
                           return std::string(hwy::TargetName(param_info.param));
                         });

TEST(BfpSimdTargets, CoversAvx2AndScalar) {
  // This machine class (x86-64 with AVX2) must exercise at least AVX2 and the
  // scalar fallback; AVX3/AVX3_DL join when the CPU has AVX-512.
  const std::vector<int64_t> targets = TargetsToTest();
  bool has_scalar = false;
  for (int64_t target : targets) has_scalar |= target == HWY_SCALAR;
  EXPECT_TRUE(has_scalar);
  EXPECT_GE(targets.size(), 2u);
}

}  // namespace
}  // namespace lmhead
