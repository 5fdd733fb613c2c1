// SPDX-License-Identifier: Apache-2.0
// End-to-end tests of the engine on small synthetic models: synth -> convert ->
// LmHead, checked against float64 references computed here from the
// dequantised shards and from the unquantised checkpoint values.
#include "lmhead/lm_head.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <span>

#include "engine/engine_test_util.h"
#include "kernels/reference.h"
#include "lmhead/convert.h"
#include "lmhead/formats.h"
#include "lmhead/weights.h"

namespace lmhead {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kHidden = 256;
constexpr uint64_t kSeed = 11;

// A converted small model in a fresh temporary directory.
struct Model {
  fs::path root;
  std::string weights;
  int64_t vocab = 0;
};

Model MakeModel(const std::string& name, int64_t vocab, MeshShape mesh, bool pad_vocab = false) {
  Model model;
  model.root = fs::path(::testing::TempDir()) / ("lm_head_test_" + name);
  model.vocab = vocab;
  model.weights = engine_test::MakeTestWeights(model.root, kHidden, vocab, mesh, kSeed, pad_vocab);
  return model;
}

std::vector<float> RandomActivations(int64_t rows, uint32_t seed) {
  return engine_test::RandomActivations(rows, kHidden, seed);
}

// float64 logits [rows, V] of bf16(x) times `weights(k, v)`.
template <typename WeightFn>
std::vector<double> ReferenceLogits(const std::vector<float>& x, int64_t rows, int64_t vocab,
                                    WeightFn weights) {
  std::vector<double> logits(static_cast<size_t>(rows * vocab), 0.0);
  for (int64_t v = 0; v < vocab; ++v) {
    for (int64_t k = 0; k < kHidden; ++k) {
      const double w = weights(k, v);
      for (int64_t row = 0; row < rows; ++row) {
        logits[static_cast<size_t>(row * vocab + v)] +=
            static_cast<double>(Bf16ToFp32(Fp32ToBf16(x[static_cast<size_t>(row * kHidden + k)]))) *
            w;
      }
    }
  }
  return logits;
}

// The dequantised [H, V] weight, device slices side by side (TT's host unpack).
std::vector<float> DequantizedWeights(const std::string& weights_dir, int64_t vocab) {
  auto dir = WeightsDir::Open(weights_dir);
  EXPECT_TRUE(dir.ok());
  const int64_t num_devices = dir->manifest().geometry.num_devices();
  const int64_t cols = dir->manifest().geometry.cols();
  std::vector<float> w(static_cast<size_t>(kHidden * vocab), 0.0f);
  for (int64_t device_idx = 0; device_idx < num_devices; ++device_idx) {
    auto shard = dir->MapDevice(device_idx, VerifyLevel::kFull);
    EXPECT_TRUE(shard.ok());
    std::vector<float> slice = DequantizeDeviceSlice(*shard);
    for (int64_t k = 0; k < kHidden; ++k) {
      for (int64_t c = 0; c < cols && device_idx * cols + c < vocab; ++c) {
        w[static_cast<size_t>(k * vocab + device_idx * cols + c)] =
            slice[static_cast<size_t>(k * cols + c)];
      }
    }
  }
  return w;
}

double Pcc(std::span<const float> a, const std::vector<double>& b) {
  double mean_a = 0, mean_b = 0;
  for (size_t i = 0; i < a.size(); ++i) mean_a += a[i], mean_b += b[i];
  mean_a /= static_cast<double>(a.size());
  mean_b /= static_cast<double>(b.size());
  double cov = 0, var_a = 0, var_b = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    cov += (a[i] - mean_a) * (b[i] - mean_b);
    var_a += (a[i] - mean_a) * (a[i] - mean_a);
    var_b += (b[i] - mean_b) * (b[i] - mean_b);
  }
  return cov / std::sqrt(var_a * var_b);
}

// Max over rows of max|got - want| / ||want row||_2.
double MaxRowRelativeError(std::span<const float> got, const std::vector<double>& want,
                           int64_t rows, int64_t vocab) {
  double worst = 0;
  for (int64_t row = 0; row < rows; ++row) {
    double norm = 0, err = 0;
    for (int64_t v = 0; v < vocab; ++v) {
      const size_t at = static_cast<size_t>(row * vocab + v);
      norm += want[at] * want[at];
      err = std::max(err, std::abs(static_cast<double>(got[at]) - want[at]));
    }
    worst = std::max(worst, err / std::sqrt(norm));
  }
  return worst;
}

Result<ForwardResult> RunHead(const std::string& weights, Numerics numerics, const char* mode,
                              const std::vector<float>& x, int64_t rows,
                              ForwardOptions options = {}, int64_t input_row_idx = 0) {
  OpenOptions open;
  open.numerics = numerics;
  open.input_row_idx = input_row_idx;
  open.num_threads = 2;
  LMHEAD_ASSIGN_OR_RETURN(std::unique_ptr<LmHead> head, LmHead::Open(weights, open));
  Activations in{x, {}, rows, kHidden};
  return std::string(mode) == "decode" ? head->Decode(in, options) : head->Prefill(in, options);
}

struct MeshCase {
  MeshShape mesh;
  int64_t vocab;
};

class LmHeadMeshTest : public ::testing::TestWithParam<MeshCase> {};

TEST_P(LmHeadMeshTest, Fp32DecodeMatchesFloat64ReferenceFromEveryInputRow) {
  const MeshCase& c = GetParam();
  const Model model =
      MakeModel(fmt::format("mesh{}x{}", c.mesh.rows, c.mesh.cols), c.vocab, c.mesh);
  const std::vector<float> w = DequantizedWeights(model.weights, c.vocab);
  for (int64_t input_row_idx : {int64_t{0}, c.mesh.rows - 1}) {
    for (int64_t rows : {1, 7, 32}) {
      const std::vector<float> x = RandomActivations(rows, static_cast<uint32_t>(rows));
      auto result = RunHead(model.weights, Numerics::kFp32, "decode", x, rows, {}, input_row_idx);
      ASSERT_TRUE(result.ok()) << result.status().ToString();
      const auto want = ReferenceLogits(x, rows, c.vocab, [&](int64_t k, int64_t v) {
        return static_cast<double>(w[static_cast<size_t>(k * c.vocab + v)]);
      });
      ASSERT_EQ(result->logits.size(), want.size());
      EXPECT_GE(Pcc(result->logits, want), 0.99999);
      EXPECT_LT(MaxRowRelativeError(result->logits, want, rows, c.vocab), 1e-5)
          << "rows=" << rows << " input_row_idx=" << input_row_idx;
      EXPECT_EQ(result->num_transfers, (c.mesh.rows - 1) * c.mesh.cols);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Meshes, LmHeadMeshTest,
                         ::testing::Values(MeshCase{{1, 1}, 4096}, MeshCase{{1, 8}, 4096},
                                           MeshCase{{2, 4}, 4096}, MeshCase{{4, 8}, 4096}),
                         [](const ::testing::TestParamInfo<MeshCase>& param_info) {
                           return fmt::format("{}x{}", param_info.param.mesh.rows,
                                              param_info.param.mesh.cols);
                         });

// tt-lofi through the engine equals the scalar reference model run directly on
// each device's shard, bit for bit, and passes TT's own bar (PCC >= 0.98)
// against fp32 logits of the unquantised checkpoint weights.
TEST(LmHeadTest, TtLofiDecodeIsTheReferenceModelAndPassesTtPcc) {
  const int64_t vocab = 4096;
  const Model model = MakeModel("lofi", vocab, MeshShape{2, 4});
  const int64_t rows = 32;
  const std::vector<float> x = RandomActivations(rows, 5);
  auto result = RunHead(model.weights, Numerics::kTtLofi, "decode", x, rows);
  ASSERT_TRUE(result.ok()) << result.status().ToString();

  auto dir = WeightsDir::Open(model.weights);
  ASSERT_TRUE(dir.ok());
  std::vector<uint16_t> x_bf16(x.size());
  for (size_t i = 0; i < x.size(); ++i) x_bf16[i] = Fp32ToBf16(x[i]);
  const int64_t cols = dir->manifest().geometry.cols();
  for (int64_t device_idx = 0; device_idx < 8; ++device_idx) {
    auto shard = dir->MapDevice(device_idx, VerifyLevel::kHeader);
    ASSERT_TRUE(shard.ok());
    std::vector<float> y(static_cast<size_t>(rows * cols), NAN);
    for (const BankTiles& bank : shard->banks()) {
      MatmulArgs args;
      args.x = x_bf16.data();
      args.x_stride = kHidden;
      args.m = rows;
      args.k = kHidden;
      args.w = TileMatrixView{bank.tiles, TileFormat::kBfp4b, bank.k_tiles, bank.n_tiles};
      args.nt_begin = 0;
      args.nt_end = (bank.cols + 31) / 32;
      args.y = y.data() + bank.col_begin;
      args.y_stride = cols;
      args.n_cols = bank.cols;
      // Decode config by hand: Kt = 8, input_num_cores = 8 (largest divisor of
      // Kt <= 64), in0_block_w = find_largest_divisor(8 / 8) = 1; LOFI config.
      args.lofi = LofiOptions{1, true};
      MatmulTtLofiReference(args);
    }
    for (int64_t row = 0; row < rows; ++row) {
      for (int64_t c = 0; c < cols; ++c) {
        const float want = y[static_cast<size_t>(row * cols + c)];
        const float got = result->logits[static_cast<size_t>(row * vocab + device_idx * cols + c)];
        ASSERT_EQ(std::bit_cast<uint32_t>(got), std::bit_cast<uint32_t>(want))
            << "device " << device_idx << " row " << row << " col " << c;
      }
    }
  }
  const auto unquantised = ReferenceLogits(x, rows, vocab, [&](int64_t k, int64_t v) {
    return static_cast<double>(Bf16ToFp32(Fp32ToBf16(SynthValue(kSeed, kHidden, v, k))));
  });
  EXPECT_GE(Pcc(result->logits, unquantised), 0.98);
}

// Prefill around the chunk boundary: S <= 1024 is one matmul, longer S is
// padded to a multiple of 1024 (seed semantics) and the padding dropped.
TEST(LmHeadTest, Fp32PrefillAcrossTheChunkBoundary) {
  const int64_t vocab = 256;
  const Model model = MakeModel("prefill", vocab, MeshShape{1, 2});
  const std::vector<float> w = DequantizedWeights(model.weights, vocab);
  for (int64_t seq_len : {1000, 1024, 1025, 2048, 3000}) {
    const std::vector<float> x = RandomActivations(seq_len, static_cast<uint32_t>(seq_len));
    auto result = RunHead(model.weights, Numerics::kFp32, "prefill", x, seq_len);
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    ASSERT_EQ(result->rows, seq_len);
    const auto want = ReferenceLogits(x, seq_len, vocab, [&](int64_t k, int64_t v) {
      return static_cast<double>(w[static_cast<size_t>(k * vocab + v)]);
    });
    EXPECT_LT(MaxRowRelativeError(result->logits, want, seq_len, vocab), 1e-5) << seq_len;
    const bool chunked = seq_len > 1024;
    bool saw_reshape = false;
    for (const std::string& op : result->trace) saw_reshape |= op.rfind("ttnn.reshape", 0) == 0;
    EXPECT_EQ(saw_reshape, chunked) << seq_len;

    ForwardOptions last;
    last.last_token_only = true;
    auto final_row = RunHead(model.weights, Numerics::kFp32, "prefill", x, seq_len, last);
    ASSERT_TRUE(final_row.ok());
    ASSERT_EQ(final_row->rows, 1);
    // The final position alone matches the float64 reference's last row (the
    // fp32 kernels may sum in another order for one row than for 1024).
    const std::vector<double> want_last(want.end() - vocab, want.end());
    EXPECT_LT(MaxRowRelativeError(final_row->logits, want_last, 1, vocab), 1e-5) << seq_len;
  }
}

// reuse_logits: the call takes the buffer's storage over (no new allocation
// when it is large enough, a fresh one when it is not) and leaves it empty;
// the logits are those of a call without it, against the float64 reference.
TEST(LmHeadTest, PrefillReusesTheLogitStorageItIsGiven) {
  const int64_t vocab = 256;
  const Model model = MakeModel("reuse", vocab, MeshShape{1, 2});
  const std::vector<float> w = DequantizedWeights(model.weights, vocab);
  OpenOptions open;
  open.numerics = Numerics::kFp32;
  open.num_threads = 2;
  auto head = LmHead::Open(model.weights, open);
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  for (const int64_t capacity : {int64_t{700}, int64_t{1}}) {
    const int64_t seq_len = 600;
    const std::vector<float> x = RandomActivations(seq_len, 21);
    LogitBuffer storage(static_cast<size_t>(capacity * vocab), -1.0f);
    const float* old_data = storage.data();
    ForwardOptions options;
    options.reuse_logits = &storage;
    auto result = (*head)->Prefill(Activations{x, {}, seq_len, kHidden}, options);
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_TRUE(storage.empty());
    EXPECT_EQ(result->logits.data() == old_data, capacity >= seq_len) << capacity;
    const auto want = ReferenceLogits(x, seq_len, vocab, [&](int64_t k, int64_t v) {
      return static_cast<double>(w[static_cast<size_t>(k * vocab + v)]);
    });
    EXPECT_LT(MaxRowRelativeError(result->logits, want, seq_len, vocab), 1e-5) << capacity;
    auto plain = (*head)->Prefill(Activations{x, {}, seq_len, kHidden}, {});
    ASSERT_TRUE(plain.ok());
    EXPECT_TRUE(std::equal(plain->logits.begin(), plain->logits.end(), result->logits.begin(),
                           result->logits.end()));
  }
}

TEST(LmHeadTest, TtV3RejectsLongPrefillThatIsNotAMultipleOfTheChunk) {
  const Model model = MakeModel("v3", 1024, MeshShape{1, 2});
  OpenOptions open;
  open.compat = CompatMode::kTtV3;
  auto head = LmHead::Open(model.weights, open);
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  const std::vector<float> x = RandomActivations(1025, 1);
  auto result = (*head)->Prefill(Activations{x, {}, 1025, kHidden}, {});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find("1025"), std::string::npos) << result.status().message();
}

// The fused reductions equal the ones computed here from the full logits.
TEST(LmHeadTest, TopKArgmaxAndLogSumExpMatchFullLogits) {
  const int64_t vocab = 4096;
  const Model model = MakeModel("reduce", vocab, MeshShape{2, 4});
  const int64_t rows = 7;
  const std::vector<float> x = RandomActivations(rows, 9);
  // tt-lofi logits are bf16 values: many exact ties exercise the tie rule.
  auto full = RunHead(model.weights, Numerics::kTtLofi, "decode", x, rows);
  ASSERT_TRUE(full.ok());
  ForwardOptions topk;
  topk.reduction = Reduction::kTopK;
  topk.k = 50;
  auto best = RunHead(model.weights, Numerics::kTtLofi, "decode", x, rows, topk);
  ASSERT_TRUE(best.ok());
  ForwardOptions lse;
  lse.reduction = Reduction::kLogSumExp;
  auto norm = RunHead(model.weights, Numerics::kTtLofi, "decode", x, rows, lse);
  ASSERT_TRUE(norm.ok());
  for (int64_t row = 0; row < rows; ++row) {
    const float* logits = full->logits.data() + row * vocab;
    std::vector<int64_t> ids(static_cast<size_t>(vocab));
    for (int64_t v = 0; v < vocab; ++v) ids[static_cast<size_t>(v)] = v;
    std::stable_sort(ids.begin(), ids.end(),
                     [&](int64_t a, int64_t b) { return logits[a] > logits[b]; });
    for (int64_t rank = 0; rank < topk.k; ++rank) {
      const size_t at = static_cast<size_t>(row * topk.k + rank);
      ASSERT_EQ(best->token_ids[at], ids[static_cast<size_t>(rank)]) << "row " << row;
      ASSERT_EQ(best->values[at], logits[ids[static_cast<size_t>(rank)]]);
    }
    double sum = 0;
    for (int64_t v = 0; v < vocab; ++v) sum += std::exp(static_cast<double>(logits[v]));
    EXPECT_NEAR(norm->logsumexp[static_cast<size_t>(row)], std::log(sum), 1e-9);
  }
  // Only k candidates per device crossed the mesh (16 B each), not V/D logits.
  EXPECT_EQ(best->combine_bytes, rows * 8 * topk.k * 16);
  EXPECT_EQ(full->combine_bytes, rows * vocab * 4);
}

// With --pad-vocab the zero columns appended to the vocabulary never appear:
// a zero input gives all-zero logits, so a padded column would tie for first.
TEST(LmHeadTest, PaddedVocabColumnsNeverWin) {
  const int64_t vocab = 1000;  // 8 devices: padded to 1024, 3 devices hold padding.
  const Model model = MakeModel("pad", vocab, MeshShape{2, 4}, /*pad_vocab=*/true);
  const std::vector<float> zeros(kHidden, 0.0f);
  ForwardOptions topk;
  topk.reduction = Reduction::kTopK;
  topk.k = 1024;
  auto best = RunHead(model.weights, Numerics::kFp32, "decode", zeros, 1, topk);
  ASSERT_TRUE(best.ok()) << best.status().ToString();
  EXPECT_EQ(best->vocab_size, vocab);
  int64_t real = 0;
  for (int64_t id : best->token_ids) {
    if (id >= 0) {
      EXPECT_LT(id, vocab);
      ++real;
    }
  }
  EXPECT_EQ(real, vocab);            // Fewer real tokens than k: the rest stay -1.
  EXPECT_EQ(best->token_ids[0], 0);  // All ties: the smallest id wins.
  ForwardOptions lse;
  lse.reduction = Reduction::kLogSumExp;
  auto norm = RunHead(model.weights, Numerics::kFp32, "decode", zeros, 1, lse);
  ASSERT_TRUE(norm.ok());
  EXPECT_NEAR(norm->logsumexp[0], std::log(static_cast<double>(vocab)), 1e-12);
  auto full = RunHead(model.weights, Numerics::kFp32, "decode", zeros, 1);
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(full->logits.size(), static_cast<size_t>(vocab));
}

TEST(LmHeadTest, BadInputsAreClearErrors) {
  const Model model = MakeModel("bad", 1024, MeshShape{1, 2});
  auto head = LmHead::Open(model.weights, {});
  ASSERT_TRUE(head.ok());
  std::vector<float> x = RandomActivations(33, 2);
  auto too_many = (*head)->Decode(Activations{x, {}, 33, kHidden}, {});
  EXPECT_EQ(too_many.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(too_many.status().message().find("33"), std::string::npos);
  std::vector<float> narrow_x(2 * (kHidden - 1), 1.0f);
  auto narrow = (*head)->Decode(Activations{narrow_x, {}, 2, kHidden - 1}, {});
  EXPECT_EQ(narrow.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(narrow.status().message().find("hidden_size=256"), std::string::npos);
  x.resize(2 * kHidden);
  x[kHidden + 3] = NAN;
  auto nan = (*head)->Decode(Activations{x, {}, 2, kHidden}, {});
  EXPECT_EQ(nan.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(nan.status().message().find("NaN"), std::string::npos) << nan.status().message();
  ForwardOptions allow;
  allow.allow_nonfinite = true;
  auto allowed = (*head)->Decode(Activations{x, {}, 2, kHidden}, allow);
  EXPECT_TRUE(allowed.ok()) << allowed.status().ToString();
  ForwardOptions big_k;
  big_k.reduction = Reduction::kTopK;
  big_k.k = 1025;
  EXPECT_FALSE((*head)->Decode(Activations{x, {}, 1, kHidden}, big_k).ok());
  EXPECT_EQ(LmHead::Open((model.root / "missing").string(), {}).status().code(),
            StatusCode::kNotFound);
}

// A thread count past kMaxThreads once spawned that many threads until the
// process ran out of them.
TEST(LmHeadTest, ThreadCountsOutOfRangeAreClearErrors) {
  const Model model = MakeModel("threads", 1024, MeshShape{1, 2});
  for (const int num_threads : {-1, kMaxThreads + 1, 100000}) {
    OpenOptions open;
    open.num_threads = num_threads;
    auto head = LmHead::Open(model.weights, open);
    ASSERT_FALSE(head.ok()) << num_threads;
    EXPECT_EQ(head.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(head.status().message().find("num_threads=" + std::to_string(num_threads)),
              std::string::npos)
        << head.status().message();
    EXPECT_NE(head.status().message().find(std::to_string(kMaxThreads)), std::string::npos);
  }
}

TEST(LmHeadTest, CorruptedShardIsCaughtByChecksums) {
  const Model model = MakeModel("corrupt", 1024, MeshShape{1, 2});
  const fs::path shard = fs::path(model.weights) / ShardFileName(1);
  {
    std::fstream file(shard, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(static_cast<std::streamoff>(fs::file_size(shard) - 100));
    file.put('\x5a');
  }
  OpenOptions open;
  open.verify_checksums = true;
  auto head = LmHead::Open(model.weights, open);
  ASSERT_FALSE(head.ok());
  EXPECT_EQ(head.status().code(), StatusCode::kCorruption);
  EXPECT_NE(head.status().message().find("device_001"), std::string::npos)
      << head.status().message();
}

// The decode trace is the seed's op list (mesh_scatter expanded, as TT runs it).
TEST(LmHeadTest, DecodeTraceFollowsTheSeed) {
  const Model model = MakeModel("trace", 4096, MeshShape{4, 8});
  const std::vector<float> x = RandomActivations(1, 3);
  auto result = RunHead(model.weights, Numerics::kFp32, "decode", x, 1);
  ASSERT_TRUE(result.ok());
  std::vector<std::string> ops;
  for (const std::string& line : result->trace) ops.push_back(line.substr(0, line.find('(')));
  ASSERT_EQ(ops.size(), 1u + 1u + 24u + 4u + 1u + 1u);
  EXPECT_EQ(ops[0], "ttnn.from_torch");
  EXPECT_EQ(ops[1], "ttnn.to_memory_config");
  EXPECT_EQ(ops[2], "ttnn.point_to_point");
  EXPECT_EQ(ops[26], "ttnn.to_memory_config");
  EXPECT_EQ(ops[29], "ttnn.deallocate");
  EXPECT_EQ(ops[30], "ttnn.linear");
  EXPECT_EQ(ops[31], "ttnn.deallocate");
  EXPECT_EQ(result->num_transfers, 24);
  EXPECT_EQ(result->transfer_bytes, 24 * 32 * kHidden * 2);  // [32, H] bf16 per transfer.
}

}  // namespace
}  // namespace lmhead
