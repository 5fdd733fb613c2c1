// SPDX-License-Identifier: Apache-2.0
// Tests: inexact tt-lofi chunk sums are rounded as the exact sums would be, within a bound that
// holds.
//
// The panel kernels (lofi_panels-inl.h, the AMX set) take a chunk sum their
// checks could not prove exact as it is, known only within
// ChunkSumErrorBounds of the exact sum, and redo it in double where that
// bound leaves the rounding open. Here: sums anywhere within the bound round
// to the reference's result (DstAccumulate, tt_lofi.h), and the bound covers
// the fp32 sums of the orders the kernels use.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/avx512/lofi_chunks_testing.h"
#include "kernels/cpu_features.h"
#include "kernels/test_weights.h"
#include "kernels/tile_layout.h"
#include "kernels/tt_lofi.h"

namespace lmhead {
namespace {

uint16_t Bf16Bits(float value) {
  const uint32_t bits = std::bit_cast<uint32_t>(value);
  EXPECT_EQ(bits & 0xFFFFu, 0u) << value << " is not a bf16 value";
  return static_cast<uint16_t>(bits >> 16);
}

float Bf16Value(uint16_t bits) { return std::bit_cast<float>(uint32_t{bits} << 16); }

// The signed integer of a bfp4_b sign-magnitude code.
int CodeValue(uint32_t code) { return (code & 8) != 0 ? -static_cast<int>(code & 7) : code & 7; }

class LofiChunksTest : public testing::Test {
 protected:
  void SetUp() override {
    if (!DetectCpuFeatures().Has(kCpuAvx512)) GTEST_SKIP() << "needs AVX-512";
  }
};

// One packed tile whose column n holds codes[n] in every row (exponents 129:
// the scale lives in the activations, as the kernels fold it).
struct ColumnCodesTile {
  explicit ColumnCodesTile(const uint32_t (&codes)[kTileDim]) : weights(TileFormat::kBfp4b, 1, 1) {
    for (int64_t k = 0; k < kTileDim; ++k) {
      for (int64_t n = 0; n < kTileDim; ++n) {
        weights.SetExponent(k, n, 129);
        weights.SetCode(k, n, codes[n]);
      }
    }
    packed.resize(PackedTileBytes(TileLayout::kBfp4bPanels, TileFormat::kBfp4b, 1, 1));
    tile = PackTiles(TileLayout::kBfp4bPanels, weights.View(), 1, packed.data()).tiles;
  }

  TestWeights weights;
  std::vector<uint8_t> packed;
  const uint8_t* tile = nullptr;
};

// Chunk 0 with activations 1, 2^-12 and 2^-30 (spread 30: no fp32 sum of it
// is exact), times 1 in column half 0 and 2 in half 1. Dst + S lands 2^-30
// (times the scale) past the rounding threshold T = 1 + 7 * 2^-11 in lanes 0
// and 2, where each sum errs by 0.75 of the bound to the other side of T: a
// rounding that ignored the bound, or used half 0's bound (half as large) for
// half 1, would round those lanes the wrong way. Lane 1 is far from any
// threshold (the bound settles it); the other lanes take random Dst and
// errors. (A bound too small for the kernels' sums is the next test's.)
TEST_F(LofiChunksTest, SumsWithinTheBoundRoundAsTheExactSum) {
  std::mt19937 rng(5);
  uint32_t codes[kTileDim];
  std::uniform_int_distribution<uint32_t> code(1, 15);
  for (int n = 0; n < kTileDim; ++n) codes[n] = n % 16 == 1 || n % 16 == 0 ? 1 : code(rng);
  codes[2] = codes[18] = 9;                      // -1
  for (uint32_t& c : codes) c = c == 8 ? 1 : c;  // no -0: a zero sum rounds apart
  const ColumnCodesTile tile(codes);
  alignas(64) uint16_t xs[2][kTileDim] = {};
  for (int h = 0; h < 2; ++h) {
    const float scale = h == 0 ? 1.0f : 2.0f;
    xs[h][0] = Bf16Bits(scale);
    xs[h][1] = Bf16Bits(scale * 0x1p-12f);
    xs[h][2] = Bf16Bits(scale * 0x1p-30f);
  }
  std::uniform_real_distribution<float> unit(-0.9f, 0.9f), dst_value(-4.0f, 4.0f);
  alignas(64) float sums[kTileDim], dst[kTileDim], want[kTileDim];
  for (int n = 0; n < kTileDim; ++n) {
    const int h = n / 16;
    const float scale = h == 0 ? 1.0f : 2.0f;
    double exact = 0.0;
    for (int j = 0; j < 16; ++j)
      exact += static_cast<double>(Bf16Value(xs[h][j])) * CodeValue(codes[n]);
    const double bound = lofi_chunks_test::ChunkSumErrorBound(xs, 0, h);
    const float toward_zero = exact > 0 ? -1.0f : 1.0f;
    float error = unit(rng);
    dst[n] = Bf16Value(Bf16Bits(std::trunc(dst_value(rng) * 16.0f) / 16.0f));
    if (n % 16 == 0 || n % 16 == 2) {
      dst[n] = -toward_zero * scale * 13 * 0x1p-12f;  // |dst + S| = scale (T + 2^-30)
      error = 0.75f * toward_zero;
    } else if (n % 16 == 1) {
      dst[n] = 0.0f;
    }
    sums[n] = static_cast<float>(exact) + error * static_cast<float>(bound);
    ASSERT_LE(std::abs(static_cast<double>(sums[n]) - exact), bound) << "column " << n;
    want[n] = DstAccumulate(dst[n], exact);
  }
  lofi_chunks_test::RoundInexactRow(tile.tile, 0, xs, sums, dst);
  for (int n = 0; n < kTileDim; ++n) {
    EXPECT_EQ(std::bit_cast<uint32_t>(dst[n]), std::bit_cast<uint32_t>(want[n]))
        << "column " << n << ": " << dst[n] << " against " << want[n];
  }
  EXPECT_EQ(want[0], 1.0078125f);  // the exact sum is past T: rounds up
  EXPECT_EQ(want[16], 2.015625f);
}

// The bound covers the fp32 sums of a chunk in the orders the kernels use:
// in k order (FMAs, TDPBF16PS), k pairs first (vdpbf16ps), and 2 or 4
// partial sums over alternate pairs, added at the end; on wide activation
// spreads, where fp32 sums are inexact.
TEST_F(LofiChunksTest, ErrorBoundCoversTheKernelsSummationOrders) {
  std::mt19937 rng(7);
  uint32_t codes[kTileDim];
  std::uniform_int_distribution<uint32_t> code(0, 15), exponent(100, 140);
  std::bernoulli_distribution negative(0.5);
  for (int trial = 0; trial < 2000; ++trial) {
    alignas(64) uint16_t xs[2][kTileDim] = {};
    for (int h = 0; h < 2; ++h) {
      for (int j = 0; j < kTileDim; ++j) {
        const uint16_t mantissa = static_cast<uint16_t>(rng() & 0x7E);  // LoFi: 6 bits
        xs[h][j] =
            static_cast<uint16_t>((negative(rng) ? 0x8000 : 0) | exponent(rng) << 7 | mantissa);
      }
    }
    for (uint32_t& c : codes) c = code(rng);
    for (int c = 0; c < 2; ++c) {
      for (int n = 0; n < kTileDim; ++n) {
        const int h = n / 16;
        float products[16];
        double exact = 0.0;
        for (int j = 0; j < 16; ++j) {
          products[j] = Bf16Value(xs[h][16 * c + j]) * static_cast<float>(CodeValue(codes[n]));
          exact += products[j];
        }
        const double bound = lofi_chunks_test::ChunkSumErrorBound(xs, c, h);
        for (int partials : {1, 2, 4}) {
          for (bool pairs_first : {false, true}) {
            float part[4] = {};
            for (int p = 0; p < 8; ++p) {
              float& s = part[p % partials];
              if (pairs_first) {
                s += products[2 * p] + products[2 * p + 1];
              } else {
                s += products[2 * p];
                s += products[2 * p + 1];
              }
            }
            float sum = part[0];
            for (int i = 1; i < partials; ++i) sum += part[i];
            ASSERT_LE(std::abs(sum - exact), bound)
                << "trial " << trial << " chunk " << c << " column " << n << " partials "
                << partials << (pairs_first ? " pairs first" : "");
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace lmhead
