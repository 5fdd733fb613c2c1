// SPDX-License-Identifier: Apache-2.0
// Public API: names, sizes, shapes, TILE_LAYOUT order, bf16/fp32 tiles, padding, errors.
#include "lmhead/formats.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <vector>

namespace lmhead {
namespace {

using ::testing::HasSubstr;

TEST(TileFormatTest, NamesRoundTripAndAliases) {
  for (TileFormat format :
       {TileFormat::kBfp4b, TileFormat::kBfp8b, TileFormat::kBf16, TileFormat::kFp32}) {
    Result<TileFormat> parsed = ParseTileFormat(ToString(format));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, format);
  }
  EXPECT_EQ(*ParseTileFormat("bfloat4_b"), TileFormat::kBfp4b);
  EXPECT_EQ(*ParseTileFormat("bfloat8_b"), TileFormat::kBfp8b);
  EXPECT_EQ(*ParseTileFormat("bfloat16"), TileFormat::kBf16);
  EXPECT_EQ(*ParseTileFormat("float32"), TileFormat::kFp32);
  const Result<TileFormat> bad = ParseTileFormat("bfp2_b");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("'bfp2_b'"));
}

TEST(TileFormatTest, TileBytesMatchTt) {
  EXPECT_EQ(TileBytes(TileFormat::kBfp4b), 576u);
  EXPECT_EQ(TileBytes(TileFormat::kBfp8b), 1088u);
  EXPECT_EQ(TileBytes(TileFormat::kBf16), 2048u);
  EXPECT_EQ(TileBytes(TileFormat::kFp32), 4096u);
}

TEST(TiledShapeTest, OuterDimsFoldIntoBatch) {
  const std::vector<int64_t> dims = {2, 3, 33, 70};
  const Result<TiledShape> shape = TiledShapeFromDims(dims);
  ASSERT_TRUE(shape.ok());
  EXPECT_EQ(shape->batch, 6);
  EXPECT_EQ(shape->rows, 33);
  EXPECT_EQ(shape->cols, 70);
  EXPECT_EQ(NumElements(*shape), 2 * 3 * 33 * 70);
  EXPECT_EQ(NumTiles(*shape), 6 * 2 * 3);  // each slice pads to 64 x 96
  EXPECT_EQ(TiledBytes(TileFormat::kBfp4b, *shape), 36u * 576u);
}

TEST(TiledShapeTest, RejectsBadDims) {
  const std::vector<int64_t> rank1 = {32};
  EXPECT_THAT(TiledShapeFromDims(rank1).status().message(), HasSubstr("rank 1"));
  const std::vector<int64_t> zero = {4, 0, 32};
  EXPECT_THAT(TiledShapeFromDims(zero).status().message(), HasSubstr("dimension 1 is 0"));
  const std::vector<int64_t> huge = {int64_t{1} << 40, int64_t{1} << 20, 32};
  EXPECT_FALSE(TiledShapeFromDims(huge).ok());
}

// fp32 tiles are a pure re-layout, so they show TILE_LAYOUT directly:
// (row, col) lives at face * 256 + row_in_face * 16 + col_in_face (spec 1.2).
TEST(TileLayoutTest, Fp32TileOrder) {
  std::vector<float> matrix(32 * 32);
  for (int idx = 0; idx < 32 * 32; ++idx) matrix[idx] = static_cast<float>(idx);
  std::vector<uint8_t> tile(4096);
  ASSERT_TRUE(PackMatrixFp32(TileFormat::kFp32, matrix, {1, 32, 32}, tile).ok());
  std::vector<float> order(1024);
  std::memcpy(order.data(), tile.data(), 4096);
  EXPECT_EQ(order[0], 0.0f);          // (0, 0), face 0
  EXPECT_EQ(order[15], 15.0f);        // (0, 15)
  EXPECT_EQ(order[16], 32.0f);        // (1, 0): face 0 is row-major 16 x 16
  EXPECT_EQ(order[256], 16.0f);       // (0, 16): face 1 starts
  EXPECT_EQ(order[512], 16 * 32.0f);  // (16, 0): face 2
  EXPECT_EQ(order[768 + 16 * 3 + 5], (16 + 3) * 32 + 16 + 5.0f);  // (19, 21): face 3
}

// Tiles in row-major tile order; each slice of the batch padded on its own.
TEST(TileLayoutTest, TileOrderAndPerSlicePadding) {
  const TiledShape shape{2, 33, 40};  // per slice: 2 x 2 tiles
  std::vector<float> matrix(NumElements(shape));
  for (size_t idx = 0; idx < matrix.size(); ++idx) matrix[idx] = static_cast<float>(idx + 1);
  std::vector<uint8_t> tiles(TiledBytes(TileFormat::kFp32, shape));
  ASSERT_TRUE(PackMatrixFp32(TileFormat::kFp32, matrix, shape, tiles).ok());
  auto at = [&](int tile_idx, int pos) {
    float value;
    std::memcpy(&value, tiles.data() + tile_idx * 4096 + pos * 4, 4);
    return value;
  };
  EXPECT_EQ(at(1, 0), matrix[32]);       // tile (0, 1) starts at col 32
  EXPECT_EQ(at(1, 8), 0.0f);             // col 40 is padding
  EXPECT_EQ(at(2, 0), matrix[32 * 40]);  // tile (1, 0) starts at row 32
  EXPECT_EQ(at(2, 16), 0.0f);            // row 33 is padding
  EXPECT_EQ(at(4, 0), matrix[33 * 40]);  // slice 1 starts a new tile row
  EXPECT_EQ(at(7, 512), 0.0f);           // slice 1, face 2 of its last tile: padding

  std::vector<float> back(matrix.size());
  ASSERT_TRUE(UnpackMatrixToFp32(TileFormat::kFp32, tiles, shape, back).ok());
  EXPECT_EQ(back, matrix);
}

// bfp padding: a ragged matrix packs exactly like its explicit zero padding.
TEST(TileLayoutTest, BfpPaddingEqualsExplicitZeros) {
  const TiledShape ragged{1, 45, 50};
  const TiledShape padded{1, 64, 64};
  std::vector<float> values(NumElements(ragged)), zero_padded(NumElements(padded), 0.0f);
  for (int64_t row = 0; row < ragged.rows; ++row) {
    for (int64_t col = 0; col < ragged.cols; ++col) {
      const float value = std::sin(static_cast<float>(row * 131 + col)) * 3.0f;
      values[row * ragged.cols + col] = value;
      zero_padded[row * padded.cols + col] = value;
    }
  }
  for (TileFormat format : {TileFormat::kBfp4b, TileFormat::kBfp8b}) {
    std::vector<uint8_t> a(TiledBytes(format, ragged)), b(TiledBytes(format, padded));
    ASSERT_TRUE(PackMatrixFp32(format, values, ragged, a).ok());
    ASSERT_TRUE(PackMatrixFp32(format, zero_padded, padded, b).ok());
    EXPECT_EQ(a, b) << ToString(format);
  }
}

// torch-style RNE: ties go to even, NaN becomes 0x7FC0, overflow becomes Inf.
TEST(Bf16Test, RoundToNearestEven) {
  EXPECT_EQ(Fp32ToBf16(std::bit_cast<float>(0x3F808000u)), 0x3F80);  // tie, even stays
  EXPECT_EQ(Fp32ToBf16(std::bit_cast<float>(0x3F818000u)), 0x3F82);  // tie, odd rounds up
  EXPECT_EQ(Fp32ToBf16(std::bit_cast<float>(0x3F808001u)), 0x3F81);  // above tie
  EXPECT_EQ(Fp32ToBf16(std::bit_cast<float>(0xFFC12345u)), 0x7FC0);  // NaN
  EXPECT_EQ(Fp32ToBf16(std::bit_cast<float>(0x7F7FFFFFu)), 0x7F80);  // FLT_MAX -> Inf
  EXPECT_EQ(Fp32ToBf16(-0.0f), 0x8000);
  EXPECT_EQ(Bf16ToFp32(0xC040), -3.0f);
}

TEST(Bf16Test, Bf16TilesFromFp32AndBf16) {
  const std::vector<float> values = {1.0f, std::bit_cast<float>(0x3F818000u), -2.5f, NAN};
  std::vector<float> matrix(32 * 32, 0.0f);
  std::copy(values.begin(), values.end(), matrix.begin());
  std::vector<uint8_t> tile(2048);
  ASSERT_TRUE(PackMatrixFp32(TileFormat::kBf16, matrix, {1, 32, 32}, tile).ok());
  std::vector<uint16_t> halves(1024);
  std::memcpy(halves.data(), tile.data(), 2048);
  EXPECT_EQ(halves[0], 0x3F80);
  EXPECT_EQ(halves[1], 0x3F82);
  EXPECT_EQ(halves[2], 0xC020);
  EXPECT_EQ(halves[3], 0x7FC0);

  // A bf16 source is copied verbatim, signalling-NaN payloads included.
  std::vector<uint16_t> bf16(32 * 32, 0);
  bf16[0] = 0x7F81;
  bf16[40] = 0xBF80;  // (1, 8)
  ASSERT_TRUE(PackMatrixBf16(TileFormat::kBf16, bf16, {1, 32, 32}, tile).ok());
  std::memcpy(halves.data(), tile.data(), 2048);
  EXPECT_EQ(halves[0], 0x7F81);
  EXPECT_EQ(halves[16 + 8], 0xBF80);
  std::vector<float> back(1024);
  ASSERT_TRUE(UnpackMatrixToFp32(TileFormat::kBf16, tile, {1, 32, 32}, back).ok());
  EXPECT_EQ(back[40], -1.0f);
}

TEST(MatrixApiTest, SizeMismatchesAreInvalidArgument) {
  std::vector<float> values(32 * 32);
  std::vector<uint8_t> tiles(575);
  const Status short_dst = PackMatrixFp32(TileFormat::kBfp4b, values, {1, 32, 32}, tiles);
  EXPECT_EQ(short_dst.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(short_dst.message(), HasSubstr("575 bytes"));
  EXPECT_THAT(short_dst.message(), HasSubstr("needs 576"));
  tiles.resize(576);
  const Status short_src = PackMatrixFp32(TileFormat::kBfp4b, values, {1, 32, 33}, tiles);
  EXPECT_THAT(short_src.message(), HasSubstr("1024 values"));
  std::vector<float> out(32 * 32);
  const Status empty = UnpackMatrixToFp32(TileFormat::kBfp4b, tiles, {1, 0, 32}, out);
  EXPECT_THAT(empty.message(), HasSubstr(">= 1"));
}

TEST(MatrixApiTest, TileRowHelperMatchesMatrixPacking) {
  const TiledShape shape{1, 20, 70};  // one tile row of 3 tiles, ragged both ways
  std::vector<float> values(NumElements(shape));
  for (size_t idx = 0; idx < values.size(); ++idx) values[idx] = std::cos(float(idx)) * 9.0f;
  for (TileFormat format :
       {TileFormat::kBfp4b, TileFormat::kBfp8b, TileFormat::kBf16, TileFormat::kFp32}) {
    std::vector<uint8_t> whole(TiledBytes(format, shape)), row(TiledBytes(format, shape));
    ASSERT_TRUE(PackMatrixFp32(format, values, shape, whole).ok());
    PackTileRowFp32(format, values.data(), shape.cols, 20, shape.cols, row.data());
    EXPECT_EQ(whole, row) << ToString(format);
  }
}

TEST(FiniteTest, NamesFirstOffendingCoordinate) {
  std::vector<float> values(2 * 3 * 4, 1.0f);
  const std::vector<int64_t> dims = {2, 3, 4};
  EXPECT_TRUE(CheckFinite(values, dims).ok());
  values[1 * 12 + 1 * 4 + 2] = -INFINITY;
  values[22] = NAN;
  EXPECT_EQ(FindFirstNonFinite(values), 1 * 12 + 1 * 4 + 2);
  const Status status = CheckFinite(values, dims);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("[1, 1, 2]"));
  EXPECT_THAT(status.message(), HasSubstr("-inf"));

  std::vector<uint16_t> bf16(6, 0x3F80);
  bf16[4] = 0x7FC0;
  const std::vector<int64_t> dims16 = {2, 3};
  EXPECT_EQ(FindFirstNonFiniteBf16(bf16), 4);
  EXPECT_THAT(CheckFiniteBf16(bf16, dims16).message(), HasSubstr("[1, 1]"));
}

}  // namespace
}  // namespace lmhead
