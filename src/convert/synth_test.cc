// SPDX-License-Identifier: Apache-2.0
// lmhead synth: file layout, determinism, trained-like statistics; the F16 converter.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "convert/convert_test_util.h"
#include "convert/synth_values.h"
#include "formats/half.h"
#include "io/io_test_util.h"
#include "lmhead/convert.h"

namespace lmhead {
namespace {

using ::testing::HasSubstr;

SynthOptions Options(const std::string& out, int64_t hidden, int64_t vocab) {
  SynthOptions options;
  options.out_dir = out;
  options.model = {hidden, vocab, "test"};
  options.seed = 42;
  return options;
}

TEST(SynthTest, WritesTheGeneratorsValuesDeterministically) {
  ScratchDir dir;
  SynthOptions options = Options(dir.Path("a"), 256, 1000);
  options.num_threads = 1;
  ASSERT_TRUE(SynthesizeCheckpoint(options).ok());
  options.out_dir = dir.Path("b");
  options.num_threads = 3;
  ASSERT_TRUE(SynthesizeCheckpoint(options).ok());
  const std::string a = ReadBytes(dir.Path("a/model.safetensors"));
  EXPECT_EQ(a, ReadBytes(dir.Path("b/model.safetensors")));
  EXPECT_EQ(ReadBytes(dir.Path("a/config.json")), ReadBytes(dir.Path("b/config.json")));
  EXPECT_THAT(ReadBytes(dir.Path("a/config.json")), HasSubstr("\"tie_word_embeddings\": false"));

  Result<Checkpoint> checkpoint = Checkpoint::Open(dir.Path("a"));
  ASSERT_TRUE(checkpoint.ok());
  Result<CheckpointTensor> head = checkpoint->Load("lm_head.weight");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->view.info->shape, (std::vector<int64_t>{1000, 256}));
  const std::vector<float> w = testing::ReadHead(head->view);
  for (int64_t row : {0, 1, 517, 999}) {
    for (int64_t col : {0, 3, 255}) {
      EXPECT_EQ(w[static_cast<size_t>(row * 256 + col)],
                Bf16ToFp32(Fp32ToBf16(SynthValue(42, 256, row, col))));
    }
  }
}

// Row norms spread log-normally, elements are heavy-tailed, a few hidden
// columns are outliers: the statistics that make a bfp4_b head non-trivial.
TEST(SynthTest, ValuesLookTrained) {
  constexpr int64_t kHidden = 2048, kRows = 512;
  const SynthGenerator generator(9, kHidden);
  std::vector<float> w(static_cast<size_t>(kRows * kHidden));
  for (int64_t row = 0; row < kRows; ++row) {
    generator.Row(row, std::span(w).subspan(static_cast<size_t>(row * kHidden), kHidden));
  }
  EXPECT_EQ(w[5 * kHidden + 7], SynthValue(9, kHidden, 5, 7));
  std::vector<double> row_std, col_sq(kHidden, 0.0);
  for (int64_t row = 0; row < kRows; ++row) {
    double row_sum2 = 0;
    for (int64_t col = 0; col < kHidden; ++col) {
      const double value = w[static_cast<size_t>(row * kHidden + col)];
      row_sum2 += value * value;
      col_sq[static_cast<size_t>(col)] += value * value;
    }
    row_std.push_back(std::sqrt(row_sum2 / kHidden));
  }
  // Kurtosis of the row-normalised values (a Gaussian has 3).
  double sum2 = 0, sum4 = 0;
  for (int64_t row = 0; row < kRows; ++row) {
    for (int64_t col = 0; col < kHidden; ++col) {
      const double z =
          w[static_cast<size_t>(row * kHidden + col)] / row_std[static_cast<size_t>(row)];
      sum2 += z * z;
      sum4 += z * z * z * z;
    }
  }
  const double n = static_cast<double>(kRows * kHidden);
  EXPECT_GT((sum4 / n) / ((sum2 / n) * (sum2 / n)), 6.0);
  std::sort(row_std.begin(), row_std.end());
  EXPECT_GT(row_std[kRows * 95 / 100] / row_std[kRows * 5 / 100], 2.0);  // Log-normal spread.
  EXPECT_GT(row_std[kRows / 2], 0.01);
  EXPECT_LT(row_std[kRows / 2], 0.04);
  std::sort(col_sq.begin(), col_sq.end());
  EXPECT_GT(col_sq.back() / col_sq[kHidden / 2], 9.0);  // Outlier columns, >= 3x in std.
  EXPECT_EQ(generator.outlier_cols().size(), 3u);       // One per 1024 columns, plus one.
}

TEST(SynthTest, IndexFormAndTiedEmbeddings) {
  ScratchDir dir;
  SynthOptions options = Options(dir.Path("c"), 64, 300);
  options.num_shards = 3;
  Result<SynthReport> report = SynthesizeCheckpoint(options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->head_file, "model-00003-of-00003.safetensors");
  const std::string index = ReadBytes(dir.Path("c/model.safetensors.index.json"));
  EXPECT_THAT(index, HasSubstr("\"lm_head.weight\": \"model-00003-of-00003.safetensors\""));
  Result<Checkpoint> checkpoint = Checkpoint::Open(dir.Path("c"));
  ASSERT_TRUE(checkpoint.ok());
  EXPECT_TRUE(checkpoint->indexed());
  EXPECT_TRUE(checkpoint->Load("lm_head.weight").ok());
  EXPECT_TRUE(checkpoint->Load("model.layers.0.input_layernorm.weight").ok());

  options.out_dir = dir.Path("t");
  options.tied_embedding = true;
  options.num_shards = 1;
  ASSERT_TRUE(SynthesizeCheckpoint(options).ok());
  checkpoint = Checkpoint::Open(dir.Path("t"));
  ASSERT_TRUE(checkpoint.ok());
  EXPECT_FALSE(checkpoint->Contains("lm_head.weight"));
  EXPECT_TRUE(checkpoint->Contains("model.embed_tokens.weight"));
  EXPECT_THAT(ReadBytes(dir.Path("t/config.json")), HasSubstr("\"tie_word_embeddings\": true"));
}

TEST(SynthTest, RejectsBadOptions) {
  ScratchDir dir;
  SynthOptions options = Options(dir.Path("x"), 64, 300);
  options.dtype = SafetensorsDtype::kI32;
  EXPECT_THAT(SynthesizeCheckpoint(options).status().message(), HasSubstr("use bf16, f16 or f32"));
  options = Options(dir.Path("x"), 0, 300);
  EXPECT_EQ(SynthesizeCheckpoint(options).status().code(), StatusCode::kInvalidArgument);
  options = Options(dir.Path("x"), 64, 300);
  options.num_shards = 0;
  EXPECT_EQ(SynthesizeCheckpoint(options).status().code(), StatusCode::kInvalidArgument);
  for (const int num_threads : {-1, kMaxThreads + 1}) {
    options = Options(dir.Path("x"), 64, 300);
    options.num_threads = num_threads;
    EXPECT_THAT(SynthesizeCheckpoint(options).status().message(),
                HasSubstr("num_threads=" + std::to_string(num_threads)));
  }
  EXPECT_FALSE(std::filesystem::exists(dir.Path("x")));
}

// binary16 values from the IEEE definition: 1, the largest finite, overflow,
// the smallest subnormal, ties to even, NaN, a negative and 0.1 (0x2E66).
TEST(HalfTest, RoundsToNearestEven) {
  EXPECT_EQ(Fp32ToF16(1.0f), 0x3C00);
  EXPECT_EQ(Fp32ToF16(65504.0f), 0x7BFF);
  EXPECT_EQ(Fp32ToF16(65519.0f), 0x7BFF);
  EXPECT_EQ(Fp32ToF16(65520.0f), 0x7C00);
  EXPECT_EQ(Fp32ToF16(std::ldexp(1.0f, -24)), 0x0001);
  EXPECT_EQ(Fp32ToF16(std::ldexp(1.0f, -25)), 0x0000);
  EXPECT_EQ(Fp32ToF16(std::ldexp(3.0f, -25)), 0x0002);
  EXPECT_EQ(Fp32ToF16(1.0f + std::ldexp(1.0f, -11)), 0x3C00);
  EXPECT_EQ(Fp32ToF16(1.0f + std::ldexp(3.0f, -11)), 0x3C02);
  EXPECT_EQ(Fp32ToF16(NAN) & 0x7E00, 0x7E00);
  EXPECT_EQ(Fp32ToF16(-2.0f), 0xC000);
  EXPECT_EQ(Fp32ToF16(0.1f), 0x2E66);
  for (uint32_t bits = 0; bits < 0x7C00; bits += 37) {
    const auto half = static_cast<uint16_t>(bits);
    EXPECT_EQ(F16ToFp32(half), testing::HalfToFloat(half));
    EXPECT_EQ(Fp32ToF16(F16ToFp32(half)), half);
  }
}

}  // namespace
}  // namespace lmhead
