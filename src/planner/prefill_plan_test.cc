// SPDX-License-Identifier: Apache-2.0
// Prefill configs against spec §4.2-§4.3: per_core_M per S for V3 and V4, L1 estimates, chunking.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "lmhead/plan.h"
#include "planner/plan_test_util.h"

namespace lmhead {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

PrefillPlan MustPlanPrefill(const MeshDesc& mesh, CompatMode compat, int64_t seq_len,
                            const ModelDims& model = kDeepSeekV3) {
  Result<LmHeadPlan> plan = Plan(model, mesh, Options(compat, PlanMode::kPrefill, seq_len));
  EXPECT_TRUE(plan.ok()) << plan.status().ToString();
  return plan.ok() && plan->prefill ? *plan->prefill : PrefillPlan{};
}

TEST(PrefillPlanTest, SeedExampleSeq1024) {
  for (CompatMode compat : {CompatMode::kSeed, CompatMode::kTtV3, CompatMode::kTtV4}) {
    const PrefillPlan prefill = MustPlanPrefill(MakeMesh(4, 8), compat, 1024);
    const auto& pc = prefill.program_config();
    EXPECT_EQ(pc.compute_with_storage_grid_size, (CoreCoord{8, 8}));
    EXPECT_EQ(pc.in0_block_w, 8);
    EXPECT_EQ(pc.per_core_M, 4);
    EXPECT_EQ(pc.per_core_N, 16);
    EXPECT_EQ(pc.out_subblock_h, 1);
    EXPECT_EQ(pc.out_subblock_w, 1);
    EXPECT_FALSE(pc.transpose_mcast);
    EXPECT_FALSE(pc.fuse_batch);
    EXPECT_FALSE(prefill.chunked);
    EXPECT_EQ(prefill.num_chunks, 1);
    EXPECT_EQ(prefill.max_rows, 1024);
    EXPECT_EQ(prefill.num_blocks_x, 8);  // Nt 127 / 16: the last column block holds 15 tiles.
    EXPECT_EQ(prefill.num_blocks_y, 8);
    EXPECT_EQ(prefill.input_memory_config, MemoryConfig{});  // DRAM interleaved.
    EXPECT_EQ(prefill.output_memory_config, MemoryConfig{});
    EXPECT_EQ(prefill.linear.memory_config, MemoryConfig{});
    EXPECT_EQ(prefill.input_shape, (std::array<int64_t, 4>{1, 1, 1024, 7168}));
    EXPECT_EQ(prefill.output_shape, (std::array<int64_t, 4>{1, 1, 1024, 4040}));
    EXPECT_FALSE(prefill.mesh_scatter.converts_sharded_input);
    EXPECT_EQ(prefill.mesh_scatter.transfers.size(), 24u);
  }
}

// §4.2, D = 32 on the 8x8 TG grid: S, chunks, Mt per batch, V3 pcM and blocks_y, V4 pcM and
// blocks_y, and the L1 estimate 65,536 * pcM + 147,456 of the V3 config.
TEST(PrefillPlanTest, GalaxyTableV3AndV4) {
  const struct {
    int64_t seq_len, num_chunks, Mt, v3_pcM, v3_blocks_y, v4_pcM, v4_blocks_y;
  } kRows[] = {{32, 1, 1, 1, 1, 1, 1},         {128, 1, 4, 1, 4, 1, 4},
               {1024, 1, 32, 4, 8, 4, 8},      {2048, 2, 32, 8, 4, 4, 8},
               {4096, 4, 32, 16, 2, 4, 8},     {8192, 8, 32, 32, 1, 4, 8},
               {131072, 128, 32, 512, 1, 4, 8}};
  for (const auto& row : kRows) {
    SCOPED_TRACE(row.seq_len);
    const PrefillPlan v3 = MustPlanPrefill(MakeMesh(4, 8), CompatMode::kTtV3, row.seq_len);
    const PrefillPlan v4 = MustPlanPrefill(MakeMesh(4, 8), CompatMode::kTtV4, row.seq_len);
    const PrefillPlan seed = MustPlanPrefill(MakeMesh(4, 8), CompatMode::kSeed, row.seq_len);
    EXPECT_EQ(v3.chunked, row.seq_len > 1024);
    EXPECT_EQ(v3.num_chunks, row.num_chunks);
    EXPECT_EQ(v3.input_shape, (std::array<int64_t, 4>{1, row.num_chunks,
                                                      std::min<int64_t>(row.seq_len, 1024), 7168}));
    EXPECT_EQ(v3.output_shape, (std::array<int64_t, 4>{1, 1, row.seq_len, 4040}));
    EXPECT_EQ(v3.Mt, row.Mt);
    EXPECT_EQ(v3.program_config().per_core_M, row.v3_pcM);
    EXPECT_EQ(v3.num_blocks_y, row.v3_blocks_y);
    EXPECT_EQ(seed.program_config().per_core_M, row.v3_pcM);  // The seed uses the full S too.
    EXPECT_EQ(v4.program_config().per_core_M, row.v4_pcM);
    EXPECT_EQ(v4.num_blocks_y, row.v4_blocks_y);
    for (const PrefillPlan* plan : {&v3, &v4}) {
      EXPECT_EQ(plan->program_config().per_core_N, 16);
      EXPECT_EQ(plan->program_config().in0_block_w, 8);
      EXPECT_EQ(plan->num_blocks_x, 8);
    }
    EXPECT_EQ(v3.l1.total_bytes, 65'536 * row.v3_pcM + 147'456);
    EXPECT_EQ(v4.l1.total_bytes, 65'536 * row.v4_pcM + 147'456);
  }
}

// §4.2: the named L1 estimates and where they exceed the 1,499,136 B of WH L1.
TEST(PrefillPlanTest, GalaxyL1Estimates) {
  const struct {
    int64_t seq_len, total_bytes;
    bool fits;
  } kRows[] = {{32, 212'992, true},
               {1024, 409'600, true},
               {2048, 671'744, true},
               {4096, 1'196'032, true},
               {8192, 2'244'608, false}};
  for (const auto& row : kRows) {
    const PrefillPlan plan = MustPlanPrefill(MakeMesh(4, 8), CompatMode::kTtV3, row.seq_len);
    EXPECT_EQ(plan.l1.total_bytes, row.total_bytes) << row.seq_len;
    EXPECT_EQ(plan.l1.fits, row.fits) << row.seq_len;
    EXPECT_EQ(plan.l1.l1_bytes, 1'499'136);
  }
  const PrefillPlan s1024 = MustPlanPrefill(MakeMesh(4, 8), CompatMode::kSeed, 1024);
  EXPECT_EQ(s1024.l1.in0_cb_bytes, 2 * 4 * 8 * 2048);
  EXPECT_EQ(s1024.l1.in1_cb_bytes, 2 * 16 * 8 * 576);
  EXPECT_EQ(s1024.l1.out_cb_bytes, 4 * 16 * 2048);
  // 131072 rows: pcM 512, about 33.7 MB.
  EXPECT_EQ(MustPlanPrefill(MakeMesh(4, 8), CompatMode::kTtV3, 131072).l1.total_bytes,
            65'536 * 512 + 147'456);
}

// §4.3: other grids. pcN, blocks_x, pcM per S and the L1 formulas' coefficients.
TEST(PrefillPlanTest, OtherGrids) {
  const struct {
    const char* device;
    int64_t rows, cols, per_core_N, blocks_x;
    std::vector<std::pair<int64_t, int64_t>> v3_pcM;  // (S, pcM)
    int64_t l1_per_pcM, l1_fixed;
  } kGrids[] = {
      {"wormhole_b0-galaxy-col",
       4,
       8,
       19,
       7,
       {{32, 1}, {128, 1}, {1024, 4}, {2048, 7}, {4096, 13}, {8192, 26}, {131072, 410}},
       71'680,
       175'104},
      {"wormhole_b0-galaxy-eth",
       4,
       8,
       16,
       8,
       {{1024, 4}, {2048, 7}, {4096, 13}, {8192, 26}, {131072, 410}},
       65'536,
       147'456},
      {"wormhole_b0-n300",
       1,
       8,
       64,
       8,
       {{32, 1}, {128, 1}, {1024, 5}, {2048, 10}, {4096, 19}, {8192, 37}, {131072, 586}},
       163'840,
       589'824},
      {"blackhole-p150", 4, 8, 10, 13, {{1024, 4}}, 53'248, 92'160},
      {"blackhole-p150-harvested",
       4,
       8,
       12,
       11,
       {{1024, 4}},
       2 * 8 * 2048 + 12 * 2048,
       2 * 12 * 8 * 576},
  };
  for (const auto& grid : kGrids) {
    SCOPED_TRACE(grid.device);
    for (const auto& [seq_len, pcM] : grid.v3_pcM) {
      const PrefillPlan plan =
          MustPlanPrefill(MakeMesh(grid.rows, grid.cols, grid.device), CompatMode::kTtV3, seq_len);
      EXPECT_EQ(plan.program_config().per_core_M, pcM) << seq_len;
      EXPECT_EQ(plan.program_config().per_core_N, grid.per_core_N);
      EXPECT_EQ(plan.program_config().in0_block_w, 8);
      EXPECT_EQ(plan.program_config().out_subblock_w, 1);
      EXPECT_EQ(plan.num_blocks_x, grid.blocks_x);
      EXPECT_EQ(plan.l1.total_bytes, grid.l1_per_pcM * pcM + grid.l1_fixed);
    }
  }
  // T3K at S = 1024: pcM 5 needs 1,409,024 B (fits the number, "likely does not fit" the
  // allocatable L1); N150 D = 1: the in1 CB alone is 4.65 MB.
  EXPECT_EQ(
      MustPlanPrefill(MakeMesh(1, 8, "wormhole_b0-n300"), CompatMode::kSeed, 1024).l1.total_bytes,
      1'409'024);
  const PrefillPlan n150 =
      MustPlanPrefill(MakeMesh(1, 1, "wormhole_b0-n150"), CompatMode::kSeed, 1024);
  EXPECT_EQ(n150.program_config().per_core_N, 505);
  EXPECT_EQ(n150.l1.in1_cb_bytes, 4'654'080);
  EXPECT_FALSE(n150.l1.fits);
}

// Quirk 9: S > 1024 not a multiple of 1024 is TT's reshape failure; the seed pads.
TEST(PrefillPlanTest, ChunkReshapeFailureAndSeedPadding) {
  for (CompatMode compat : {CompatMode::kTtV3, CompatMode::kTtV4}) {
    Result<LmHeadPlan> plan =
        Plan(kDeepSeekV3, MakeMesh(4, 8), Options(compat, PlanMode::kPrefill, 1500));
    ASSERT_FALSE(plan.ok());
    EXPECT_THAT(plan.status().message(),
                AllOf(HasSubstr(std::string(ToString(compat)) + " forward_prefill"),
                      HasSubstr("even_int_div(1500, 1024) (1500 % 1024 = 476)"),
                      HasSubstr("quirk 9"), HasSubstr("2048")));
  }
  const PrefillPlan seed = MustPlanPrefill(MakeMesh(4, 8), CompatMode::kSeed, 1500);
  EXPECT_EQ(seed.seq_len, 1500);
  EXPECT_EQ(seed.padded_seq_len, 2048);
  EXPECT_TRUE(seed.chunked);
  EXPECT_EQ(seed.num_chunks, 2);
  EXPECT_EQ(seed.pc_seq_len, 2048);
  EXPECT_EQ(seed.program_config().per_core_M, 8);
  EXPECT_EQ(seed.output_shape, (std::array<int64_t, 4>{1, 1, 2048, 4040}));
  // S <= 1024 is never chunked or padded, even when it is not a multiple of 32.
  for (int64_t seq_len : {1, 1000, 1024}) {
    const PrefillPlan plan = MustPlanPrefill(MakeMesh(4, 8), CompatMode::kTtV3, seq_len);
    EXPECT_FALSE(plan.chunked);
    EXPECT_EQ(plan.padded_seq_len, seq_len);
    EXPECT_EQ(plan.Mt, (seq_len + 31) / 32);
  }
  // 1025 pads to 2048 in the seed and fails in TT.
  EXPECT_EQ(MustPlanPrefill(MakeMesh(4, 8), CompatMode::kSeed, 1025).padded_seq_len, 2048);
  EXPECT_FALSE(
      Plan(kDeepSeekV3, MakeMesh(4, 8), Options(CompatMode::kTtV3, PlanMode::kPrefill, 1025)).ok());
}

TEST(PrefillPlanTest, TtVocabSplitFailureAndSeedMessage) {
  const ModelDims odd{7168, 129281, "odd"};
  Result<LmHeadPlan> tt = Plan(odd, MakeMesh(4, 8), Options(CompatMode::kTtV3, PlanMode::kPrefill));
  ASSERT_FALSE(tt.ok());
  EXPECT_THAT(tt.status().message(),
              AllOf(HasSubstr("tt-v3 forward_prefill"), HasSubstr("_get_prefill_pc"),
                    HasSubstr("129281 % 32 = 1"), HasSubstr("pad vocab to 129312")));
  Result<LmHeadPlan> seed = Plan(odd, MakeMesh(4, 8), Options(CompatMode::kSeed));
  ASSERT_FALSE(seed.ok());
  EXPECT_THAT(seed.status().message(),
              AllOf(HasSubstr("vocab_size 129281 is not divisible by the 32 devices"),
                    HasSubstr("pad vocab to 129312"), HasSubstr("130048")));
}

TEST(PrefillPlanTest, InputRowIdxOutOfRangeFailsInEveryMode) {
  for (CompatMode compat : {CompatMode::kSeed, CompatMode::kTtV3, CompatMode::kTtV4}) {
    Result<LmHeadPlan> plan =
        Plan(kDeepSeekV3, MakeMesh(4, 8), Options(compat, PlanMode::kPrefill, 1024, 4));
    ASSERT_FALSE(plan.ok());
    EXPECT_THAT(plan.status().message(), HasSubstr("forward_prefill mesh_scatter"));
  }
}

}  // namespace
}  // namespace lmhead
