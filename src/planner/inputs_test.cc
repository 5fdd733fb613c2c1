// SPDX-License-Identifier: Apache-2.0
// Planner inputs: config.json fixtures, device presets (spec §2), "RxC"/"XxY" parsing, bounds.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "lmhead/plan.h"
#include "planner/plan_test_util.h"

namespace lmhead {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

std::string Fixture(const std::string& name) {
  return std::string(LMHEAD_SOURCE_DIR) + "/tests/fixtures/configs/" + name;
}

TEST(LoadModelDimsTest, RealConfigs) {
  const struct {
    const char* file;
    int64_t hidden_size, vocab_size;
  } kConfigs[] = {{"deepseek_v3_config.json", 7168, 129280},
                  {"llama3_70b_config.json", 8192, 128256},
                  {"qwen2_5_72b_config.json", 8192, 152064}};
  for (const auto& config : kConfigs) {
    Result<ModelDims> dims = LoadModelDims(Fixture(config.file));
    ASSERT_TRUE(dims.ok()) << dims.status().ToString();
    EXPECT_EQ(dims->hidden_size, config.hidden_size);
    EXPECT_EQ(dims->vocab_size, config.vocab_size);
    EXPECT_THAT(dims->name, HasSubstr(config.file));
  }
  // A model directory works when it holds config.json, and names the file when it does not.
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("lmhead_inputs_test_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  EXPECT_THAT(LoadModelDims(dir.string()).status().message(), HasSubstr("config.json"));
  std::filesystem::copy_file(Fixture("qwen2_5_72b_config.json"), dir / "config.json");
  Result<ModelDims> from_dir = LoadModelDims(dir.string());
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(from_dir.ok()) << from_dir.status().ToString();
  EXPECT_EQ(from_dir->vocab_size, 152064);
}

TEST(LoadModelDimsTest, BrokenConfigsNameTheProblem) {
  const struct {
    const char* file;
    StatusCode code;
    const char* message;
  } kCases[] = {
      {"does_not_exist.json", StatusCode::kNotFound, "does not exist"},
      {"broken_truncated.json", StatusCode::kInvalidArgument, "is not valid JSON"},
      {"broken_not_object.json", StatusCode::kInvalidArgument, "holds a JSON array"},
      {"broken_missing_vocab_size.json", StatusCode::kInvalidArgument, "has no \"vocab_size\""},
      {"gpt2_config.json", StatusCode::kInvalidArgument, "has no \"hidden_size\""},
      {"multimodal_text_config.json", StatusCode::kInvalidArgument, "under \"text_config\""},
      {"broken_hidden_size_string.json", StatusCode::kInvalidArgument, "\"hidden_size\" in '"},
      {"broken_hidden_size_float.json", StatusCode::kInvalidArgument, "is 8192.5, not a positive"},
      {"broken_vocab_size_zero.json", StatusCode::kInvalidArgument, "is 0, not a positive"},
      {"broken_vocab_size_negative.json", StatusCode::kInvalidArgument,
       "is -128256, not a positive"},
  };
  for (const auto& c : kCases) {
    Result<ModelDims> dims = LoadModelDims(Fixture(c.file));
    ASSERT_FALSE(dims.ok()) << c.file;
    EXPECT_EQ(dims.status().code(), c.code) << c.file;
    EXPECT_THAT(dims.status().message(), AllOf(HasSubstr("[LoadModelDims]"), HasSubstr(c.message)))
        << c.file;
  }
  EXPECT_THAT(LoadModelDims(Fixture("broken_hidden_size_string.json")).status().message(),
              HasSubstr("is \"8192\", not a positive integer"));
}

TEST(ModelPresetTest, DeepSeekV3) {
  Result<ModelDims> dims = FindModelPreset("deepseek-v3");
  ASSERT_TRUE(dims.ok());
  EXPECT_EQ(dims->hidden_size, 7168);
  EXPECT_EQ(dims->vocab_size, 129280);
  EXPECT_THAT(FindModelPreset("llama").status().message(),
              AllOf(HasSubstr("unknown model 'llama'"), HasSubstr("deepseek-v3")));
}

// spec §2: core grids, DRAM banks and L1 per preset.
TEST(DevicePresetTest, FactsFromSpec) {
  const struct {
    const char* name;
    int64_t x, y, banks, l1;
  } kDevices[] = {{"wormhole_b0-galaxy", 8, 8, 12, 1'499'136},
                  {"wormhole_b0-n300", 8, 7, 12, 1'499'136},
                  {"wormhole_b0-n150", 8, 8, 12, 1'499'136},
                  {"wormhole_b0-galaxy-col", 7, 10, 12, 1'499'136},
                  {"wormhole_b0-galaxy-eth", 8, 10, 12, 1'499'136},
                  {"blackhole-p150", 13, 10, 8, 1'572'864},
                  {"blackhole-p150-harvested", 11, 10, 8, 1'572'864}};
  for (const auto& device : kDevices) {
    Result<DeviceSpec> spec = FindDevicePreset(device.name);
    ASSERT_TRUE(spec.ok()) << device.name;
    EXPECT_EQ(spec->core_grid, (CoreCoord{device.x, device.y})) << device.name;
    EXPECT_EQ(spec->num_dram_banks, device.banks) << device.name;
    EXPECT_EQ(spec->l1_bytes, device.l1) << device.name;
  }
  EXPECT_EQ(DevicePresetNames().size(), std::size(kDevices));
  EXPECT_EQ(DevicePresetNames().front(), kDefaultDevicePreset);
  Result<DeviceSpec> unknown = FindDevicePreset("grayskull");
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(unknown.status().message(),
              AllOf(HasSubstr("unknown device 'grayskull'"), HasSubstr("blackhole-p150")));
}

TEST(ParseTest, MeshShapes) {
  EXPECT_EQ(*ParseMeshShape("4x8"), (MeshShape{4, 8}));
  EXPECT_EQ(*ParseMeshShape("1X32"), (MeshShape{1, 32}));
  EXPECT_EQ(ParseMeshShape("4x8")->num_devices(), 32);
  for (const char* bad : {"4x", "x8", "4", "", "4x8x2", "4*8", "a x b", " 4x8", "4x8 ", "-4x8",
                          "0x8", "4x0", "99999999999999999999x1", "64x64"}) {
    Result<MeshShape> shape = ParseMeshShape(bad);
    EXPECT_FALSE(shape.ok()) << bad;
    EXPECT_EQ(shape.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(shape.status().message(), HasSubstr("[ParseMeshShape]")) << bad;
  }
  EXPECT_THAT(ParseMeshShape("0x8").status().message(), HasSubstr("outside [1, 256]"));
  EXPECT_THAT(ParseMeshShape("64x64").status().message(), HasSubstr("4096 devices"));
}

TEST(ParseTest, CoreGridsAndModes) {
  EXPECT_EQ(*ParseCoreGrid("7x10"), (CoreCoord{7, 10}));
  EXPECT_FALSE(ParseCoreGrid("8").ok());
  EXPECT_FALSE(ParseCoreGrid("0x8").ok());
  EXPECT_FALSE(ParseCoreGrid("65x1").ok());
  EXPECT_EQ(*ParseCompatMode("tt-v3"), CompatMode::kTtV3);
  EXPECT_EQ(*ParseCompatMode("seed"), CompatMode::kSeed);
  EXPECT_THAT(ParseCompatMode("v3").status().message(), HasSubstr("seed, tt-v3 or tt-v4"));
  EXPECT_EQ(*ParsePlanMode("prefill"), PlanMode::kPrefill);
  EXPECT_FALSE(ParsePlanMode("train").ok());
}

// Plan() checks its own inputs too: a library caller can pass anything.
TEST(PlanInputsTest, OutOfRangeValuesAreUserErrors) {
  MeshDesc mesh = MakeMesh(4, 8);
  EXPECT_THAT(Plan(ModelDims{0, 129280, "m"}, mesh, {}).status().message(),
              HasSubstr("hidden_size is 0"));
  EXPECT_THAT(Plan(ModelDims{7168, -1, "m"}, mesh, {}).status().message(),
              HasSubstr("vocab_size is -1"));
  PlanOptions options;
  options.seq_len = 0;
  EXPECT_THAT(Plan(kDeepSeekV3, mesh, options).status().message(),
              HasSubstr("prefill seq_len is 0"));
  options.mode = PlanMode::kDecode;  // Decode ignores seq_len.
  EXPECT_TRUE(Plan(kDeepSeekV3, mesh, options).ok());
  MeshDesc bad = mesh;
  bad.shape.rows = 0;
  EXPECT_THAT(Plan(kDeepSeekV3, bad, {}).status().message(), HasSubstr("mesh rows is 0"));
  bad = mesh;
  bad.device.core_grid = {0, 8};
  EXPECT_THAT(Plan(kDeepSeekV3, bad, {}).status().message(), HasSubstr("core grid x is 0"));
  bad = mesh;
  bad.device.num_dram_banks = 0;
  EXPECT_THAT(Plan(kDeepSeekV3, bad, {}).status().message(),
              HasSubstr("number of DRAM banks is 0"));
  options = {};
  options.input_num_cores = -1;
  EXPECT_THAT(Plan(kDeepSeekV3, mesh, options).status().message(),
              HasSubstr("input_num_cores override is -1"));
}

}  // namespace
}  // namespace lmhead
