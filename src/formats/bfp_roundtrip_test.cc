// SPDX-License-Identifier: Apache-2.0
// Round trip of millions of random values against an independent real-arithmetic
// model of the quantiser (tt-numerics.md 3.1 value formula with 2.2's alignment).
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "lmhead/formats.h"

namespace lmhead {
namespace {

// Independent model, written with ilogb/ldexp/floor/nearbyint instead of bit
// manipulation. For a group with shared exponent byte E (the largest biased
// exponent ilogb(x) + 127 of its values; 0 for zero/denormal, 255 for NaN/Inf),
// a value x keeps floor(|x| / 2^(E - 150)) units of the truncated alignment
// grid, rounds that to nearest even in quanta of 2^(24 - BITS) units, saturates
// at 2^BITS - 1 quanta and is worth n * 2^(E - 127 - BITS + 1) (spec 3.1).
int BiasedExponent(double x) {
  if (std::isnan(x) || std::isinf(x)) return 255;
  if (x == 0.0 || std::fabs(x) < 0x1p-126) return 0;
  return std::ilogb(x) + 127;
}

// |x| as the fp32 encoding sees it: Inf is significand 1.0 at 2^128, the
// canonical NaN 0x7FC00000 is 1.5 at 2^128 (the only NaN this test uses).
double Magnitude(double x) {
  if (std::isinf(x)) return 0x1p128;
  if (std::isnan(x)) return 0x1.8p128;
  return std::fabs(x);
}

float ModelQuantise(double x, int shared_exp, int bits) {
  if (BiasedExponent(x) == 0) return 0.0f;
  const double units = std::floor(Magnitude(x) / std::ldexp(1.0, shared_exp - 150));
  double quanta = std::nearbyint(std::ldexp(units, -(24 - bits)));  // FE_TONEAREST: ties to even
  quanta = std::min(quanta, std::ldexp(1.0, bits) - 1);
  if (quanta == 0) return 0.0f;  // No negative zero.
  const double magnitude = quanta * std::ldexp(1.0, shared_exp - 127 - bits + 1);
  double value = std::signbit(x) ? -magnitude : magnitude;
  if (magnitude > 0x1p128) return NAN;  // Exponent byte 255 with a fraction.
  return static_cast<float>(value);     // Exact; 2^128 becomes Inf.
}

// Random matrix: each 16-value group gets its own scale 2^k, k in [-100, 100],
// so E >= 8 and no decoded value underflows (host decode equals 3.1 there);
// elements are gaussians with occasional extra down-scaling, zeros, negative
// zeros, denormals, exact ties of the bfp4 grid and a few NaN/Inf.
std::vector<float> RandomMatrix(int64_t rows, int64_t cols, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  std::uniform_int_distribution<int> scale_exp(-100, 100), small_exp(-40, 0), pick(0, 999);
  std::vector<float> values(static_cast<size_t>(rows * cols));
  for (size_t group = 0; group < values.size() / 16; ++group) {
    const int group_exp = scale_exp(rng);
    for (size_t idx = group * 16; idx < group * 16 + 16; ++idx) {
      const int kind = pick(rng);
      float value = std::ldexp(gauss(rng), group_exp);
      if (kind < 100)
        value = std::ldexp(value, small_exp(rng));
      else if (kind < 120)
        value = 0.0f;
      else if (kind < 130)
        value = -0.0f;
      else if (kind < 140)
        value = std::ldexp(gauss(rng), -130);  // denormal
      else if (kind < 200)
        value = std::ldexp(static_cast<float>(pick(rng) % 15) + 0.5f, group_exp - 2);
      else if (kind == 200)
        value = INFINITY;
      else if (kind == 201)
        value = -INFINITY;
      else if (kind == 202)
        value = NAN;
      values[idx] = value;
    }
  }
  return values;
}

void ExpectModelRoundTrip(TileFormat format, const std::vector<float>& src, bool as_bf16,
                          const TiledShape& shape) {
  const int bits = format == TileFormat::kBfp4b ? 3 : 7;
  std::vector<float> input = src;
  std::vector<uint16_t> input_bf16(src.size());
  for (size_t idx = 0; idx < src.size(); ++idx) {
    input_bf16[idx] = Fp32ToBf16(src[idx]);
    if (as_bf16) input[idx] = Bf16ToFp32(input_bf16[idx]);
  }
  std::vector<uint8_t> packed(TiledBytes(format, shape));
  ASSERT_TRUE((as_bf16 ? PackMatrixBf16(format, input_bf16, shape, packed)
                       : PackMatrixFp32(format, input, shape, packed))
                  .ok());
  std::vector<float> out(src.size());
  std::vector<uint16_t> out_bf16(src.size());
  ASSERT_TRUE(UnpackMatrixToFp32(format, packed, shape, out).ok());
  ASSERT_TRUE(UnpackMatrixToBf16(format, packed, shape, out_bf16).ok());

  int64_t failures = 0;
  for (size_t group = 0; group < input.size() / 16 && failures < 10; ++group) {
    int shared_exp = 0;
    for (size_t idx = group * 16; idx < group * 16 + 16; ++idx) {
      shared_exp = std::max(shared_exp, BiasedExponent(input[idx]));
    }
    for (size_t idx = group * 16; idx < group * 16 + 16; ++idx) {
      const float expected = ModelQuantise(input[idx], shared_exp, bits);
      const bool same = std::isnan(expected) ? std::isnan(out[idx])
                                             : std::bit_cast<uint32_t>(expected) ==
                                                   std::bit_cast<uint32_t>(out[idx]);
      const bool bf16_same = std::isnan(expected) ? std::isnan(Bf16ToFp32(out_bf16[idx]))
                                                  : Bf16ToFp32(out_bf16[idx]) == expected;
      if (!same || !bf16_same) {
        ADD_FAILURE() << ToString(format) << (as_bf16 ? " (bf16 source)" : "") << " element " << idx
                      << ": input " << input[idx] << " E " << shared_exp << " expected " << expected
                      << " got " << out[idx] << " / bf16 " << Bf16ToFp32(out_bf16[idx]);
        ++failures;
      }
    }
  }
}

// 1024 x 4096 = 4.2 million values per format and source type.
TEST(BfpRoundTripTest, MatchesIndependentModel) {
  const TiledShape shape{1, 1024, 4096};
  const std::vector<float> values = RandomMatrix(shape.rows, shape.cols, 20240611);
  for (TileFormat format : {TileFormat::kBfp4b, TileFormat::kBfp8b}) {
    ExpectModelRoundTrip(format, values, /*as_bf16=*/false, shape);
    ExpectModelRoundTrip(format, values, /*as_bf16=*/true, shape);
  }
}

// Ragged shapes: padding never raises a group's exponent, so edge groups
// quantise like any other. cols stay multiples of 16 so that the model's groups
// (16 consecutive row-major values) are exactly the face rows.
TEST(BfpRoundTripTest, RaggedShapesMatchModel) {
  for (const TiledShape& shape :
       {TiledShape{3, 33, 48}, TiledShape{1, 7, 16}, TiledShape{2, 65, 80}}) {
    const std::vector<float> values = RandomMatrix(shape.batch * shape.rows, shape.cols, 7);
    for (TileFormat format : {TileFormat::kBfp4b, TileFormat::kBfp8b}) {
      ExpectModelRoundTrip(format, values, /*as_bf16=*/false, shape);
    }
  }
}

}  // namespace
}  // namespace lmhead
