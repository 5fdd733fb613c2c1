// SPDX-License-Identifier: Apache-2.0
// Decode configs against the seed's example and spec §4.1, row by row, in every compat mode.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "lmhead/plan.h"
#include "planner/plan_test_util.h"

namespace lmhead {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

DecodePlan MustPlanDecode(const ModelDims& model, const MeshDesc& mesh, CompatMode compat) {
  Result<LmHeadPlan> plan = Plan(model, mesh, Options(compat, PlanMode::kDecode));
  EXPECT_TRUE(plan.ok()) << plan.status().ToString();
  return plan.ok() && plan->decode ? *plan->decode : DecodePlan{};
}

std::string PlanDecodeError(const ModelDims& model, const MeshDesc& mesh, CompatMode compat) {
  Result<LmHeadPlan> plan = Plan(model, mesh, Options(compat, PlanMode::kDecode));
  EXPECT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), StatusCode::kInvalidArgument);
  return plan.status().message();
}

// One row of §4.1: what the decode config must be.
struct DecodeRow {
  int64_t input_num_cores;
  ShardSpec input_shard;
  int64_t in0_block_w;
  int64_t output_num_cores;
  int64_t per_core_N;
  ShardSpec output_shard;
};

void ExpectDecode(const DecodePlan& decode, const DecodeRow& row) {
  EXPECT_EQ(decode.input_num_cores, row.input_num_cores);
  EXPECT_EQ(decode.input_memory_config.shard_spec, row.input_shard);
  EXPECT_EQ(decode.program_config().in0_block_w, row.in0_block_w);
  EXPECT_EQ(decode.program_config().per_core_M, 1);
  EXPECT_EQ(decode.output_num_cores, row.output_num_cores);
  EXPECT_EQ(decode.program_config().per_core_N, row.per_core_N);
  EXPECT_EQ(decode.output_memory_config.shard_spec, row.output_shard);
  EXPECT_EQ(decode.input_memory_config.buffer_type, BufferType::kL1);
  EXPECT_EQ(decode.output_memory_config.memory_layout, TensorMemoryLayout::kWidthSharded);
}

// The seed's "Example instantiation" and §4.1 row 1: every compat mode agrees on 4x8 and 8x4.
const DecodeRow kGalaxyRow{56,  Shard({Range(0, 0, 7, 6)}, 32, 128), 4, 1,
                           127, Shard({Range(0, 0, 0, 0)}, 32, 4064)};

TEST(DecodePlanTest, DeepSeekOnGalaxyMatchesSeedExample) {
  for (CompatMode compat : {CompatMode::kSeed, CompatMode::kTtV3, CompatMode::kTtV4}) {
    for (const MeshDesc& mesh : {MakeMesh(4, 8), MakeMesh(8, 4)}) {
      SCOPED_TRACE(ToString(compat));
      const DecodePlan decode = MustPlanDecode(kDeepSeekV3, mesh, compat);
      ExpectDecode(decode, kGalaxyRow);
      EXPECT_EQ(decode.Kt, 224);
      EXPECT_EQ(decode.Nt, 127);
      EXPECT_EQ(decode.input_shape, (std::array<int64_t, 4>{1, 1, 32, 7168}));
      EXPECT_EQ(decode.output_shape, (std::array<int64_t, 4>{1, 1, 32, 4040}));
      EXPECT_EQ(decode.linear.memory_config,
                (MemoryConfig{TensorMemoryLayout::kWidthSharded, BufferType::kL1, {}}));
      const auto& compute = decode.linear.compute_kernel_config;
      EXPECT_EQ(compute.math_fidelity, MathFidelity::kLoFi);
      EXPECT_FALSE(compute.math_approx_mode);
      EXPECT_FALSE(compute.fp32_dest_acc_en);
      EXPECT_TRUE(compute.packer_l1_acc);
      EXPECT_FALSE(compute.dst_full_sync_en);
      EXPECT_EQ(decode.all_gather.cluster_axis, 1);
      EXPECT_EQ(decode.all_gather.dim, -1);
      EXPECT_EQ(decode.all_gather.topology, Topology::kLinear);
    }
  }
}

// The compat modes differ in what forward_decode does around the matmul (spec §3.11).
TEST(DecodePlanTest, CompatModesDifferInScatterAndDeallocate) {
  const DecodePlan seed = MustPlanDecode(kDeepSeekV3, MakeMesh(4, 8), CompatMode::kSeed);
  const DecodePlan v3 = MustPlanDecode(kDeepSeekV3, MakeMesh(4, 8), CompatMode::kTtV3);
  const DecodePlan v4 = MustPlanDecode(kDeepSeekV3, MakeMesh(4, 8), CompatMode::kTtV4);
  EXPECT_TRUE(seed.mesh_scatter.invoked);
  EXPECT_EQ(seed.mesh_scatter.transfers.size(), 24u);
  EXPECT_TRUE(seed.mesh_scatter.converts_sharded_input);
  EXPECT_FALSE(v3.mesh_scatter.invoked);
  EXPECT_TRUE(v3.mesh_scatter.transfers.empty());
  EXPECT_TRUE(v4.mesh_scatter.invoked);
  EXPECT_EQ(v4.mesh_scatter.transfers.size(), 24u);
  EXPECT_TRUE(seed.deallocate_input);
  EXPECT_TRUE(v3.deallocate_input);
  EXPECT_FALSE(v4.deallocate_input);
}

// §4.1 rows that build in every mode.
TEST(DecodePlanTest, GridsWhereTtBuilds) {
  const DecodeRow col_row{56,  Shard({Range(0, 0, 6, 7)}, 32, 128), 4, 1,
                          127, Shard({Range(0, 0, 0, 0)}, 32, 4064)};
  const DecodeRow bh_harvested_row{56,  Shard({Range(0, 0, 10, 4), Range(0, 5, 0, 5)}, 32, 128),
                                   4,   1,
                                   127, Shard({Range(0, 0, 0, 0)}, 32, 4064)};
  for (CompatMode compat : {CompatMode::kSeed, CompatMode::kTtV3, CompatMode::kTtV4}) {
    SCOPED_TRACE(ToString(compat));
    ExpectDecode(MustPlanDecode(kDeepSeekV3, MakeMesh(4, 8, "wormhole_b0-galaxy-col"), compat),
                 col_row);
    ExpectDecode(MustPlanDecode(kDeepSeekV3, MakeMesh(4, 8, "wormhole_b0-galaxy-eth"), compat),
                 kGalaxyRow);
    ExpectDecode(MustPlanDecode(kDeepSeekV3, MakeMesh(4, 8, "blackhole-p150-harvested"), compat),
                 bh_harvested_row);
  }
}

// §4.1 rows where TT raises AssertionError (quirk 1), with the seed's intended config.
struct FailingRow {
  const char* name;
  MeshDesc mesh;
  const char* tt_values;  // The failing assert's numbers, as TT would compute them.
  DecodeRow seed;
};

TEST(DecodePlanTest, TtFailsWhereSpecSaysAndSeedGivesIntendedConfig) {
  const ShardSpec in56 = Shard({Range(0, 0, 7, 6)}, 32, 128);
  const FailingRow rows[] = {
      {"1x8 T3K",
       MakeMesh(1, 8, "wormhole_b0-n300"),
       "896 % 5 = 1",
       {56, in56, 4, 5, 101, Shard({Range(0, 0, 4, 0)}, 32, 3232)}},
      {"1x8 TG row",
       MakeMesh(1, 8),
       "896 % 5 = 1",
       {56, in56, 4, 5, 101, Shard({Range(0, 0, 4, 0)}, 32, 3232)}},
      {"1x1 N150",
       MakeMesh(1, 1, "wormhole_b0-n150"),
       "7168 % 40 = 8",
       {56, in56, 4, 40, 101, Shard({Range(0, 0, 7, 4)}, 32, 3232)}},
      {"1x4",
       MakeMesh(1, 4),
       "1792 % 10 = 2",
       {56, in56, 4, 10, 101, Shard({Range(0, 0, 7, 0), Range(0, 1, 1, 1)}, 32, 3232)}},
      {"2x8 (D=16)",
       MakeMesh(2, 8),
       "448 % 23 = 11",
       {56, in56, 4, 23, 11, Shard({Range(0, 0, 7, 1), Range(0, 2, 6, 2)}, 32, 352)}},
      {"8x8 (D=64)",
       MakeMesh(8, 8),
       "112 % 64 = 48",
       {56, in56, 4, 64, 1, Shard({Range(0, 0, 7, 7)}, 32, 32)}},
      {"BH 13x10",
       MakeMesh(4, 8, "blackhole-p150"),
       "224 % 127 = 97",
       {112, Shard({Range(0, 0, 12, 7), Range(0, 8, 7, 8)}, 32, 64), 2, 127, 1,
        Shard({Range(0, 0, 12, 8), Range(0, 9, 9, 9)}, 32, 32)}},
  };
  for (const FailingRow& row : rows) {
    SCOPED_TRACE(row.name);
    for (CompatMode compat : {CompatMode::kTtV3, CompatMode::kTtV4}) {
      EXPECT_THAT(
          PlanDecodeError(kDeepSeekV3, row.mesh, compat),
          AllOf(HasSubstr(std::string("[Plan] ") + ToString(compat) + " decode_model_config"),
                HasSubstr("assert even_int_div(hidden_size, num_devices) % "
                          "output_num_cores == 0 fails"),
                HasSubstr(row.tt_values), HasSubstr("quirk 1"), HasSubstr("--compat seed")));
    }
    ExpectDecode(MustPlanDecode(kDeepSeekV3, row.mesh, CompatMode::kSeed), row.seed);
  }
}

// §4.1 summary: TT's V3-era module test shrinks the vocab to 4096, where the assert passes.
TEST(DecodePlanTest, ShrunkTestVocabBuildsInTt) {
  const ModelDims test_model{7168, 4096, "tt-test"};
  for (CompatMode compat : {CompatMode::kSeed, CompatMode::kTtV3}) {
    Result<LmHeadPlan> plan = Plan(test_model, MakeMesh(4, 8), Options(compat, PlanMode::kDecode));
    ASSERT_TRUE(plan.ok()) << plan.status().ToString();
    ExpectDecode(*plan->decode, {56, Shard({Range(0, 0, 7, 6)}, 32, 128), 4, 4, 1,
                                 Shard({Range(0, 0, 3, 0)}, 32, 32)});
    EXPECT_EQ(plan->weights.memory_config.shard_spec->shape, (std::array<int64_t, 2>{7168, 32}));
    int64_t banks_with_data = 0;
    for (const DramBankSlice& bank : plan->weights.banks) banks_with_data += bank.num_real_cols > 0;
    EXPECT_EQ(banks_with_data, 4);
  }
}

// The suggested vocab is one the tt mode accepts: 129824 / 8 = 16228 -> Nt 508 = 4 * 127, so
// output_num_cores = 4 divides 896 and 16228, per_core_N = 127.
TEST(DecodePlanTest, TtFailureSuggestsAVocabTtAccepts) {
  const MeshDesc t3k = MakeMesh(1, 8, "wormhole_b0-n300");
  EXPECT_THAT(PlanDecodeError(kDeepSeekV3, t3k, CompatMode::kTtV3),
              HasSubstr("pad vocab to 129824"));
  const DecodePlan decode =
      MustPlanDecode(ModelDims{7168, 129824, "padded"}, t3k, CompatMode::kTtV3);
  EXPECT_EQ(decode.output_num_cores, 4);
  EXPECT_EQ(decode.program_config().per_core_N, 127);
}

// Quirk 2: core counts come from tile counts, TT's shard widths from elements.
TEST(DecodePlanTest, TtElementDivisibilityQuirk) {
  // V/D = 4257 -> Nt 134 = 2 * 67, output_num_cores 2: 224 % 2 passes, 4257 % 2 does not.
  const ModelDims odd_vocab{7168, 4257 * 32, "odd"};
  EXPECT_THAT(PlanDecodeError(odd_vocab, MakeMesh(4, 8), CompatMode::kTtV3),
              AllOf(HasSubstr("_get_decode_activation_memory_config"),
                    HasSubstr("even_int_div(4257, 2) fails (4257 % 2 = 1)"), HasSubstr("quirk 2")));
  ExpectDecode(
      MustPlanDecode(odd_vocab, MakeMesh(4, 8), CompatMode::kSeed),
      {56, Shard({Range(0, 0, 7, 6)}, 32, 128), 4, 2, 67, Shard({Range(0, 0, 1, 0)}, 32, 2144)});
  // H = 7000: 219 tiles = 3 * 73, input_num_cores 3, 7000 % 3 = 1.
  EXPECT_THAT(PlanDecodeError(ModelDims{7000, 129280, "h7000"}, MakeMesh(4, 8), CompatMode::kTtV3),
              HasSubstr("assert hidden_size % input_num_cores == 0 fails (7000 % 3 = 1)"));
}

// TT's assert order: even_int_div(V, D) before the hidden-size checks; even_int_div(H, D) inside
// the quirk-1 assert.
TEST(DecodePlanTest, TtAssertOrder) {
  EXPECT_THAT(PlanDecodeError(kDeepSeekV3, MakeMesh(3, 1), CompatMode::kTtV3),
              HasSubstr("even_int_div(vocab_size, num_devices) fails (129280 % 3 = 1)"));
  const std::string hidden_error =
      PlanDecodeError(ModelDims{7168, 129282, "v3div"}, MakeMesh(1, 3), CompatMode::kTtV3);
  EXPECT_THAT(hidden_error,
              HasSubstr("even_int_div(hidden_size, num_devices) fails (7168 % 3 = 1)"));
  EXPECT_THAT(hidden_error, Not(HasSubstr("pad vocab")));  // No vocab fixes a hidden-size assert.
}

TEST(DecodePlanTest, CoreCountOverrides) {
  PlanOptions options = Options(CompatMode::kSeed, PlanMode::kDecode);
  options.input_num_cores = 5;
  Result<LmHeadPlan> plan = Plan(kDeepSeekV3, MakeMesh(4, 8), options);
  ASSERT_FALSE(plan.ok());
  EXPECT_THAT(plan.status().message(),
              AllOf(HasSubstr("input_num_cores 5 does not divide the 224 tiles"),
                    HasSubstr("1, 2, 4, 7, 8, 14, 16, 28, 32, 56")));
  options.input_num_cores = 28;
  plan = Plan(kDeepSeekV3, MakeMesh(4, 8), options);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->decode->program_config().in0_block_w, 8);  // find_largest_divisor(224 / 28).
  EXPECT_EQ(plan->decode->input_memory_config.shard_spec,
            Shard({Range(0, 0, 7, 2), Range(0, 3, 3, 3)}, 32, 256));
  options = Options(CompatMode::kTtV3, PlanMode::kDecode);
  options.output_num_cores = 2;
  plan = Plan(kDeepSeekV3, MakeMesh(4, 8), options);
  ASSERT_FALSE(plan.ok());
  EXPECT_THAT(plan.status().message(), HasSubstr("127 % 2 = 1"));
  options.output_num_cores = 65;
  EXPECT_THAT(Plan(kDeepSeekV3, MakeMesh(4, 8), options).status().message(),
              HasSubstr("output_num_cores override is 65, outside [0, 64]"));
}

// The DRAM-sharded factory's internals for D = 32 on WH (spec §4.1 and §3.14).
TEST(DecodePlanTest, DramShardedInternalsForGalaxy) {
  const DramShardedMatmulInternals internals =
      MustPlanDecode(kDeepSeekV3, MakeMesh(4, 8), CompatMode::kSeed).dram_sharded;
  EXPECT_EQ(internals.num_worker_cores, 12);
  EXPECT_EQ(internals.per_core_N_unpadded, 11);
  EXPECT_EQ(internals.out_subblock_w, 6);
  EXPECT_EQ(internals.per_core_N_compute, 12);
  EXPECT_EQ(internals.num_blocks, 56);
  EXPECT_EQ(internals.in1_cb_bytes, 76'032);              // 3 * 11 * 4 * 576.
  EXPECT_EQ(internals.in0_cb_bytes, 16'384);              // 2 * 4 * 2048.
  EXPECT_EQ(internals.output_reshard_cb_bytes, 260'096);  // 127 * 2048.
  EXPECT_EQ(internals.out_cb_bytes, 12 * 2048);
}

// V3 decode never calls mesh_scatter, so a bad input_row_idx only fails where it is used.
TEST(DecodePlanTest, InputRowIdxIsCheckedOnlyWhereMeshScatterRuns) {
  for (int64_t row : {-1, 4}) {
    EXPECT_TRUE(
        Plan(kDeepSeekV3, MakeMesh(4, 8), Options(CompatMode::kTtV3, PlanMode::kDecode, 1024, row))
            .ok());
    for (CompatMode compat : {CompatMode::kSeed, CompatMode::kTtV4}) {
      Result<LmHeadPlan> plan =
          Plan(kDeepSeekV3, MakeMesh(4, 8), Options(compat, PlanMode::kDecode, 1024, row));
      ASSERT_FALSE(plan.ok());
      EXPECT_THAT(plan.status().message(),
                  AllOf(HasSubstr("forward_decode mesh_scatter: assert 0 <= from_row < 4 fails"),
                        HasSubstr("--input-row-idx between 0 and 3")));
    }
  }
}

}  // namespace
}  // namespace lmhead
