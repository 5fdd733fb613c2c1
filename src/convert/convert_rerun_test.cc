// SPDX-License-Identifier: Apache-2.0
// convert re-runs: reuse of valid shards, rebuild of stale ones, interrupted runs, determinism.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>

#include "io/io_test_util.h"
#include "lmhead/convert.h"
#include "lmhead/weights.h"

namespace lmhead {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class ConvertRerunTest : public ::testing::Test {
 protected:
  void SetUp() override { Synth(dir_.Path("ckpt"), 5); }

  static void Synth(const std::string& out, uint64_t seed) {
    SynthOptions synth;
    synth.out_dir = out;
    synth.model = {128, 2048, "test"};
    synth.seed = seed;
    ASSERT_TRUE(SynthesizeCheckpoint(synth).ok());
  }

  ConvertReport Convert(MeshShape mesh = {2, 4}, int threads = 0,
                        TileFormat format = TileFormat::kBfp4b, const std::string& out = "") {
    ConvertOptions options;
    options.checkpoint = dir_.Path("ckpt");
    options.out_dir = out.empty() ? dir_.Path("w") : out;
    options.mesh = mesh;
    options.num_threads = threads;
    options.format = format;
    Result<ConvertReport> report = ConvertCheckpoint(options);
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return report.ok() ? *report : ConvertReport{};
  }

  // Every file of a directory with its bytes.
  static std::map<std::string, std::string> Snapshot(const std::string& dir) {
    std::map<std::string, std::string> files;
    for (const auto& entry : fs::directory_iterator(dir)) {
      files[entry.path().filename().string()] = ReadBytes(entry.path().string());
    }
    return files;
  }

  void ExpectAllVerify(const std::string& dir) {
    Result<WeightsDir> weights = WeightsDir::Open(dir);
    ASSERT_TRUE(weights.ok()) << weights.status().ToString();
    for (const auto& shard : weights->manifest().shards) {
      EXPECT_TRUE(weights->VerifyShard(shard.device_idx).ok()) << shard.file;
    }
  }

  ScratchDir dir_;
};

TEST_F(ConvertRerunTest, SameInputsReuseEveryShardAndChangeNoByte) {
  EXPECT_EQ(Convert().shards_written, 8);
  const auto before = Snapshot(dir_.Path("w"));
  EXPECT_EQ(before.size(), 9u);  // 8 shards + manifest, no temp files.
  const ConvertReport again = Convert();
  EXPECT_EQ(again.shards_reused, 8);
  EXPECT_EQ(again.shards_written, 0);
  EXPECT_EQ(Snapshot(dir_.Path("w")), before);
}

TEST_F(ConvertRerunTest, DamagedOrMissingShardsAreRebuiltAlone) {
  Convert();
  const auto before = Snapshot(dir_.Path("w"));
  std::string damaged = before.at("device_003.shard");
  damaged[damaged.size() - 7] ^= 0x10;  // Inside the last bank blob.
  WriteBytes(dir_.Path("w/device_003.shard"), damaged);
  WriteBytes(dir_.Path("w/device_005.shard"), before.at("device_005.shard").substr(0, 5000));
  fs::remove(dir_.Path("w/device_006.shard"));
  const ConvertReport report = Convert();
  EXPECT_EQ(report.shards_written, 3);
  EXPECT_EQ(report.shards_reused, 5);
  EXPECT_EQ(Snapshot(dir_.Path("w")), before);
  ExpectAllVerify(dir_.Path("w"));
}

// A run killed after renaming shards but before writing the manifest, with
// temp files left behind: nothing looks complete, and the next run finishes it.
TEST_F(ConvertRerunTest, InterruptedRunLeavesNothingThatLooksComplete) {
  Convert();
  const auto before = Snapshot(dir_.Path("w"));
  fs::remove(dir_.Path("w/manifest.json"));
  WriteBytes(dir_.Path("w/device_002.shard.tmp-999-0"),
             before.at("device_002.shard").substr(0, 100));
  WriteBytes(dir_.Path("w/manifest.json.tmp-999-1"), "{");
  const Status open = WeightsDir::Open(dir_.Path("w")).status();
  EXPECT_EQ(open.code(), StatusCode::kNotFound);
  EXPECT_THAT(open.message(), HasSubstr("did not finish"));
  const ConvertReport report = Convert();
  EXPECT_EQ(report.shards_reused, 8);
  EXPECT_EQ(Snapshot(dir_.Path("w")), before);  // Temp files gone, manifest back.
}

TEST_F(ConvertRerunTest, NewSourceFormatOrMeshRebuilds) {
  Convert();
  const auto first = Snapshot(dir_.Path("w"));
  Synth(dir_.Path("ckpt"), 6);  // Same shape, other values: the source hash changes.
  EXPECT_EQ(Convert().shards_written, 8);
  const auto second = Snapshot(dir_.Path("w"));
  EXPECT_NE(second.at("device_000.shard"), first.at("device_000.shard"));
  EXPECT_NE(second.at("manifest.json"), first.at("manifest.json"));
  EXPECT_EQ(Convert({2, 4}, 0, TileFormat::kBfp8b).shards_written, 8);
  // A smaller mesh in the same directory removes the shards it no longer has.
  EXPECT_EQ(Convert({1, 2}).shards_written, 2);
  EXPECT_EQ(Snapshot(dir_.Path("w")).size(), 3u);
  ExpectAllVerify(dir_.Path("w"));
}

TEST_F(ConvertRerunTest, BytesDoNotDependOnTheThreadCount) {
  Convert({2, 4}, 1, TileFormat::kBfp4b, dir_.Path("one"));
  Convert({2, 4}, 3, TileFormat::kBfp4b, dir_.Path("three"));
  EXPECT_EQ(Snapshot(dir_.Path("one")), Snapshot(dir_.Path("three")));
}

}  // namespace
}  // namespace lmhead
