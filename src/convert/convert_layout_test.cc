// SPDX-License-Identifier: Apache-2.0
// convert on small models: every shard tile equals the spec quantisation of the right W^T slice.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "convert/convert_test_util.h"
#include "io/io_test_util.h"
#include "lmhead/convert.h"
#include "lmhead/weights.h"

namespace lmhead {
namespace {

struct LayoutCase {
  const char* name;
  int64_t hidden, vocab, mesh_rows, mesh_cols;
  TileFormat format;
  SafetensorsDtype dtype;
  int shards;  // > 1: index form.
  bool tied;   // Head stored as the tied embedding.
  bool pad;    // --pad-vocab.
};

void PrintTo(const LayoutCase& c, std::ostream* os) { *os << c.name; }

class ConvertLayoutTest : public ::testing::TestWithParam<LayoutCase> {};

// Compares one tile against the quantisation of W^T[32 kt.., device columns].
void CheckTile(const LayoutCase& c, const std::vector<float>& w, const ShardGeometry& g,
               int64_t device_idx, const BankTiles& bank, int64_t kt, int64_t nt, int bits) {
  const uint8_t* tile = bank.tiles + (kt * bank.n_tiles + nt) * TileBytes(g.format);
  const std::array<double, 1024> decoded = testing::DecodeTile(tile, bits);
  for (int row = 0; row < 32; ++row) {
    for (int half = 0; half < 2; ++half) {
      float group[16];
      for (int j = 0; j < 16; ++j) {
        const int64_t h = kt * 32 + row;
        const int64_t dcol = bank.col_begin + nt * 32 + half * 16 + j;
        const int64_t v = device_idx * g.cols() + dcol;
        const bool real = h < c.hidden && dcol < g.cols() && v < c.vocab;
        group[j] = real ? w[static_cast<size_t>(v * c.hidden + h)] : 0.0f;  // W^T[h, v] = W[v, h].
      }
      const std::array<double, 16> want = testing::QuantizeGroup(group, bits);
      for (int j = 0; j < 16; ++j) {
        ASSERT_EQ(decoded[static_cast<size_t>(row * 32 + half * 16 + j)], want[j])
            << "device " << device_idx << " bank col " << bank.col_begin << " tile (" << kt << ", "
            << nt << ") row " << row << " col " << half * 16 + j;
      }
    }
  }
}

TEST_P(ConvertLayoutTest, ShardsHoldTheQuantisedTransposedSlices) {
  const LayoutCase& c = GetParam();
  ScratchDir dir;
  SynthOptions synth;
  synth.out_dir = dir.Path("ckpt");
  synth.model = {c.hidden, c.vocab, "test"};
  synth.dtype = c.dtype;
  synth.seed = 11;
  synth.tied_embedding = c.tied;
  synth.num_shards = c.shards;
  Result<SynthReport> synth_report = SynthesizeCheckpoint(synth);
  ASSERT_TRUE(synth_report.ok()) << synth_report.status().ToString();

  ConvertOptions options;
  options.checkpoint = synth.out_dir;
  options.out_dir = dir.Path("weights");
  options.mesh = {c.mesh_rows, c.mesh_cols};
  options.format = c.format;
  options.pad_vocab = c.pad;
  Result<ConvertReport> report = ConvertCheckpoint(options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->tensor_name, c.tied ? "model.embed_tokens.weight" : "lm_head.weight");

  Result<Checkpoint> checkpoint = Checkpoint::Open(synth.out_dir);
  ASSERT_TRUE(checkpoint.ok());
  Result<CheckpointTensor> head = checkpoint->Load(report->tensor_name);
  ASSERT_TRUE(head.ok());
  const std::vector<float> w = testing::ReadHead(head->view);

  Result<WeightsDir> weights = WeightsDir::Open(options.out_dir);
  ASSERT_TRUE(weights.ok()) << weights.status().ToString();
  const ShardGeometry& g = weights->manifest().geometry;
  EXPECT_EQ(g.num_devices(), c.mesh_rows * c.mesh_cols);
  EXPECT_EQ(g.valid_vocab_size, c.vocab);
  EXPECT_EQ(g.vocab_size % g.num_devices(), 0);
  const int bits = c.format == TileFormat::kBfp4b ? 3 : 7;
  for (int64_t device_idx = 0; device_idx < g.num_devices(); ++device_idx) {
    SCOPED_TRACE(fmt::format("device {}", device_idx));
    Result<DeviceShard> shard = weights->MapDevice(device_idx, VerifyLevel::kFull);
    ASSERT_TRUE(shard.ok()) << shard.status().ToString();
    for (const BankTiles& bank : shard->banks()) {
      for (int64_t kt = 0; kt < bank.k_tiles; ++kt) {
        for (int64_t nt = 0; nt < bank.n_tiles; ++nt) {
          CheckTile(c, w, g, device_idx, bank, kt, nt, bits);
          if (::testing::Test::HasFatalFailure()) return;
        }
      }
    }
    EXPECT_TRUE(weights->VerifyShard(device_idx).ok());
  }
}

// H = 256, V = 4096 on 1x1, 2x4 and 4x8 (the small model); V = 1000 whose
// per-device width (125) is not a multiple of 32 * banks; bfp8_b from F32 and
// tied F16 heads; an index-form checkpoint; and a padded vocabulary.
INSTANTIATE_TEST_SUITE_P(
    SmallModels, ConvertLayoutTest,
    ::testing::Values(LayoutCase{"h256_v4096_1x1", 256, 4096, 1, 1, TileFormat::kBfp4b,
                                 SafetensorsDtype::kBF16, 1, false, false},
                      LayoutCase{"h256_v4096_2x4_index", 256, 4096, 2, 4, TileFormat::kBfp4b,
                                 SafetensorsDtype::kBF16, 3, false, false},
                      LayoutCase{"h256_v4096_4x8", 256, 4096, 4, 8, TileFormat::kBfp4b,
                                 SafetensorsDtype::kBF16, 1, false, false},
                      LayoutCase{"h256_v1000_2x4", 256, 1000, 2, 4, TileFormat::kBfp4b,
                                 SafetensorsDtype::kBF16, 1, false, false},
                      LayoutCase{"h96_v4000_1x8_bfp8_f32", 96, 4000, 1, 8, TileFormat::kBfp8b,
                                 SafetensorsDtype::kF32, 1, false, false},
                      LayoutCase{"h64_v1000_4x8_pad_tied_f16", 64, 1000, 4, 8, TileFormat::kBfp4b,
                                 SafetensorsDtype::kF16, 2, true, true}),
    [](const ::testing::TestParamInfo<LayoutCase>& param_info) {
      return std::string(param_info.param.name);
    });

}  // namespace
}  // namespace lmhead
