// SPDX-License-Identifier: Apache-2.0
// Spec tests: the worked example of tt-numerics.md section 5, TT's golden bytes, edge cases.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "formats/bfp.h"
#include "formats/tile.h"
#include "lmhead/formats.h"
#include "lmhead/npy.h"

namespace lmhead {
namespace {

using ::testing::ElementsAreArray;

// A 32x32 row-major tile, zero except row 0, cols 0..15 = `row` (the first group).
std::vector<float> FirstGroupTile(const std::vector<float>& row) {
  std::vector<float> tile(kTileElems, 0.0f);
  std::copy(row.begin(), row.end(), tile.begin());
  return tile;
}

// Packs with both the scalar specification and the public (SIMD) path and
// checks that they agree before returning the bytes.
std::vector<uint8_t> PackBoth(TileFormat format, const std::vector<float>& tile) {
  std::vector<uint8_t> ref(TileBytes(format)), fast(TileBytes(format));
  PackTileFp32Ref(format, tile.data(), kTileDim, kTileDim, kTileDim, ref.data());
  PackTileFp32(format, tile.data(), kTileDim, kTileDim, kTileDim, fast.data());
  EXPECT_EQ(ref, fast) << ToString(format);
  return fast;
}

// Unpacks with both paths, checks they agree bit for bit, returns the values.
std::vector<float> UnpackBoth(TileFormat format, const std::vector<uint8_t>& tile) {
  std::vector<float> ref(kTileElems), fast(kTileElems);
  UnpackTileToFp32Ref(format, tile.data(), ref.data(), kTileDim, kTileDim, kTileDim);
  UnpackTileToFp32(format, tile.data(), fast.data(), kTileDim, kTileDim, kTileDim);
  EXPECT_EQ(0, std::memcmp(ref.data(), fast.data(), sizeof(float) * kTileElems));
  return fast;
}

// Section 5 input: one face row of face 0.
const std::vector<float> kWorkedRow = {1.0f,     -0.75f,   0.3f,     1.9f,   1.75f, 1.875f,
                                       0.125f,   -0.0625f, 0.1875f,  0.625f, -1.5f, 0.0f,
                                       0x1p-10f, 0.375f,   -0.3125f, 1.25f};

TEST(BfpSpecTest, WorkedExampleBfp4b) {
  const std::vector<uint8_t> bytes = PackBoth(TileFormat::kBfp4b, FirstGroupTile(kWorkedRow));
  ASSERT_EQ(bytes.size(), 576u);
  std::vector<uint8_t> expected(576, 0);
  expected[0] = 0x7f;
  const uint8_t data[] = {0xb4, 0x71, 0x77, 0x00, 0x21, 0x0e, 0x20, 0x59};
  std::copy(std::begin(data), std::end(data), expected.begin() + 64);
  EXPECT_THAT(bytes, ElementsAreArray(expected));

  const std::vector<float> decoded = UnpackBoth(TileFormat::kBfp4b, bytes);
  const float expected_row[] = {1.0f,  -0.75f, 0.25f, 1.75f, 1.75f, 1.75f, 0.0f,   0.0f,
                                0.25f, 0.5f,   -1.5f, 0.0f,  0.0f,  0.5f,  -0.25f, 1.25f};
  EXPECT_THAT(std::vector<float>(decoded.begin(), decoded.begin() + 16),
              ElementsAreArray(expected_row));
  EXPECT_FALSE(std::signbit(decoded[7]));  // -0.0625 lost its sign: no negative zero.
}

TEST(BfpSpecTest, WorkedExampleBfp8b) {
  const std::vector<uint8_t> bytes = PackBoth(TileFormat::kBfp8b, FirstGroupTile(kWorkedRow));
  ASSERT_EQ(bytes.size(), 1088u);
  std::vector<uint8_t> expected(1088, 0);
  expected[0] = 0x7f;
  const uint8_t data[] = {0x40, 0xb0, 0x13, 0x7a, 0x70, 0x78, 0x08, 0x84,
                          0x0c, 0x28, 0xe0, 0x00, 0x00, 0x18, 0x94, 0x50};
  std::copy(std::begin(data), std::end(data), expected.begin() + 64);
  EXPECT_THAT(bytes, ElementsAreArray(expected));

  const std::vector<float> decoded = UnpackBoth(TileFormat::kBfp8b, bytes);
  const float expected_row[] = {1.0f,   -0.75f,   0.296875f, 1.90625f, 1.75f, 1.875f,
                                0.125f, -0.0625f, 0.1875f,   0.625f,   -1.5f, 0.0f,
                                0.0f,   0.375f,   -0.3125f,  1.25f};
  EXPECT_THAT(std::vector<float>(decoded.begin(), decoded.begin() + 16),
              ElementsAreArray(expected_row));
}

// ---------------------------------------------------------------------------
// TT golden bytes (tests/golden/tt_bfp, copied from shared/spec/golden).

std::string GoldenPath(const std::string& name) {
  return std::string(LMHEAD_SOURCE_DIR) + "/tests/golden/tt_bfp/" + name;
}

NpyArray ReadGolden(const std::string& name) {
  Result<NpyArray> array = ReadNpy(GoldenPath(name));
  EXPECT_TRUE(array.ok()) << array.status().ToString();
  return array.ok() ? std::move(array).value() : NpyArray{};
}

void ExpectGoldenBytes(const std::string& input_name, TileFormat format,
                       const std::string& golden_name) {
  const NpyArray bits = ReadGolden(input_name);
  const NpyArray golden = ReadGolden(golden_name);
  ASSERT_EQ(bits.shape.size(), 2u);
  const TiledShape shape{1, bits.shape[0], bits.shape[1]};
  std::vector<float> values(bits.data.size() / 4);
  std::memcpy(values.data(), bits.data.data(), bits.data.size());
  std::vector<uint8_t> packed(TiledBytes(format, shape));
  ASSERT_TRUE(PackMatrixFp32(format, values, shape, packed).ok());
  ASSERT_EQ(packed.size(), golden.data.size());
  for (size_t idx = 0; idx < packed.size(); ++idx) {
    ASSERT_EQ(packed[idx], golden.data[idx])
        << input_name << " as " << ToString(format) << ": first difference at byte " << idx
        << " (tile " << idx / TileBytes(format) << ", offset " << idx % TileBytes(format) << ")";
  }
  // The scalar specification must produce the same bytes on its own.
  std::vector<uint8_t> ref(TileBytes(format));
  for (int64_t tile = 0; tile < NumTiles(shape); ++tile) {
    PackTileFp32Ref(format, values.data() + tile * kTileDim, shape.cols, kTileDim, kTileDim,
                    ref.data());
    ASSERT_EQ(0, std::memcmp(ref.data(), golden.data.data() + tile * ref.size(), ref.size()))
        << "scalar specification differs from TT in tile " << tile;
  }
}

TEST(BfpGoldenTest, FiniteBfp4b) {
  ExpectGoldenBytes("finite_bits.npy", TileFormat::kBfp4b, "finite_bfp4_b.npy");
}
TEST(BfpGoldenTest, FiniteBfp8b) {
  ExpectGoldenBytes("finite_bits.npy", TileFormat::kBfp8b, "finite_bfp8_b.npy");
}
TEST(BfpGoldenTest, SpecialBfp4b) {
  ExpectGoldenBytes("special_bits.npy", TileFormat::kBfp4b, "special_bfp4_b.npy");
}
TEST(BfpGoldenTest, SpecialBfp8b) {
  ExpectGoldenBytes("special_bits.npy", TileFormat::kBfp8b, "special_bfp8_b.npy");
}

TEST(BfpGoldenTest, InRepoCopiesMatchShared) {
  for (const char* name : {"finite_bits.npy", "finite_bfp4_b.npy", "finite_bfp8_b.npy",
                           "special_bits.npy", "special_bfp4_b.npy", "special_bfp8_b.npy"}) {
    const Result<std::vector<uint8_t>> shared =
        ReadFileBytes(std::string(LMHEAD_SHARED_DIR) + "/spec/golden/" + name);
    if (!shared.ok()) GTEST_SKIP() << "shared/ not present: " << shared.status().ToString();
    const Result<std::vector<uint8_t>> local = ReadFileBytes(GoldenPath(name));
    ASSERT_TRUE(local.ok()) << local.status().ToString();
    EXPECT_EQ(*local, *shared) << name;
  }
}

}  // namespace
}  // namespace lmhead
