// SPDX-License-Identifier: Apache-2.0
// ValidatePlan and the TTNN matmul rules (spec §3.14), fed deliberately broken plans.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "lmhead/plan.h"
#include "planner/matmul_validation.h"
#include "planner/plan_test_util.h"

namespace lmhead {
namespace {

using ::testing::HasSubstr;

LmHeadPlan GoodPlan() {
  Result<LmHeadPlan> plan = Plan(kDeepSeekV3, MakeMesh(4, 8), Options(CompatMode::kSeed));
  EXPECT_TRUE(plan.ok());
  return *plan;
}

MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig& DecodePc(LmHeadPlan& plan) {
  return std::get<MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig>(
      plan.decode->linear.program_config);
}

MatmulMultiCoreReuseMultiCastProgramConfig& PrefillPc(LmHeadPlan& plan) {
  return std::get<MatmulMultiCoreReuseMultiCastProgramConfig>(plan.prefill->linear.program_config);
}

std::string ValidateError(const LmHeadPlan& plan) {
  Status status = ValidatePlan(plan);
  EXPECT_FALSE(status.ok());
  return status.message();
}

TEST(ValidationTest, PlannedConfigsPass) {
  EXPECT_TRUE(ValidatePlan(GoodPlan()).ok());
  for (int64_t seq_len : {1, 1000, 2048, 131072}) {
    Result<LmHeadPlan> plan = Plan(kDeepSeekV3, MakeMesh(1, 8, "wormhole_b0-n300"),
                                   Options(CompatMode::kSeed, PlanMode::kBoth, seq_len));
    ASSERT_TRUE(plan.ok());
    EXPECT_TRUE(ValidatePlan(*plan).ok()) << seq_len;
  }
}

TEST(ValidationTest, BrokenDecodePlans) {
  LmHeadPlan plan = GoodPlan();
  DecodePc(plan).in0_block_w = 3;
  EXPECT_THAT(ValidateError(plan), HasSubstr("K tiles 224 must be a multiple of in0_block_w 3"));
  plan = GoodPlan();
  DecodePc(plan).in0_block_w = 8;  // Divides 224, but not the 4-tile activation shard.
  EXPECT_THAT(ValidateError(plan), HasSubstr("activation shard width 4 tiles"));
  plan = GoodPlan();
  DecodePc(plan).per_core_M = 2;
  EXPECT_THAT(ValidateError(plan), HasSubstr("one tile row"));
  plan = GoodPlan();
  plan.decode->input_memory_config = MemoryConfig{};
  EXPECT_THAT(ValidateError(plan), HasSubstr("WIDTH_SHARDED ROW_MAJOR activation"));
  plan = GoodPlan();
  plan.decode->linear.memory_config = MemoryConfig{};
  EXPECT_THAT(ValidateError(plan), HasSubstr("must be sharded in the input's buffer"));
  plan = GoodPlan();
  plan.decode->output_memory_config.shard_spec->shape[1] = 4040;
  EXPECT_THAT(ValidateError(plan), HasSubstr("assert y.memory_config() == output_memory_config"));
  plan = GoodPlan();
  plan.weights.memory_config = MemoryConfig{};
  EXPECT_THAT(ValidateError(plan), HasSubstr("the weight must be WIDTH_SHARDED"));
}

TEST(ValidationTest, BrokenPrefillPlans) {
  LmHeadPlan plan = GoodPlan();
  PrefillPc(plan).out_subblock_w = 3;
  EXPECT_THAT(ValidateError(plan), HasSubstr("per_core_N 16 % out_subblock_w 3"));
  plan = GoodPlan();
  PrefillPc(plan).out_subblock_w = 16;
  PrefillPc(plan).out_subblock_h = 2;
  EXPECT_THAT(ValidateError(plan), HasSubstr("exceeds the 8 dest register tiles"));
  plan = GoodPlan();
  PrefillPc(plan).per_core_N = 8;  // ceil(127 / 8) = 16 column blocks > 8.
  EXPECT_THAT(ValidateError(plan), HasSubstr("num_blocks_x 16"));
  plan = GoodPlan();
  PrefillPc(plan).per_core_M = 2;  // ceil(32 / 2) = 16 row blocks > 8.
  EXPECT_THAT(ValidateError(plan), HasSubstr("num_blocks_y 16"));
  plan = GoodPlan();
  PrefillPc(plan).in0_block_w = 0;
  EXPECT_THAT(ValidateError(plan), HasSubstr("every block field must be positive"));
  plan = GoodPlan();
  PrefillPc(plan).in0_block_w = 5;
  EXPECT_THAT(ValidateError(plan), HasSubstr("224 must be a multiple of in0_block_w 5"));
  plan = GoodPlan();
  PrefillPc(plan).compute_with_storage_grid_size = {9, 8};
  EXPECT_THAT(ValidateError(plan), HasSubstr("exceeds the device grid 8x8"));
  plan = GoodPlan();
  plan.weights.memory_config.shard_spec->grid.ranges[0].end.y = 1;
  EXPECT_THAT(ValidateError(plan), HasSubstr("must be a single row"));
}

// get_dest_reg_count: 16 tiles, halved by half-sync, halved again by fp32 accumulation.
TEST(ValidationTest, DestRegCount) {
  WormholeComputeKernelConfig config;
  EXPECT_EQ(DestRegCount(config), 8);
  config.fp32_dest_acc_en = true;
  EXPECT_EQ(DestRegCount(config), 4);
  config.dst_full_sync_en = true;
  EXPECT_EQ(DestRegCount(config), 8);
  config.fp32_dest_acc_en = false;
  EXPECT_EQ(DestRegCount(config), 16);
}

}  // namespace
}  // namespace lmhead
