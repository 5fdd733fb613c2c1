// SPDX-License-Identifier: Apache-2.0
// The per-device weight plan: shapes, DRAM bank layout (spec §3.5, §3.13) and vocab padding.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "lmhead/plan.h"
#include "planner/plan_test_util.h"

namespace lmhead {
namespace {

using ::testing::HasSubstr;

WeightPlan MustPlanWeights(const ModelDims& model, const MeshDesc& mesh) {
  Result<LmHeadPlan> plan = Plan(model, mesh, Options(CompatMode::kSeed, PlanMode::kPrefill));
  EXPECT_TRUE(plan.ok()) << plan.status().ToString();
  return plan.ok() ? plan->weights : WeightPlan{};
}

// run_config_output.txt: ttnn.Tensor(shape=[7168, 4040], BFLOAT4_B, WIDTH_SHARDED_DRAM,
// sharded[7168, 352]).
TEST(WeightsPlanTest, GalaxyMatchesTtPrintout) {
  const WeightPlan weights = MustPlanWeights(kDeepSeekV3, MakeMesh(4, 8));
  EXPECT_EQ(weights.dtype, "bfloat4_b");
  EXPECT_EQ(weights.layout, "TILE");
  EXPECT_EQ(weights.per_device_shape, (std::array<int64_t, 2>{7168, 4040}));
  EXPECT_EQ(weights.padded_shape, (std::array<int64_t, 2>{7168, 4064}));
  EXPECT_EQ(weights.vocab_per_device, 4040);
  EXPECT_EQ(weights.Kt, 224);
  EXPECT_EQ(weights.Nt, 127);
  EXPECT_EQ(weights.num_dram_banks, 12);
  EXPECT_EQ(weights.shard_width, 352);
  EXPECT_EQ(weights.shard_width_tiles, 11);
  EXPECT_EQ(weights.memory_config.memory_layout, TensorMemoryLayout::kWidthSharded);
  EXPECT_EQ(weights.memory_config.buffer_type, BufferType::kDram);
  EXPECT_EQ(weights.memory_config.shard_spec, Shard({Range(0, 0, 11, 0)}, 7168, 352));
  // Banks 0-10 are full: 11 * 352 = 3872 real columns; bank 11 holds the remaining 168, then
  // 24 columns of tile padding (to 4064) and 160 beyond the tensor (to 12 * 352 = 4224).
  ASSERT_EQ(weights.banks.size(), 12u);
  for (int64_t bank = 0; bank < 11; ++bank) {
    EXPECT_EQ(weights.banks[bank].col_begin, bank * 352);
    EXPECT_EQ(weights.banks[bank].num_real_cols, 352);
  }
  const DramBankSlice& last = weights.banks[11];
  EXPECT_EQ(last.col_begin, 3872);
  EXPECT_EQ(last.col_end, 4224);
  EXPECT_EQ(last.num_real_cols, 168);
  EXPECT_EQ(last.num_tile_padding_cols, 24);
  EXPECT_EQ(last.num_shard_padding_cols, 160);
}

// D = 64: Nt 64 tiles over 12 banks of 6 tiles: banks 0-9 full, bank 10 holds 4 tiles of data
// (20 real columns in the last tile), bank 11 only padding.
TEST(WeightsPlanTest, BanksThatHoldOnlyPadding) {
  const WeightPlan weights = MustPlanWeights(kDeepSeekV3, MakeMesh(8, 8));
  EXPECT_EQ(weights.shard_width, 192);
  EXPECT_EQ(weights.banks[10].num_real_cols, 2020 - 1920);
  EXPECT_EQ(weights.banks[10].num_tile_padding_cols, 2048 - 2020);
  EXPECT_EQ(weights.banks[10].num_shard_padding_cols, 2112 - 2048);
  EXPECT_EQ(weights.banks[11].num_real_cols, 0);
  EXPECT_EQ(weights.banks[11].num_tile_padding_cols, 0);
  EXPECT_EQ(weights.banks[11].num_shard_padding_cols, 192);
  // Blackhole's 8 banks, D = 32: 505 columns per bank rounds up to 512.
  const WeightPlan bh = MustPlanWeights(kDeepSeekV3, MakeMesh(4, 8, "blackhole-p150"));
  EXPECT_EQ(bh.shard_width, 512);
  EXPECT_EQ(bh.banks.size(), 8u);
  EXPECT_EQ(bh.banks[7].num_real_cols, 4040 - 7 * 512);
}

TEST(WeightsPlanTest, DeviceOrderIsRowMajor) {
  const MeshShape shape{4, 8};
  EXPECT_EQ(DeviceMeshCoord(shape, 0), (MeshCoord{0, 0}));
  EXPECT_EQ(DeviceMeshCoord(shape, 9), (MeshCoord{1, 1}));
  EXPECT_EQ(DeviceMeshCoord(shape, 31), (MeshCoord{3, 7}));
  EXPECT_EQ(DeviceMeshCoord(MeshShape{8, 4}, 9), (MeshCoord{2, 1}));
}

TEST(WeightsPlanTest, SuggestPaddedVocab) {
  // 129280 = 32 * 4040 divides evenly, but 4040 is not a multiple of 32: tile-aligned slices
  // need 130048 = 32 devices * 32 * 127 tiles.
  EXPECT_EQ(SuggestPaddedVocab(129280, 32, 1), 129280);
  EXPECT_EQ(SuggestPaddedVocab(129280, 32), 130048);
  EXPECT_EQ(SuggestPaddedVocab(129281, 32), 130048);
  EXPECT_EQ(SuggestPaddedVocab(129281, 32, 1), 129312);
  EXPECT_EQ(SuggestPaddedVocab(129280, 16), 129536);  // The STYLE.md example: 16 * 253 * 32.
  EXPECT_EQ(SuggestPaddedVocab(128256, 32), 129024);
  EXPECT_EQ(SuggestPaddedVocab(1, 1), 32);
}

TEST(WeightsPlanTest, HiddenSizeMustBeTileAligned) {
  Result<LmHeadPlan> plan =
      Plan(ModelDims{7000, 129280, "h"}, MakeMesh(4, 8), Options(CompatMode::kSeed));
  ASSERT_FALSE(plan.ok());
  EXPECT_THAT(plan.status().message(), HasSubstr("hidden_size 7000 is not a multiple of the tile"));
  EXPECT_THAT(plan.status().message(), HasSubstr("pad hidden_size to 7008"));
  // Prefill-only tt mode reaches the weight check after TT's own prefill code accepted it.
  plan = Plan(ModelDims{7000, 129280, "h"}, MakeMesh(4, 8),
              Options(CompatMode::kTtV3, PlanMode::kPrefill));
  ASSERT_FALSE(plan.ok());
  EXPECT_THAT(plan.status().message(), HasSubstr("[Plan] tt-v3 convert_weights"));
}

}  // namespace
}  // namespace lmhead
