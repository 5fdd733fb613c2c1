// SPDX-License-Identifier: Apache-2.0
// `lmhead plan --json`: the issue's schema, a round trip of the configs, and the checked-in
// goldens (tests/golden/plans, written by an independent Python restatement of the spec).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "lmhead/plan.h"
#include "planner/plan_test_util.h"

namespace lmhead {
namespace {

using Json = nlohmann::json;
using ::testing::HasSubstr;

Json PlanJson(const MeshDesc& mesh, const PlanOptions& options,
              const ModelDims& model = kDeepSeekV3) {
  Result<LmHeadPlan> plan = Plan(model, mesh, options);
  EXPECT_TRUE(plan.ok()) << plan.status().ToString();
  return plan.ok() ? Json::parse(PlanToJson(*plan)) : Json();
}

// --- Schema: the structure the issue specifies, field by field. ---------------------------

void ExpectIntPair(const Json& json, const char* what) {
  ASSERT_TRUE(json.is_array() && json.size() == 2) << what << ": " << json;
  EXPECT_TRUE(json[0].is_number_integer() && json[1].is_number_integer()) << what;
}

void ExpectMemoryConfig(const Json& json) {
  ASSERT_TRUE(json.is_object()) << json;
  EXPECT_TRUE(json.at("memory_layout").is_string());
  EXPECT_TRUE(json.at("buffer_type").is_string());
  const Json& shard = json.at("shard_spec");
  if (shard.is_null()) return;
  for (const Json& range : shard.at("grid")) {
    ASSERT_EQ(range.size(), 2u);
    ExpectIntPair(range[0], "grid start");
    ExpectIntPair(range[1], "grid end");
  }
  ExpectIntPair(shard.at("shape"), "shard shape");
  EXPECT_EQ(shard.at("orientation"), "ROW_MAJOR");
}

void ExpectLinear(const Json& linear, const char* type) {
  const Json& pc = linear.at("program_config");
  EXPECT_EQ(pc.at("type"), type);
  for (const char* field : {"in0_block_w", "per_core_M", "per_core_N"}) {
    EXPECT_TRUE(pc.at(field).is_number_integer()) << field;
  }
  EXPECT_TRUE(pc.at("fused_activation").is_null());
  if (std::string(type) == "MatmulMultiCoreReuseMultiCastProgramConfig") {
    for (const char* field : {"out_subblock_h", "out_subblock_w"}) {
      EXPECT_TRUE(pc.at(field).is_number_integer()) << field;
    }
    ExpectIntPair(pc.at("compute_with_storage_grid_size"), "compute_with_storage_grid_size");
    EXPECT_TRUE(pc.at("transpose_mcast").is_boolean());
    EXPECT_TRUE(pc.at("fuse_batch").is_boolean());
  }
  ExpectMemoryConfig(linear.at("memory_config"));
  const Json& compute = linear.at("compute_kernel_config");
  EXPECT_TRUE(compute.at("math_fidelity").is_string());
  for (const char* field :
       {"math_approx_mode", "fp32_dest_acc_en", "packer_l1_acc", "dst_full_sync_en"}) {
    EXPECT_TRUE(compute.at(field).is_boolean()) << field;
  }
}

void ExpectCommonPath(const Json& path, const char* program_config_type) {
  const Json& scatter = path.at("mesh_scatter");
  ExpectIntPair(scatter.at("mesh_shape"), "mesh_shape");
  ASSERT_EQ(scatter.at("scatter_idx").size(), 2u);
  EXPECT_TRUE(scatter.at("scatter_idx")[0].is_number_integer());
  EXPECT_TRUE(scatter.at("scatter_idx")[1].is_null());
  for (const Json& transfer : scatter.at("transfers")) {
    ExpectIntPair(transfer.at("sender"), "sender");
    ExpectIntPair(transfer.at("receiver"), "receiver");
    EXPECT_TRUE(transfer.at("hops").is_number_integer());
  }
  ExpectMemoryConfig(path.at("input_memory_config"));
  ExpectMemoryConfig(path.at("output_memory_config"));
  ExpectLinear(path.at("linear"), program_config_type);
  const Json& gather = path.at("all_gather");
  EXPECT_EQ(gather.at("cluster_axis"), 1);
  EXPECT_EQ(gather.at("dim"), -1);
  EXPECT_EQ(gather.at("topology"), "Linear");
  ExpectMemoryConfig(gather.at("memory_config"));
}

TEST(PlanJsonTest, MatchesIssueSchema) {
  const Json json = PlanJson(MakeMesh(4, 8), Options(CompatMode::kSeed, PlanMode::kBoth, 2048));
  EXPECT_EQ(json.at("model").at("hidden_size"), 7168);
  EXPECT_EQ(json.at("model").at("vocab_size"), 129280);
  const Json& mesh = json.at("mesh");
  EXPECT_EQ(mesh.at("shape"), Json::parse("[4, 8]"));
  EXPECT_EQ(mesh.at("num_devices"), 32);
  EXPECT_EQ(mesh.at("core_grid"), Json::parse("[8, 8]"));
  EXPECT_EQ(mesh.at("dram_grid"), Json::parse("[12, 1]"));
  const Json& weights = json.at("weights");
  EXPECT_EQ(weights.at("dtype"), "bfloat4_b");
  EXPECT_EQ(weights.at("layout"), "TILE");
  EXPECT_EQ(weights.at("per_device_shape"), Json::parse("[7168, 4040]"));
  EXPECT_EQ(weights.at("padded_shape"), Json::parse("[7168, 4064]"));
  ExpectMemoryConfig(weights.at("memory_config"));
  const Json& decode = json.at("decode");
  EXPECT_EQ(decode.at("input_num_cores"), 56);
  EXPECT_EQ(decode.at("output_num_cores"), 1);
  ExpectCommonPath(decode, "MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig");
  const Json& prefill = json.at("prefill");
  EXPECT_EQ(prefill.at("seq_len"), 2048);
  EXPECT_EQ(prefill.at("max_rows"), 1024);
  EXPECT_EQ(prefill.at("chunked"), true);
  EXPECT_EQ(prefill.at("num_chunks"), 2);
  ExpectCommonPath(prefill, "MatmulMultiCoreReuseMultiCastProgramConfig");
  ASSERT_TRUE(json.at("notes").is_array());
  for (const Json& note : json.at("notes")) EXPECT_TRUE(note.is_string());
  // A path that is not planned is null.
  const Json decode_only = PlanJson(MakeMesh(4, 8), Options(CompatMode::kSeed, PlanMode::kDecode));
  EXPECT_TRUE(decode_only.at("prefill").is_null());
  EXPECT_TRUE(decode_only.at("decode").is_object());
}

// --- Round trip: memory configs read back from JSON equal the plan's structs. -------------

MemoryConfig MemoryConfigFromJson(const Json& json) {
  MemoryConfig config;
  const std::string layout = json.at("memory_layout");
  config.memory_layout = layout == "WIDTH_SHARDED" ? TensorMemoryLayout::kWidthSharded
                                                   : TensorMemoryLayout::kInterleaved;
  config.buffer_type = json.at("buffer_type") == "L1" ? BufferType::kL1 : BufferType::kDram;
  if (json.at("shard_spec").is_null()) return config;
  ShardSpec spec;
  for (const Json& range : json.at("shard_spec").at("grid")) {
    spec.grid.ranges.push_back(CoreRange{{range[0][0], range[0][1]}, {range[1][0], range[1][1]}});
  }
  spec.shape = {json.at("shard_spec").at("shape")[0], json.at("shard_spec").at("shape")[1]};
  config.shard_spec = spec;
  return config;
}

TEST(PlanJsonTest, MemoryConfigsRoundTrip) {
  for (const MeshDesc& mesh : {MakeMesh(4, 8), MakeMesh(1, 4), MakeMesh(4, 8, "blackhole-p150")}) {
    Result<LmHeadPlan> plan = Plan(kDeepSeekV3, mesh, Options(CompatMode::kSeed));
    ASSERT_TRUE(plan.ok()) << plan.status().ToString();
    const Json json = Json::parse(PlanToJson(*plan));
    EXPECT_EQ(MemoryConfigFromJson(json["weights"]["memory_config"]), plan->weights.memory_config);
    EXPECT_EQ(MemoryConfigFromJson(json["decode"]["input_memory_config"]),
              plan->decode->input_memory_config);
    EXPECT_EQ(MemoryConfigFromJson(json["decode"]["output_memory_config"]),
              plan->decode->output_memory_config);
    EXPECT_EQ(MemoryConfigFromJson(json["decode"]["linear"]["memory_config"]),
              plan->decode->linear.memory_config);
    EXPECT_EQ(MemoryConfigFromJson(json["prefill"]["output_memory_config"]),
              plan->prefill->output_memory_config);
    EXPECT_EQ(json["decode"]["mesh_scatter"]["transfers"].size(),
              plan->decode->mesh_scatter.transfers.size());
    EXPECT_EQ(json["notes"].size(), plan->notes.size());
  }
}

// --- Goldens ------------------------------------------------------------------------------

// Every key of `expected` must be in `actual` with an equal value; arrays match element-wise.
void ExpectSubset(const Json& expected, const Json& actual, const std::string& path) {
  if (expected.is_object()) {
    ASSERT_TRUE(actual.is_object()) << path << " is " << actual;
    for (const auto& [key, value] : expected.items()) {
      ASSERT_TRUE(actual.contains(key)) << path << "." << key << " missing";
      ExpectSubset(value, actual.at(key), path + "." + key);
    }
  } else if (expected.is_array()) {
    ASSERT_TRUE(actual.is_array()) << path << " is " << actual;
    ASSERT_EQ(expected.size(), actual.size()) << path;
    for (size_t idx = 0; idx < expected.size(); ++idx) {
      ExpectSubset(expected[idx], actual[idx], path + "[" + std::to_string(idx) + "]");
    }
  } else {
    EXPECT_EQ(expected, actual) << path;
  }
}

TEST(PlanJsonTest, Goldens) {
  const std::filesystem::path dir = std::filesystem::path(LMHEAD_SOURCE_DIR) / "tests/golden/plans";
  int num_goldens = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    SCOPED_TRACE(entry.path().filename().string());
    ++num_goldens;
    std::ifstream file(entry.path());
    const Json golden = Json::parse(file);
    const Json& c = golden.at("case");
    const ModelDims model{c.at("hidden_size"), c.at("vocab_size"), c.at("model")};
    const MeshDesc mesh = MakeMesh(c.at("mesh")[0], c.at("mesh")[1], c.at("device"));
    PlanOptions options;
    options.compat = *ParseCompatMode(c.at("compat").get<std::string>());
    options.mode = *ParsePlanMode(c.at("mode").get<std::string>());
    options.seq_len = c.at("seq_len");
    options.input_row_idx = c.at("input_row_idx");
    Result<LmHeadPlan> plan = Plan(model, mesh, options);
    if (golden.contains("error_contains")) {
      ASSERT_FALSE(plan.ok());
      for (const Json& part : golden.at("error_contains")) {
        EXPECT_THAT(plan.status().message(), HasSubstr(part.get<std::string>()));
      }
      continue;
    }
    ASSERT_TRUE(plan.ok()) << plan.status().ToString();
    ExpectSubset(golden.at("expected"), Json::parse(PlanToJson(*plan)), "plan");
  }
  EXPECT_GE(num_goldens, 15);
}

}  // namespace
}  // namespace lmhead
