// SPDX-License-Identifier: Apache-2.0
// TT helper edge cases, against the values spelled out in shared/spec/ttnn-lmhead.md §3-§4.
#include "planner/tt_helpers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace lmhead {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

CoreRange Range(int64_t x0, int64_t y0, int64_t x1, int64_t y1) { return {{x0, y0}, {x1, y1}}; }

TEST(TtHelpersTest, DivUpAndRoundUp) {
  EXPECT_EQ(DivUp(0, 32), 0);
  EXPECT_EQ(DivUp(1, 32), 1);
  EXPECT_EQ(DivUp(4040, 32), 127);
  EXPECT_EQ(RoundUp(4040, 32), 4064);
  EXPECT_EQ(RoundUp(4064, 32), 4064);
}

// §3.2: non-decreasing; a perfect square yields its root twice; 1 yields 1, 1; 0 yields nothing.
TEST(TtHelpersTest, FindAllDivisorsMatchesSpec) {
  EXPECT_THAT(FindAllDivisors(16), ElementsAre(1, 2, 4, 4, 8, 16));
  EXPECT_THAT(FindAllDivisors(1), ElementsAre(1, 1));
  EXPECT_THAT(FindAllDivisors(0), IsEmpty());
  EXPECT_THAT(FindAllDivisors(224), ElementsAre(1, 2, 4, 7, 8, 14, 16, 28, 32, 56, 112, 224));
  EXPECT_THAT(FindAllDivisors(127), ElementsAre(1, 127));
  EXPECT_THAT(FindAllDivisors(36), ElementsAre(1, 2, 3, 4, 6, 6, 9, 12, 18, 36));
}

TEST(TtHelpersTest, FindLargestDivisorNewVariant) {
  EXPECT_EQ(FindLargestDivisor(224), 8);  // §4: Kt = 224.
  EXPECT_EQ(FindLargestDivisor(4), 4);    // Decode: 224 / 56.
  EXPECT_EQ(FindLargestDivisor(2), 2);    // BH 13x10 decode: 224 / 112.
  EXPECT_EQ(FindLargestDivisor(127), 1);  // Prime above 8.
  EXPECT_EQ(FindLargestDivisor(7), 7);
  // Perfect squares, whose root appears twice in find_all_divisors.
  EXPECT_EQ(FindLargestDivisor(16), 8);
  EXPECT_EQ(FindLargestDivisor(9), 3);
  EXPECT_EQ(FindLargestDivisor(49), 7);
  EXPECT_EQ(FindLargestDivisor(64), 8);
  EXPECT_EQ(FindLargestDivisor(1), 1);
  EXPECT_EQ(FindLargestDivisor(0), 1);  // Quirk 12: no divisors, fallback 1.
  // out_subblock_w = find_largest_divisor(per_core_N, 1) is always 1 (quirk 4).
  EXPECT_EQ(FindLargestDivisor(16, 1), 1);
  EXPECT_EQ(FindLargestDivisor(0, 1), 1);
}

TEST(TtHelpersTest, FindLargestDivisorOldVariant) {
  EXPECT_EQ(FindLargestDivisorOld(0), 8);  // Quirk 12: the loop returns max_divisor for 0.
  EXPECT_EQ(FindLargestDivisorOld(0, 5), 5);
  EXPECT_EQ(FindLargestDivisorOld(16), 8);
  EXPECT_EQ(FindLargestDivisorOld(9), 3);
  EXPECT_EQ(FindLargestDivisorOld(127), 1);
  // For n >= 1 both variants agree; compare with a brute-force search written here.
  for (int64_t n = 1; n <= 2000; ++n) {
    for (int64_t max_divisor : {1, 2, 3, 4, 7, 8, 13}) {
      int64_t expected = 1;
      for (int64_t d = 1; d <= max_divisor; ++d) {
        if (n % d == 0) expected = d;
      }
      ASSERT_EQ(FindLargestDivisor(n, max_divisor), expected) << n << " " << max_divisor;
      ASSERT_EQ(FindLargestDivisorOld(n, max_divisor), expected) << n << " " << max_divisor;
    }
  }
}

// §3.3 with the §4 table's divisor lists.
TEST(TtHelpersTest, ActivationShardingCoreCounts) {
  using Set = std::set<int64_t>;
  EXPECT_EQ(GetActivationShardingCoreCountsForDramMatmul(7168, 64),
            Set({1, 2, 4, 7, 8, 14, 16, 28, 32, 56}));
  EXPECT_EQ(*GetActivationShardingCoreCountsForDramMatmul(7168, 130).rbegin(), 112);
  EXPECT_EQ(GetActivationShardingCoreCountsForDramMatmul(4040, 64), Set({1}));
  EXPECT_EQ(GetActivationShardingCoreCountsForDramMatmul(4040, 130), Set({1, 127}));
  EXPECT_EQ(GetActivationShardingCoreCountsForDramMatmul(16160, 56), Set({1, 5}));
  EXPECT_EQ(GetActivationShardingCoreCountsForDramMatmul(129280, 64),
            Set({1, 2, 4, 5, 8, 10, 20, 40}));
  EXPECT_EQ(GetActivationShardingCoreCountsForDramMatmul(8080, 64), Set({1, 11, 23}));
  EXPECT_EQ(GetActivationShardingCoreCountsForDramMatmul(1, 64), Set({1}));      // divup: 1 tile.
  EXPECT_EQ(GetActivationShardingCoreCountsForDramMatmul(33, 64), Set({1, 2}));  // 2 tiles.
}

// §3.6: full rows only when strictly more than a row remains; at most two ranges.
TEST(TtHelpersTest, NumCoresToCoreRangeSetOnEightWideGrid) {
  const CoreCoord grid{8, 8};
  EXPECT_THAT(NumCoresToCoreRangeSet(0, grid)->ranges, IsEmpty());
  EXPECT_THAT(NumCoresToCoreRangeSet(1, grid)->ranges, ElementsAre(Range(0, 0, 0, 0)));
  EXPECT_THAT(NumCoresToCoreRangeSet(5, grid)->ranges, ElementsAre(Range(0, 0, 4, 0)));
  EXPECT_THAT(NumCoresToCoreRangeSet(8, grid)->ranges, ElementsAre(Range(0, 0, 7, 0)));
  EXPECT_THAT(NumCoresToCoreRangeSet(9, grid)->ranges,
              ElementsAre(Range(0, 0, 7, 0), Range(0, 1, 0, 1)));
  EXPECT_THAT(NumCoresToCoreRangeSet(12, grid)->ranges,
              ElementsAre(Range(0, 0, 7, 0), Range(0, 1, 3, 1)));
  EXPECT_THAT(NumCoresToCoreRangeSet(16, grid)->ranges, ElementsAre(Range(0, 0, 7, 1)));
  EXPECT_THAT(NumCoresToCoreRangeSet(56, grid)->ranges, ElementsAre(Range(0, 0, 7, 6)));
  EXPECT_THAT(NumCoresToCoreRangeSet(64, grid)->ranges, ElementsAre(Range(0, 0, 7, 7)));
  const auto too_many = NumCoresToCoreRangeSet(65, grid);
  ASSERT_FALSE(too_many.ok());
  EXPECT_THAT(too_many.status().message(), HasSubstr("TT_FATAL"));
  EXPECT_THAT(too_many.status().message(), HasSubstr("65"));
}

// §4.1 core sets on other grids.
TEST(TtHelpersTest, NumCoresToCoreRangeSetOnOtherGrids) {
  EXPECT_THAT(NumCoresToCoreRangeSet(56, {7, 10})->ranges, ElementsAre(Range(0, 0, 6, 7)));
  EXPECT_THAT(NumCoresToCoreRangeSet(112, {13, 10})->ranges,
              ElementsAre(Range(0, 0, 12, 7), Range(0, 8, 7, 8)));
  EXPECT_THAT(NumCoresToCoreRangeSet(56, {11, 10})->ranges,
              ElementsAre(Range(0, 0, 10, 4), Range(0, 5, 0, 5)));
  EXPECT_THAT(NumCoresToCoreRangeSet(40, {8, 8})->ranges, ElementsAre(Range(0, 0, 7, 4)));
  EXPECT_THAT(NumCoresToCoreRangeSet(1, {1, 1})->ranges, ElementsAre(Range(0, 0, 0, 0)));
  EXPECT_FALSE(NumCoresToCoreRangeSet(2, {1, 1}).ok());
}

// §3.7: the tile check uses `and` (quirk 11).
TEST(TtHelpersTest, CreateShardedMemoryConfigTileCheckUsesAnd) {
  const CoreRangeSet cores{{Range(0, 0, 7, 6)}};
  const auto config = CreateShardedMemoryConfig({32, 128}, cores);
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->memory_layout, TensorMemoryLayout::kWidthSharded);
  EXPECT_EQ(config->buffer_type, BufferType::kL1);
  EXPECT_EQ(config->shard_spec->shape, (std::array<int64_t, 2>{32, 128}));
  EXPECT_EQ(config->shard_spec->orientation, ShardOrientation::kRowMajor);
  EXPECT_TRUE(CreateShardedMemoryConfig({32, 100}, cores).ok());  // One unaligned dim passes.
  EXPECT_TRUE(CreateShardedMemoryConfig({33, 128}, cores).ok());
  EXPECT_FALSE(CreateShardedMemoryConfig({33, 100}, cores).ok());
}

// §4 table: DRAM shard widths for D = 1..64 on 12 (WH) and 8 (BH) banks.
TEST(TtHelpersTest, DramShardedWeightConfigMatchesSpecTable) {
  const struct {
    int64_t vocab_per_device, wh_width, bh_width;
  } kRows[] = {{129280, 10784, 16160}, {64640, 5408, 8096}, {32320, 2720, 4064},
               {16160, 1376, 2048},    {8080, 704, 1024},   {4040, 352, 512},
               {2020, 192, 256}};
  for (const auto& row : kRows) {
    const MemoryConfig wh = DramShardedWeightConfig(7168, row.vocab_per_device, 12);
    EXPECT_EQ(wh.shard_spec->shape, (std::array<int64_t, 2>{7168, row.wh_width}));
    EXPECT_EQ(DramShardedWeightConfig(7168, row.vocab_per_device, 8).shard_spec->shape[1],
              row.bh_width);
    // The older formula (config_helpers @ 001c681f) is identical: ceil(n/(32b))*32.
    EXPECT_EQ(DivUp(row.vocab_per_device, 32 * 12) * 32, row.wh_width);
  }
  const MemoryConfig config = DramShardedWeightConfig(7168, 4040, 12);
  EXPECT_EQ(config.buffer_type, BufferType::kDram);
  EXPECT_EQ(config.memory_layout, TensorMemoryLayout::kWidthSharded);
  EXPECT_THAT(config.shard_spec->grid.ranges, ElementsAre(Range(0, 0, 11, 0)));
}

TEST(TtHelpersTest, DramShardedMatmulConfig) {
  const auto config = GetDramShardedMatmulConfig(32, 7168, 4040, 56, 1);
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->in0_block_w, 4);
  EXPECT_EQ(config->per_core_M, 1);
  EXPECT_EQ(config->per_core_N, 127);
  EXPECT_FALSE(config->fused_activation.has_value());
  EXPECT_EQ(GetDramShardedMatmulConfig(32, 7168, 16160, 56, 5)->per_core_N, 101);
  EXPECT_EQ(GetDramShardedMatmulConfig(32, 7168, 4040, 112, 127)->in0_block_w, 2);
  const auto bad_k = GetDramShardedMatmulConfig(32, 7168, 4040, 5, 1);
  ASSERT_FALSE(bad_k.ok());
  EXPECT_THAT(bad_k.status().message(), HasSubstr("224 % 5 = 4"));
  const auto bad_n = GetDramShardedMatmulConfig(32, 7168, 4040, 56, 2);
  ASSERT_FALSE(bad_n.ok());
  EXPECT_THAT(bad_n.status().message(), HasSubstr("127 % 2 = 1"));
}

// §3.10 and §4.2: the documented prefill config for D = 32 on an 8x8 grid.
TEST(TtHelpersTest, PrefillProgramConfig) {
  const auto config = GetPrefillPc(1024, 7168, 129280, 32, {8, 8});
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->compute_with_storage_grid_size, (CoreCoord{8, 8}));
  EXPECT_EQ(config->in0_block_w, 8);
  EXPECT_EQ(config->per_core_M, 4);
  EXPECT_EQ(config->per_core_N, 16);
  EXPECT_EQ(config->out_subblock_h, 1);
  EXPECT_EQ(config->out_subblock_w, 1);
  EXPECT_FALSE(config->transpose_mcast);
  EXPECT_FALSE(config->fuse_batch);
  EXPECT_FALSE(config->fused_activation.has_value());
  const auto bad = GetPrefillPc(1024, 7168, 129281, 32, {8, 8});
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("even_int_div(vocab_size, num_devices)"));
}

}  // namespace
}  // namespace lmhead
