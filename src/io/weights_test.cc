// SPDX-License-Identifier: Apache-2.0
// manifest.json parsing and the WeightsDir loader on hand-built shard files.
#include "lmhead/weights.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <xxhash.h>

#include <cstring>
#include <string>
#include <vector>

#include "io/file_util.h"
#include "io/io_test_util.h"
#include "io/shard_file.h"
#include "io/shard_test_geometry.h"

namespace lmhead {
namespace {

using ::testing::HasSubstr;

// Tile (kt, nt) of every bank holds the single value ((kt * 3 + nt) % 7 + 1) / 4:
// shared exponents 127 and every bfp4 magnitude equal (spec tt-numerics §1.1).
std::string ShardBytes(const ShardGeometry& g, int64_t device_idx, ShardHeader* header) {
  *header = MakeShardHeader(g, device_idx, ShardSourceDtype::kBF16, 0xABCD);
  std::string file(header->file_bytes, '\0');
  for (ShardBankEntry& bank : header->banks) {
    for (int64_t tile_idx = 0; tile_idx < g.k_tiles() * g.bank_n_tiles(); ++tile_idx) {
      char* tile = file.data() + bank.offset + tile_idx * 576;
      const int mag = static_cast<int>(tile_idx % 7) + 1;
      std::memset(tile, 127, 64);
      std::memset(tile + 64, mag | (mag << 4), 512);
    }
    bank.xxh3 = XXH3_64bits(file.data() + bank.offset, bank.bytes);
  }
  const std::vector<std::byte> encoded = EncodeShardHeader(header);
  std::memcpy(file.data(), encoded.data(), encoded.size());
  return file;
}

WeightsManifest WriteWeights(const ScratchDir& dir) {
  WeightsManifest m;
  m.geometry = SmallShardGeometry();
  m.device = "wormhole_b0-galaxy";
  m.plan_json = R"({"compat":"seed"})";
  m.source_checkpoint = "/ckpt";
  m.source_tensor = "lm_head.weight";
  m.source_dtype = "BF16";
  m.source_shape = {390, 64};
  m.source_xxh3 = 0xABCD;
  m.source_files = {{"model.safetensors", 123}};
  for (int64_t device_idx = 0; device_idx < 2; ++device_idx) {
    ShardHeader header;
    const std::string bytes = ShardBytes(m.geometry, device_idx, &header);
    WriteBytes(dir.Path(ShardFileName(device_idx)), bytes);
    m.shards.push_back({ShardFileName(device_idx),
                        device_idx,
                        0,
                        device_idx,
                        bytes.size(),
                        XXH3_64bits(bytes.data(), bytes.size()),
                        device_idx * 200,
                        200,
                        device_idx == 0 ? 200 : 190,
                        {96, 96, 8}});
  }
  WriteBytes(dir.Path("manifest.json"), WeightsManifestToJson(m));
  return m;
}

TEST(WeightsManifestTest, RoundTripsAndRejectsDamage) {
  ScratchDir dir;
  const WeightsManifest m = WriteWeights(dir);
  const std::string text = ReadBytes(dir.Path("manifest.json"));
  Result<WeightsManifest> parsed = ParseWeightsManifest(text, "manifest.json");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(WeightsManifestToJson(*parsed), text);
  EXPECT_EQ(parsed->shards[1].xxh3, m.shards[1].xxh3);
  EXPECT_EQ(parsed->geometry.valid_vocab_size, 390);

  struct Damage {
    std::string from, to, message;
  };
  const std::vector<Damage> damages = {
      {R"("hidden_size": 64)", R"("hidden_size": "64")", "model.hidden_size is not an integer"},
      {R"("format": "lmhead-weights")", R"("format": "other")", "format is not"},
      {R"("shard_w": 96)", R"("shard_w": 128)", "shard_w 128 differs"},
      {R"("tensor": "lm_head.weight",)", "", "source.tensor is missing"},
      {R"("file": "device_001.shard")", R"("file": "device_007.shard")",
       "does not describe device 1"},
      {HexU64(m.shards[0].xxh3), "xyz", "shards[0].xxh3 is not 16 lower-case hex digits"},
  };
  for (const Damage& damage : damages) {
    SCOPED_TRACE(damage.from);
    std::string bad = text;
    const size_t at = bad.find(damage.from);
    ASSERT_NE(at, std::string::npos);
    bad.replace(at, damage.from.size(), damage.to);
    Result<WeightsManifest> result = ParseWeightsManifest(bad, "manifest.json");
    ASSERT_FALSE(result.ok());
    EXPECT_THAT(result.status().message(), HasSubstr(damage.message));
  }
  EXPECT_EQ(ParseWeightsManifest("[", "m").status().code(), StatusCode::kCorruption);
}

TEST(WeightsDirTest, MapsBanksAndDequantises) {
  ScratchDir dir;
  WriteWeights(dir);
  Result<WeightsDir> weights = WeightsDir::Open(dir.Path());
  ASSERT_TRUE(weights.ok()) << weights.status().ToString();
  Result<DeviceShard> shard = weights->MapDevice(1, VerifyLevel::kFull);
  ASSERT_TRUE(shard.ok()) << shard.status().ToString();
  ASSERT_EQ(shard->banks().size(), 3u);
  for (const BankTiles& bank : shard->banks()) {
    EXPECT_EQ(reinterpret_cast<uintptr_t>(bank.tiles) % 4096, 0u);
    EXPECT_EQ(bank.k_tiles, 2);
    EXPECT_EQ(bank.n_tiles, 3);
  }
  EXPECT_EQ(shard->banks()[2].col_begin, 192);
  EXPECT_EQ(shard->banks()[2].cols, 8);
  EXPECT_EQ(shard->col_offset(), 200);
  EXPECT_EQ(shard->valid_cols(), 190);
  const std::vector<float> values = DequantizeDeviceSlice(*shard);
  ASSERT_EQ(values.size(), 64u * 200);
  for (int64_t row = 0; row < 64; row += 7) {
    for (int64_t col = 0; col < 200; col += 5) {
      const int64_t bank = col / 96, nt = (col % 96) / 32, kt = row / 32;
      const float want = static_cast<float>((kt * 3 + nt) % 7 + 1) * 0.25f;
      ASSERT_EQ(values[static_cast<size_t>(row * 200 + col)], want)
          << "row " << row << " col " << col << " bank " << bank;
    }
  }
  EXPECT_TRUE(weights->VerifyShard(0).ok());
  EXPECT_EQ(weights->MapDevice(2, VerifyLevel::kHeader).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(WeightsDirTest, DetectsDamageAndMismatchedPlans) {
  ScratchDir dir;
  WriteWeights(dir);
  Result<WeightsDir> weights = WeightsDir::Open(dir.Path());
  ASSERT_TRUE(weights.ok());
  WeightsExpectation want{64, 400, 1, 2, "wormhole_b0-galaxy", TileFormat::kBfp4b, 3, 96};
  EXPECT_TRUE(weights->CheckMatches(want).ok());
  want.mesh_cols = 4;
  want.format = TileFormat::kBfp8b;
  const Status mismatch = weights->CheckMatches(want);
  EXPECT_EQ(mismatch.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(mismatch.message(), HasSubstr("mesh_cols 2 (plan: 4)"));
  EXPECT_THAT(mismatch.message(), HasSubstr("format bfp4_b (plan: bfp8_b)"));
  EXPECT_THAT(mismatch.message(), HasSubstr("lmhead convert"));

  std::string bytes = ReadBytes(dir.Path("device_001.shard"));
  bytes[4096 + 10] ^= 0x40;  // A mantissa byte in bank 0.
  WriteBytes(dir.Path("device_001.shard"), bytes);
  EXPECT_TRUE(weights->MapDevice(1, VerifyLevel::kHeader).ok());
  EXPECT_THAT(weights->VerifyShard(1).message(), HasSubstr("bank 0 blob"));
  WriteBytes(dir.Path("device_000.shard"), "short");
  EXPECT_THAT(weights->VerifyShard(0).message(), HasSubstr("truncated or replaced"));

  std::filesystem::remove(dir.Path("manifest.json"));
  const Status missing = WeightsDir::Open(dir.Path()).status();
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_THAT(missing.message(), HasSubstr("did not finish"));
}

}  // namespace
}  // namespace lmhead
