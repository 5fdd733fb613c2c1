// SPDX-License-Identifier: Apache-2.0
// Every registered kernel set this CPU runs, against the scalar reference on odd shapes.
//
// The comparison rules are kernel_test_util.h's: bit-exact for tt-lofi, the
// fp32 accumulation bound for fp32, nothing written outside the N range.
#include "kernels/kernels.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kernels/amx/amx_emulated.h"
#include "kernels/cpu_features.h"
#include "kernels/kernel_test_util.h"
#include "kernels/test_weights.h"
#include "lmhead/formats.h"

namespace lmhead {
namespace {

using kernel_test::Case;

// Runs gemv (m <= 32) and gemm on the case; for a set that prepares
// activations, both with and without them prepared (the engine prepares).
void ExpectBothMatch(const MatmulKernels& kernels, const Case& c) {
  std::vector<PrepareFn> prepares = {nullptr};
  if (kernels.prepare != nullptr) prepares.push_back(kernels.prepare);
  for (PrepareFn prepare : prepares) {
    if (c.m <= kMaxDecodeRows) {
      kernel_test::ExpectMatchesReference(kernels.name, kernels.numerics, kernels.gemv, c,
                                          kernels.layout, prepare);
    }
    kernel_test::ExpectMatchesReference(kernels.name, kernels.numerics, kernels.gemm, c,
                                        kernels.layout, prepare);
  }
}

// One tile of `format` whose column 0 holds one value in every row (`code`
// at group exponent `exponent`) and whose other columns are zero.
TestWeights ColumnZeroWeights(TileFormat format, uint8_t exponent, uint32_t code) {
  TestWeights w(format, 1, 1);
  for (int64_t k = 0; k < kTileDim; ++k) {
    for (int64_t n = 0; n < kTileDim; n += kFaceDim) w.SetExponent(k, n, exponent);
    w.SetCode(k, 0, code);
  }
  return w;
}

// The one-tile weights w against activations `chunk` (zero-padded to a tile
// row) in 1 and 5 identical rows: both match the reference, and the gemv's
// column 0 is `want`.
void ExpectChunkResult(const MatmulKernels& kernels, const TestWeights& w,
                       const std::vector<float>& chunk, float want) {
  for (int64_t m : {1, 5}) {
    std::vector<uint16_t> x(static_cast<size_t>(m * kTileDim), 0);
    for (int64_t row = 0; row < m; ++row) {
      for (size_t j = 0; j < chunk.size(); ++j) {
        x[static_cast<size_t>(row * kTileDim) + j] = Fp32ToBf16(chunk[j]);
      }
    }
    const Case c{&w, &x, m, kTileDim, kTileDim, 0, 1, kTileDim, {1, true}};
    ExpectBothMatch(kernels, c);
    const std::vector<float> y = kernel_test::Run(kernels.gemv, c, kernels.layout);
    EXPECT_EQ(y[0], want) << kernels.name << " m=" << m;
  }
}

// Row `row` of `many` (the output of a call on every row of `all`) equals, bit
// for bit, the gemv of that row alone.
void ExpectRowEqualsRowAlone(const MatmulKernels& kernels, const Case& all,
                             const std::vector<float>& many, int64_t row) {
  const std::vector<uint16_t> one(all.x->begin() + row * all.x_stride,
                                  all.x->begin() + (row + 1) * all.x_stride);
  Case alone = all;
  alone.x = &one;
  alone.m = 1;
  const std::vector<float> want = kernel_test::Run(kernels.gemv, alone, kernels.layout);
  const int64_t y_stride = all.n_cols + kernel_test::kSpareCols;
  for (int64_t n = 0; n < all.n_cols; ++n) {
    ASSERT_EQ(std::bit_cast<uint32_t>(want[static_cast<size_t>(n)]),
              std::bit_cast<uint32_t>(many[static_cast<size_t>(row * y_stride + n)]))
        << kernels.name << " m " << all.m << " row " << row << " column " << n;
  }
}

class KernelConsistencyTest : public testing::TestWithParam<const MatmulKernels*> {
 protected:
  void SetUp() override {
    if (!DetectCpuFeatures().Has(GetParam()->required_cpu_features)) {
      GTEST_SKIP() << GetParam()->name << " needs CPU features this machine lacks (has "
                   << ToString(DetectCpuFeatures()) << ")";
    }
  }
  const MatmulKernels& kernels() const { return *GetParam(); }
};

// Every M from 1 to 33 (gemv up to 32, gemm for all) over K = 200 (Kt = 7, the
// last tile partly past k) and 5 tile columns, n_cols cutting the last tile,
// with several N ranges; x rows carry a stride > k.
TEST_P(KernelConsistencyTest, EveryRowCountOnOddShapes) {
  std::mt19937 rng(17);
  TestWeights w(kernels().format, 7, 5);
  w.FillRandom(rng, 118, 134);
  const int64_t k = 200, x_stride = 203;
  const std::vector<uint16_t> x = RandomBf16(rng, 33, k, x_stride, 110, 134);
  const int64_t ranges[][2] = {{0, 5}, {1, 4}, {4, 5}, {2, 2}, {3, 5}};
  for (int64_t m = 1; m <= 33; ++m) {
    for (const auto& range : ranges) {
      const LofiOptions lofi{.in0_block_w = m % 2 == 0 ? 1 : 7, .packer_l1_acc = true};
      ExpectBothMatch(kernels(), {&w, &x, m, k, x_stride, range[0], range[1], 5 * 32 - 13, lofi});
    }
  }
}

// The K blockings of the tt-lofi numerics (more than two blocks turns the
// packer's L1 accumulation on) and a K that is a whole number of tiles.
TEST_P(KernelConsistencyTest, KBlockingsAndPackerL1Acc) {
  std::mt19937 rng(23);
  TestWeights w(kernels().format, 8, 3);
  w.FillRandom(rng, 115, 136);
  const int64_t k = 256;
  const std::vector<uint16_t> x = RandomBf16(rng, 33, k, k, 100, 136);
  for (int64_t in0_block_w : {1, 2, 4, 8}) {
    for (bool l1_acc : {true, false}) {
      for (int64_t m : {1, 3, 8, 32, 33}) {
        ExpectBothMatch(kernels(), {&w, &x, m, k, k, 0, 3, 96, {in0_block_w, l1_acc}});
      }
    }
  }
}

// Operands at the edges of the bf16/fp32 range: tiny and huge activations,
// weight groups with exponent bytes 0..7 (values flushed or denormal after
// decoding), rows of huge weights, and sums that overflow to inf. tt-lofi
// kernels must take the reference's slow paths exactly.
TEST_P(KernelConsistencyTest, ExtremeExponents) {
  if (kernels().numerics != Numerics::kTtLofi) GTEST_SKIP() << "fp32 bound is relative";
  std::mt19937 rng(29);
  const int64_t k = 150;
  struct Range {
    uint8_t w_lo, w_hi;
    int x_lo, x_hi;
  };
  const Range ranges[] = {{1, 9, 120, 140},     {120, 130, 1, 12},  {1, 12, 1, 20},
                          {240, 254, 200, 254}, {100, 254, 1, 254}, {0, 255, 0, 255}};
  for (const Range& r : ranges) {
    TestWeights w(kernels().format, 5, 2);
    w.FillRandom(rng, r.w_lo, r.w_hi);
    const std::vector<uint16_t> x = RandomBf16(rng, 9, k, k, r.x_lo, r.x_hi);
    for (int64_t m : {1, 9}) {
      ExpectBothMatch(kernels(), {&w, &x, m, k, k, 0, 2, 60, {1, true}});
      ExpectBothMatch(kernels(), {&w, &x, m, k, k, 0, 2, 64, {5, true}});
    }
  }
}

// fp32 kernels on tiles that hold denormal, inf and NaN weights (exponent
// bytes 1..9 and 255), which take TT's host decode value by value. Activations
// are large enough that every product stays a normal fp32 number.
TEST_P(KernelConsistencyTest, Fp32TilesWithDenormalAndNonFiniteWeights) {
  if (kernels().numerics != Numerics::kFp32) GTEST_SKIP() << "tt-lofi: see ExtremeExponents";
  std::mt19937 rng(37);
  const int64_t k = 150;
  TestWeights w(kernels().format, 5, 3);
  w.FillRandom(rng, 1, 9);
  for (int64_t n = 64; n < 96; n += kFaceDim) w.SetExponent(40, n, 255);  // tile column 2
  const std::vector<uint16_t> x = RandomBf16(rng, 9, k, k, 150, 165);
  for (int64_t m : {1, 9}) ExpectBothMatch(kernels(), {&w, &x, m, k, k, 0, 3, 90, {1, true}});
}

// Single exponents per operand swept across the edges where sums start to
// need flushing (the smallest product step crosses 2^-126) and where they
// start to overflow (products near 2^127): a fast kernel that trusts its fast
// path a few exponents too far fails here.
TEST_P(KernelConsistencyTest, ExponentSweepAcrossTheNormalRangeEdges) {
  if (kernels().numerics != Numerics::kTtLofi) GTEST_SKIP() << "fp32 bound is relative";
  std::mt19937 rng(31);
  const int64_t k = 160;
  const int weight_step_bits = kernels().format == TileFormat::kBfp8b ? 6 : 2;
  for (int d = -12; d <= 12; ++d) {
    // Smallest product step 2^((x_exp - 133) + (w_exp - 127 - weight_step_bits)) = 2^(-126 + d).
    const int x_tiny = 60;
    const int w_tiny = 134 + weight_step_bits + d - x_tiny;
    // Largest products about 2^(x_exp + w_exp - 252) = 2^(120 + d).
    const int x_huge = 200;
    const int w_huge = 372 + d - x_huge;
    for (const auto& [x_exp, w_exp] : {std::pair{x_tiny, w_tiny}, std::pair{x_huge, w_huge}}) {
      TestWeights w(kernels().format, 5, 1);
      w.FillRandom(rng, static_cast<uint8_t>(w_exp), static_cast<uint8_t>(w_exp));
      const std::vector<uint16_t> x = RandomBf16(rng, 4, k, k, x_exp, x_exp);
      ExpectBothMatch(kernels(), {&w, &x, 4, k, k, 0, 1, 32, {1, true}});
    }
  }
}

// Chunks whose tt-lofi result depends on summing exactly in the reference's
// order, or on rounding the exact Dst + S. Column 0 weights are 1.0;
// activations (powers of two, so LoFi SrcB keeps them) at k = 0..4 in the
// first two cases. Dst = RNA16(RNA13(S)) with S the chunk sum:
//  - {1, 0, 2^-8, 0, -2^-11, 0, -2^-25}: S = 1 + 2^-8 - 2^-11 - 2^-25 exactly;
//    TF32 sees 3.5 - 2^-15 steps of 2^-10 above 1 and rounds down to 1 +
//    3 * 2^-10, bf16 to 1.0. An fp32 sum drops the 2^-25 (a quarter ulp),
//    giving a TF32 tie, 1 + 2^-8, another tie, 1.0078125.
//  - {1, -2^-53, 2^-8, -2^-53, -2^-11}: in the reference's double order each
//    -2^-53 after 1 is a tie lost to round-to-even, S = 1 + 2^-8 - 2^-11 and
//    the result is 1.0078125; summing the two -2^-53 first keeps -2^-52, and
//    S just below the TF32 tie gives 1.0.
TEST_P(KernelConsistencyTest, ChunkSumsFollowTheReferenceRounding) {
  if (kernels().numerics != Numerics::kTtLofi) GTEST_SKIP() << "tt-lofi only";
  const bool bfp8 = kernels().format == TileFormat::kBfp8b;
  const TestWeights w = ColumnZeroWeights(kernels().format, 127, bfp8 ? 64 : 4);  // 1.0
  struct Chunk {
    std::vector<float> x;
    float want;
  };
  // Third: chunk 0 leaves Dst = 1; chunk 1 (k = 16..31) sums to S = 7 * 2^-11 -
  // 2^-28 (14 x 2^-12, 2^-22, -(2^-22 + 2^-28): exponents within 10 binades,
  // so an fp32 sum is exact). 1 + S is just below the bf16 rounding threshold
  // 1 + 0.4375 * 2^-7, so Dst stays 1.0; an fp32 add rounding to nearest would
  // land on the threshold and round up to 1.0078125.
  std::vector<float> near_threshold(kTileDim, 0.0f);
  near_threshold[0] = 1.0f;
  for (int j = 16; j < 30; ++j) near_threshold[static_cast<size_t>(j)] = 0x1p-12f;
  near_threshold[30] = 0x1p-22f;
  near_threshold[31] = -(0x1p-22f + 0x1p-28f);
  const Chunk chunks[] = {
      {{1.0f, 0.0f, 0x1p-8f, 0.0f, -0x1p-11f, 0.0f, -0x1p-25f}, 1.0f},
      {{1.0f, -0x1p-53f, 0x1p-8f, -0x1p-53f, -0x1p-11f}, 1.0078125f},
      {near_threshold, 1.0f},
  };
  for (const Chunk& chunk : chunks) ExpectChunkResult(kernels(), w, chunk.x, chunk.want);
}

// A chunk one binade past what fp32 sums exactly, whose fp32 sum lands on a
// rounding threshold the exact sum stays below. Column 0 weights are 7 (codes
// 7, the bound's largest); q = 2^-26 is the quantum of the smallest
// activation, a15 = 65 q. The others (36 2^16 q, 44 2^10 q, 65 2^3 q) make
// S = 7 sum a = (2^24 + 57343) q: 25 bits, so fp32 rounds it, to the even
// neighbour T = (2^24 + 57344) q, whose fp32 pattern ends in 0x7000. S just
// below T gives Dst = RNA16(RNA13(S)) = 2^24 q = 0.25; T itself rounds up to
// 0.25 (1 + 2^-7). Every bound on the chunk, 7 sum |a| = 16834559 q, is
// above 2^24 q, so a test for exact fp32 sums one binade too lax (2^25 q)
// would take the fp32 sum.
TEST_P(KernelConsistencyTest, ChunkSumsOneBinadePastExactFp32) {
  if (kernels().numerics != Numerics::kTtLofi) GTEST_SKIP() << "tt-lofi only";
  const bool bfp8 = kernels().format == TileFormat::kBfp8b;
  const TestWeights w = ColumnZeroWeights(kernels().format, 129, bfp8 ? 112 : 7);  // 7.0
  const float q = 0x1p-26f;
  std::vector<float> chunk(kTileDim, 0.0f);
  chunk[0] = 36 * 0x1p16f * q;
  chunk[1] = 44 * 0x1p10f * q;
  chunk[2] = 65 * 0x1p3f * q;
  chunk[15] = 65 * q;
  ExpectChunkResult(kernels(), w, chunk, 0.25f);
}

// fp32 kernels where products approach the bottom of the normal range (sums of
// cancelling products near 2^-126, where flushing denormals would show) and
// where sums approach fp32 overflow: single exponents per operand, swept by
// one binade across both edges of what vdpbf16ps may compute exactly.
TEST_P(KernelConsistencyTest, Fp32ScaledActivationsAtTheRangeEdges) {
  if (kernels().numerics != Numerics::kFp32) GTEST_SKIP() << "tt-lofi: see ExponentSweep...";
  std::mt19937 rng(43);
  const int64_t k = 160;
  for (int d = -3; d <= 3; ++d) {
    // x * 2^(E - 129) has biased exponent 8 + d (tiny) or 249 - 8 + d (huge).
    for (const auto& [x_exp, w_exp] : {std::pair{117 + d, 20}, std::pair{250 + d, 120}}) {
      TestWeights w(kernels().format, 5, 1);
      w.FillRandom(rng, static_cast<uint8_t>(w_exp), static_cast<uint8_t>(w_exp));
      const std::vector<uint16_t> x = RandomBf16(rng, 4, k, k, x_exp, x_exp);
      ExpectBothMatch(kernels(), {&w, &x, 4, k, k, 0, 1, 32, {1, true}});
    }
  }
}

// One row alone, the smallest gemv, where a set may fold the group scales
// into the activation (x * 2^(E - bias) by an exponent add): one non-zero
// activation, so that every output is one product, exact or rounded once,
// with x * 2^(E - bias) swept across both ends of the fp32 exponent range
// (biased exponent -2..3 and 252..257), and a lone bf16 denormal activation.
TEST_P(KernelConsistencyTest, Fp32RowAloneAcrossTheExponentRangeEdges) {
  if (kernels().numerics != Numerics::kFp32) GTEST_SKIP() << "tt-lofi: see ExponentSweep...";
  std::mt19937 rng(61);
  const int64_t k = 64;
  const int bias = kernels().format == TileFormat::kBfp8b ? 133 : 129;
  std::vector<uint16_t> x(k, 0);
  for (int scaled : {-2, -1, 0, 1, 2, 3, 252, 253, 254, 255, 256, 257}) {
    const int w_exp = scaled < 128 ? 20 : 250;
    TestWeights w(kernels().format, 2, 1);
    w.FillRandom(rng, static_cast<uint8_t>(w_exp), static_cast<uint8_t>(w_exp));
    std::fill(x.begin(), x.end(), uint16_t{0});
    const uint16_t mantissa = static_cast<uint16_t>(rng() & 0x7F);
    x[static_cast<size_t>(rng() % k)] =
        static_cast<uint16_t>((scaled + bias - w_exp) << 7 | mantissa | (rng() & 1) << 15);
    ExpectBothMatch(kernels(), {&w, &x, 1, k, k, 0, 1, 32, {1, true}});
  }
  TestWeights w(kernels().format, 2, 1);
  w.FillRandom(rng, 140, 150);
  std::fill(x.begin(), x.end(), uint16_t{0});
  x[17] = 0x0003;
  ExpectBothMatch(kernels(), {&w, &x, 1, k, k, 0, 1, 32, {1, true}});
}

// Activations whose exponents span a few binades per chunk (chunk sums exact
// in fp32), about 14 (kernels that split a chunk by exponent) and about 34
// (sums in double), over several K blockings: every path of the vdpbf16ps
// tt-lofi kernel, and plain random cases for the others.
TEST_P(KernelConsistencyTest, ChunkSumsOfNarrowMediumAndWideActivations) {
  std::mt19937 rng(41);
  const int64_t k = 512;
  TestWeights w(kernels().format, 16, 3);
  w.FillRandom(rng, 124, 127);
  for (const auto& [x_lo, x_hi] : {std::pair{124, 128}, std::pair{116, 130}, std::pair{100, 134}}) {
    const std::vector<uint16_t> x = RandomBf16(rng, 9, k, k, x_lo, x_hi);
    for (int64_t in0_block_w : {1, 4, 16}) {
      for (int64_t m : {1, 3, 8, 9}) {
        ExpectBothMatch(kernels(), {&w, &x, m, k, k, 0, 3, 90, {in0_block_w, true}});
      }
    }
  }
}

// Every gemv row-block size (1 to 8 rows) with chunks that some rows split and
// others sum in double next to exact ones: the vdpbf16ps tt-lofi kernel
// handles those rows apart in a code path per block size.
TEST_P(KernelConsistencyTest, MixedChunkPathsInEveryRowBlockSize) {
  std::mt19937 rng(47);
  const int64_t k = 256;
  TestWeights w(kernels().format, 8, 2);
  w.FillRandom(rng, 124, 127);
  // Rows cycle through exponent ranges that make chunks mostly split, double
  // and exact: from 3 rows on, a block meets all three in one chunk.
  std::vector<uint16_t> x;
  for (int row = 0; row < 8; ++row) {
    const std::pair<int, int> range[] = {{120, 128}, {112, 128}, {100, 134}};
    const auto [lo, hi] = range[(row + 1) % 3];
    const std::vector<uint16_t> one = RandomBf16(rng, 1, k, k, lo, hi);
    x.insert(x.end(), one.begin(), one.end());
  }
  for (int64_t m = 1; m <= 8; ++m) {
    ExpectBothMatch(kernels(), {&w, &x, m, k, k, 0, 2, 60, {2, true}});
  }
}

// Enough rows for the gemm's blocks of rows (192, then a partial group of 12),
// K over two slabs of 8 tile rows ending in a partial tile, and rows holding
// a denormal or an infinite activation: the gemm matches the reference, and
// each row equals, bit for bit, the gemv of that row alone where the set
// promises it (the engine's last-token call relies on it).
TEST_P(KernelConsistencyTest, ManyRowsMatchTheGemvRowByRow) {
  std::mt19937 rng(53);
  TestWeights w(kernels().format, 10, 3);
  w.FillRandom(rng, 137, 140);  // exp_min >= 137 would let a denormal through the bounds
  const int64_t m = 200, k = 300, x_stride = 307, n_cols = 3 * kTileDim - 7;
  std::vector<uint16_t> x = RandomBf16(rng, m, k, x_stride, 100, 125);
  // Row 50 holds one denormal only, so its whole result hangs on that value.
  std::fill(x.begin() + 50 * x_stride, x.begin() + 51 * x_stride, uint16_t{0});
  x[50 * x_stride + 7] = 0x0003;
  x[51 * x_stride + 9] = 0x7F80;  // +inf
  const Case all{&w, &x, m, k, x_stride, 0, 3, n_cols, {1, true}};
  kernel_test::ExpectMatchesReference(kernels().name, kernels().numerics, kernels().gemm, all,
                                      kernels().layout);
  if (!kernels().rows_independent) return;  // the set makes no such promise
  const std::vector<float> many = kernel_test::Run(kernels().gemm, all, kernels().layout);
  for (int64_t row : {0, 11, 12, 50, 51, 191, 192, 199}) {
    ExpectRowEqualsRowAlone(kernels(), all, many, row);
  }
}

// The gemv's row blocks (up to 8 rows, several panels side by side for few
// rows) use other loops than one row alone (the vdpbf16ps set scales the
// weights instead of the activations from 5 rows on): each row of an m-row
// gemv still equals, bit for bit, that row alone, where the set promises it.
TEST_P(KernelConsistencyTest, GemvRowsMatchEachRowAlone) {
  if (!kernels().rows_independent) return;  // the set makes no such promise
  std::mt19937 rng(59);
  TestWeights w(kernels().format, 10, 5);
  w.FillRandom(rng, 120, 140);
  const int64_t k = 300, x_stride = 301, n_cols = 5 * kTileDim - 3;
  for (int64_t m : {2, 4, 5, 8, 11}) {
    std::vector<uint16_t> x = RandomBf16(rng, m, k, x_stride, 100, 125);
    const Case all{&w, &x, m, k, x_stride, 0, 5, n_cols, {1, true}};
    const std::vector<float> many = kernel_test::Run(kernels().gemv, all, kernels().layout);
    for (int64_t row = 0; row < m; ++row) ExpectRowEqualsRowAlone(kernels(), all, many, row);
  }
}

// The registered SIMD sets, and the AMX sets' code on emulated tiles, which
// runs wherever AVX-512 (and, for tt-lofi, AVX512-BF16) does
// (amx/amx_emulated.h).
std::vector<const MatmulKernels*> FastKernelSets() {
  std::vector<const MatmulKernels*> sets;
  for (const MatmulKernels& kernels : AllMatmulKernels()) {
    if (kernels.required_cpu_features != 0) sets.push_back(&kernels);
  }
  sets.push_back(&amx_test::EmulatedAmxKernels());
  sets.push_back(&amx_test::EmulatedAmxLofiKernels());
  return sets;
}

INSTANTIATE_TEST_SUITE_P(Registered, KernelConsistencyTest, testing::ValuesIn(FastKernelSets()),
                         [](const testing::TestParamInfo<const MatmulKernels*>& param_info) {
                           std::string name = param_info.param->name;
                           for (char& ch : name) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace lmhead
