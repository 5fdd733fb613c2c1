// SPDX-License-Identifier: Apache-2.0
// Tests: ActivationTiles puts every activation where activation_tiles.h says, zeros elsewhere.
#include "kernels/activation_tiles.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "kernels/kernels.h"

namespace lmhead {
namespace {

TEST(ActivationTilesTest, GroupsAreTheSmallestThatHoldTheRows) {
  EXPECT_EQ(ActivationTiles(1, 3, 8).group_rows(), 8);
  EXPECT_EQ(ActivationTiles(8, 3, 8).group_rows(), 8);
  EXPECT_EQ(ActivationTiles(9, 3, 8).group_rows(), 16);
  EXPECT_EQ(ActivationTiles(17, 3, 8).group_rows(), 32);
  EXPECT_EQ(ActivationTiles(2048, 3, 8).group_rows(), 32);
  EXPECT_EQ(ActivationTiles(1, 3, 16).group_rows(), 16);
  EXPECT_EQ(ActivationTiles(17, 3, 16).group_rows(), 32);
  EXPECT_EQ(ActivationTiles(17, 3, 16).tile_stride(), 32 * 32);
}

// Rows of x with a stride past k and k not a multiple of 32: each value at
// ((g Kt + kt) G + r % G) 32 + j, by the header's formula, counted from the
// first row's first tile row; everything else zero, rows past m included.
TEST(ActivationTilesTest, EveryValueLandsWhereTheHeaderSays) {
  const int64_t m = 37, k = 3 * kTileDim - 5, k_tiles = 3, x_stride = k + 7;
  std::vector<uint16_t> x(static_cast<size_t>(m * x_stride));
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<uint16_t>(1 + i % 60000);
  MatmulArgs args;
  args.x = x.data();
  args.x_stride = x_stride;
  args.m = m;
  args.k = k;
  args.w.k_tiles = k_tiles;
  const ActivationTiles tiles(args, 16);
  ASSERT_EQ(tiles.group_rows(), 32);
  const uint16_t* base = tiles.Row(0, 0);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(base) % 64, 0u);
  const int64_t groups = 2, g_rows = 32;
  for (int64_t row = 0; row < groups * g_rows; ++row) {
    for (int64_t kt = 0; kt < k_tiles; ++kt) {
      const uint16_t* values = base + ((row / g_rows * k_tiles + kt) * g_rows + row % g_rows) * 32;
      if (row < m) {
        ASSERT_EQ(tiles.Row(row, kt), values) << "row " << row << " kt " << kt;
      }
      for (int64_t j = 0; j < kTileDim; ++j) {
        const int64_t col = kt * kTileDim + j;
        const uint16_t want = row < m && col < k ? x[static_cast<size_t>(row * x_stride + col)] : 0;
        ASSERT_EQ(values[j], want) << "row " << row << " k " << col;
      }
    }
  }
}

}  // namespace
}  // namespace lmhead
