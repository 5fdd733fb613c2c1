// SPDX-License-Identifier: Apache-2.0
// Spec tests of the reference kernels against float64 sums, hand-computed values and LofiDot.
#include "kernels/reference.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "kernels/kernel_test_util.h"
#include "kernels/kernels.h"
#include "kernels/test_weights.h"
#include "kernels/tt_lofi.h"
#include "lmhead/formats.h"

namespace lmhead {
namespace {

using kernel_test::Case;
using kernel_test::kSentinel;
using kernel_test::kSpareCols;

// kernel_test::Run with the case's LoFi options set to `lofi`.
std::vector<float> RunKernel(MatmulFn fn, Case c, LofiOptions lofi = {}) {
  c.lofi = lofi;
  return kernel_test::Run(fn, c);
}

// Checks y against expected(row, n) on the written columns and the sentinel elsewhere.
template <typename Expected>
void ExpectOutput(const Case& p, const std::vector<float>& y, Expected expected) {
  const int64_t y_stride = p.n_cols + kSpareCols;
  for (int64_t row = 0; row < p.m; ++row) {
    for (int64_t n = 0; n < y_stride; ++n) {
      const float actual = y[static_cast<size_t>(row * y_stride + n)];
      const float want = kernel_test::Written(p, n) ? expected(row, n) : kSentinel;
      ASSERT_EQ(actual, want) << "row " << row << " col " << n << " of m=" << p.m << " k=" << p.k
                              << " N range [" << p.nt_begin << ", " << p.nt_end
                              << ") n_cols=" << p.n_cols;
    }
  }
}

float X(const Case& p, int64_t row, int64_t k) {
  return k < p.k ? Bf16ToFp32((*p.x)[static_cast<size_t>(row * p.x_stride + k)]) : 0.0f;
}

// fp32 numerics: a plain double loop over the constructed values. Both sums
// are exact in double here (activations are multiples of 2^-14 below 2^5,
// weights multiples of 2^-13 below 2^9, K = 90: every partial sum is a
// multiple of 2^-27 below 2^21, 48 bits), so any summation order gives the
// same double and the kernel must match bit for bit after the single rounding
// to fp32.
class Fp32ReferenceTest : public testing::TestWithParam<std::tuple<TileFormat, int64_t>> {};

TEST_P(Fp32ReferenceTest, EqualsDoubleSumOverConstructedWeights) {
  const auto [format, m] = GetParam();
  std::mt19937 rng(static_cast<uint32_t>(m) * 7 + static_cast<uint32_t>(format));
  TestWeights w(format, 3, 4);  // K up to 96, N up to 128
  w.FillRandom(rng, 120, 135);
  const int64_t k = 90;  // not a multiple of 32: the last weight rows meet padding
  const std::vector<uint16_t> x = RandomBf16(rng, m, k, k + 5, 120, 131);
  const int64_t ranges[][2] = {{0, 4}, {1, 3}, {3, 4}, {2, 2}};
  for (const auto& range : ranges) {
    const Case p{&w, &x, m, k, k + 5, range[0], range[1], 4 * kTileDim - 7, {}};
    const std::vector<float> y = RunKernel(MatmulFp32Reference, p);
    ExpectOutput(p, y, [&](int64_t row, int64_t n) {
      double sum = 0.0;
      for (int64_t kk = 0; kk < k; ++kk) sum += static_cast<double>(X(p, row, kk)) * w.Value(kk, n);
      return static_cast<float>(sum);
    });
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, Fp32ReferenceTest,
    testing::Combine(testing::Values(TileFormat::kBfp4b, TileFormat::kBfp8b),
                     testing::Values(1, 7, 32, 33)),
    [](const testing::TestParamInfo<Fp32ReferenceTest::ParamType>& param_info) {
      return std::string(ToString(std::get<0>(param_info.param))) + "_m" +
             std::to_string(std::get<1>(param_info.param));
    });

// The constructed case of tt_lofi_test.cc, through tiles. K = 4 tiles, all
// exponents 128 (bfp4 quantum 0.5); columns 0, 1, 2 hold 1, 0.5 and -1.
//   row 0: x[0] = 256, x[32] = x[48] = 1. Chunk sums for column 0: block 0
//     (k 0..31): 256, 0; block 1: 1, 1; blocks 2, 3: 0.
//     sequential bf16 Dst: 256 -> 258 (257 ties away) -> 260 (259 ties away);
//     with packer L1 acc (4 blocks): L1 = 256 + (1 + 1) = 258.
//     Column 1 halves every product: 128 -> 129 -> 130, or 128 + 1 = 129.
//   row 1: x[k] = 1.0078125 for all 128 k; LoFi SrcB reads 1.0, so column 0
//     sums 128 chunks of 16 exactly to 128, where fp32 numerics give 129.
TEST(TtLofiReferenceTest, HandComputedBlockingCase) {
  TestWeights w(TileFormat::kBfp4b, 4, 1);
  for (int64_t k = 0; k < w.rows(); ++k) {
    for (int64_t n = 0; n < w.cols(); n += kFaceDim) w.SetExponent(k, n, 128);
    w.SetCode(k, 0, 2);    // +2 * 0.5
    w.SetCode(k, 1, 1);    // +1 * 0.5
    w.SetCode(k, 2, 0xA);  // -2 * 0.5
  }
  std::vector<uint16_t> x(2 * 128, 0);
  x[0] = Fp32ToBf16(256.0f);
  x[32] = x[48] = Fp32ToBf16(1.0f);
  for (int64_t k = 0; k < 128; ++k) x[static_cast<size_t>(128 + k)] = 0x3F81;  // 1.0078125
  const Case p{&w, &x, 2, 128, 128, 0, 1, 3, {}};

  auto expect = [&](std::vector<float> y, std::vector<float> row0, std::vector<float> row1) {
    ExpectOutput(p, y, [&](int64_t row, int64_t n) {
      return (row == 0 ? row0 : row1)[static_cast<size_t>(n)];
    });
  };
  expect(RunKernel(MatmulTtLofiReference, p, {.in0_block_w = 1, .packer_l1_acc = true}),
         {258, 129, -258}, {128, 64, -128});
  expect(RunKernel(MatmulTtLofiReference, p, {.in0_block_w = 1, .packer_l1_acc = false}),
         {260, 130, -260}, {128, 64, -128});
  expect(RunKernel(MatmulTtLofiReference, p, {.in0_block_w = 2, .packer_l1_acc = true}),
         {260, 130, -260}, {128, 64, -128});
  expect(RunKernel(MatmulFp32Reference, p), {258, 129, -258}, {129, 64.5, -129});
}

struct LofiCase {
  int64_t m;
  int64_t k_tiles;
  int64_t k;
  int64_t in0_block_w;
  bool packer_l1_acc;
};

// The tile traversal of the reference against LofiDot, the element-wise
// statement of spec §4.8, fed the constructed weight values column by column.
TEST(TtLofiReferenceTest, EqualsLofiDotOnEveryElement) {
  const LofiCase cases[] = {{1, 4, 128, 1, true}, {7, 4, 123, 1, false}, {32, 4, 128, 2, true},
                            {33, 3, 70, 1, true}, {33, 3, 96, 3, true},  {7, 5, 150, 1, true}};
  std::mt19937 rng(2024);
  for (TileFormat format : {TileFormat::kBfp4b, TileFormat::kBfp8b}) {
    for (const LofiCase& c : cases) {
      TestWeights w(format, c.k_tiles, 3);
      w.FillRandom(rng, 118, 133);
      const std::vector<uint16_t> x = RandomBf16(rng, c.m, c.k, c.k + 1, 118, 132);
      const Case p{&w, &x, c.m, c.k, c.k + 1, 1, 3, 3 * kTileDim - 5, {}};
      const LofiOptions lofi{.in0_block_w = c.in0_block_w, .packer_l1_acc = c.packer_l1_acc};
      std::vector<float> dense(static_cast<size_t>(w.rows() * w.cols()));
      for (int64_t k = 0; k < w.rows(); ++k) {
        for (int64_t n = 0; n < w.cols(); ++n) {
          dense[static_cast<size_t>(k * w.cols() + n)] = static_cast<float>(w.Value(k, n));
        }
      }
      const std::vector<float> y = RunKernel(MatmulTtLofiReference, p, lofi);
      ExpectOutput(p, y, [&](int64_t row, int64_t n) {
        std::vector<float> a(static_cast<size_t>(w.rows()));
        for (int64_t k = 0; k < w.rows(); ++k) a[static_cast<size_t>(k)] = X(p, row, k);
        return LofiDot(a.data(), dense.data() + n, w.cols(), w.rows(), c.in0_block_w,
                       c.packer_l1_acc);
      });
    }
  }
}

// With at most two K blocks the packer's L1 accumulation cannot change the
// result (block 0 is packed and reloaded losslessly), whatever the factory's
// packer_l1_acc_en condition.
TEST(TtLofiReferenceTest, AtMostTwoBlocksIgnorePackerL1Acc) {
  std::mt19937 rng(7);
  for (int64_t k_tiles : {1, 2, 4}) {
    TestWeights w(TileFormat::kBfp4b, k_tiles, 2);
    w.FillRandom(rng, 115, 135);
    const int64_t k = k_tiles * kTileDim;
    const std::vector<uint16_t> x = RandomBf16(rng, 9, k, k, 110, 135);
    const Case p{&w, &x, 9, k, k, 0, 2, 64, {}};
    const int64_t in0_block_w = k_tiles == 4 ? 2 : 1;
    EXPECT_EQ(RunKernel(MatmulTtLofiReference, p, {in0_block_w, true}),
              RunKernel(MatmulTtLofiReference, p, {in0_block_w, false}))
        << "Kt=" << k_tiles;
  }
}

// tt-lofi stays within its derived rounding budget of the fp32 result: the
// SrcB truncation loses < 2^-7 of each |x_k w_k|, and each of the K/16 Dst
// roundings and B packer additions loses at most half a bf16 step plus the
// TF32 step (< 2^-8 + 2^-11 < 2^-7) of a partial bounded by sum_k |x_k w_k|.
TEST(TtLofiReferenceTest, StaysWithinTheRoundingBudgetOfFp32) {
  std::mt19937 rng(11);
  TestWeights w(TileFormat::kBfp4b, 8, 2);
  w.FillRandom(rng, 120, 130);
  const int64_t k = 8 * kTileDim;
  const std::vector<uint16_t> x = RandomBf16(rng, 5, k, k, 122, 128);
  const Case p{&w, &x, 5, k, k, 0, 2, 64, {}};
  const std::vector<float> lofi = RunKernel(MatmulTtLofiReference, p, {2, true});
  const std::vector<float> fp32 = RunKernel(MatmulFp32Reference, p);
  const double steps = 1.0 + static_cast<double>(k / kLofiChunk) + 4.0;  // + B = 4 blocks
  for (int64_t row = 0; row < p.m; ++row) {
    for (int64_t n = 0; n < p.n_cols; ++n) {
      double abs_sum = 0.0;
      for (int64_t kk = 0; kk < k; ++kk) abs_sum += std::fabs(X(p, row, kk) * w.Value(kk, n));
      const size_t idx = static_cast<size_t>(row * (p.n_cols + kSpareCols) + n);
      EXPECT_LE(std::fabs(lofi[idx] - fp32[idx]), steps * std::ldexp(abs_sum, -7))
          << "row " << row << " col " << n;
    }
  }
}

// A device shard stored per DRAM bank (bank b holds tile columns
// [b * shard_nt, (b + 1) * shard_nt) as its own Kt x shard_nt tile matrix):
// running each bank as its own view, with y offset to the bank's first column
// and n_cols clipped to the valid vocabulary, gives the whole-shard result.
TEST(BankViewTest, PerBankViewsEqualTheWholeShard) {
  std::mt19937 rng(5);
  constexpr int64_t kKt = 2, kBanks = 3, kShardNt = 2;
  TestWeights w(TileFormat::kBfp4b, kKt, kBanks * kShardNt);
  w.FillRandom(rng, 120, 132);
  const int64_t n_cols = w.cols() - 40;  // the last bank is partly padding
  const std::vector<uint16_t> x = RandomBf16(rng, 7, 64, 64, 118, 132);
  const size_t tile_bytes = TileBytes(TileFormat::kBfp4b);
  for (MatmulFn fn : {MatmulFp32Reference, MatmulTtLofiReference}) {
    const Case whole{&w, &x, 7, 64, 64, 0, kBanks * kShardNt, n_cols, {}};
    const std::vector<float> expected = RunKernel(fn, whole, {1, true});
    std::vector<float> y(expected.size(), kSentinel);
    for (int64_t bank = 0; bank < kBanks; ++bank) {
      std::vector<uint8_t> bank_tiles;  // (Kt, shard_nt) tiles of this bank, row-major
      for (int64_t kt = 0; kt < kKt; ++kt) {
        const uint8_t* row =
            w.bytes().data() + (kt * w.cols() / kTileDim + bank * kShardNt) * tile_bytes;
        bank_tiles.insert(bank_tiles.end(), row, row + kShardNt * tile_bytes);
      }
      MatmulArgs args;
      args.x = x.data();
      args.x_stride = 64;
      args.m = 7;
      args.k = 64;
      args.w = {bank_tiles.data(), TileFormat::kBfp4b, kKt, kShardNt};
      args.nt_begin = 0;
      args.nt_end = kShardNt;
      args.y = y.data() + bank * kShardNt * kTileDim;
      args.y_stride = n_cols + kSpareCols;
      args.n_cols = std::min<int64_t>(kShardNt * kTileDim, n_cols - bank * kShardNt * kTileDim);
      args.lofi = {1, true};
      fn(args);
    }
    EXPECT_EQ(y, expected);
  }
}

}  // namespace
}  // namespace lmhead
