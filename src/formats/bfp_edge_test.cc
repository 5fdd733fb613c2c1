// SPDX-License-Identifier: Apache-2.0
// Edge cases of bfp packing and host decoding, each checked against values derived by hand
// from tt-numerics.md sections 2.2 and 3.2 (the derivation is in the comment beside each case).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <vector>

#include "formats/tile.h"
#include "lmhead/formats.h"

namespace lmhead {
namespace {

using ::testing::ElementsAreArray;

constexpr TileFormat kBfp4 = TileFormat::kBfp4b;
constexpr TileFormat kBfp8 = TileFormat::kBfp8b;

float F(uint32_t bits) { return std::bit_cast<float>(bits); }
uint32_t B(float value) { return std::bit_cast<uint32_t>(value); }

struct Group {
  uint8_t exponent;
  std::vector<uint8_t> codes;  // 16 codes, (sign << BITS) | magnitude
};

// Packs `values` as the first group of an otherwise zero tile through the
// scalar specification and the public path; checks they agree; returns group 0.
template <typename T>
Group PackFirstGroup(TileFormat format, const std::vector<T>& values) {
  std::vector<T> tile(kTileElems, T{0});
  std::copy(values.begin(), values.end(), tile.begin());
  std::vector<uint8_t> ref(TileBytes(format)), fast(TileBytes(format));
  if constexpr (sizeof(T) == 4) {
    PackTileFp32Ref(format, tile.data(), kTileDim, kTileDim, kTileDim, ref.data());
    PackTileFp32(format, tile.data(), kTileDim, kTileDim, kTileDim, fast.data());
  } else {
    PackTileBf16Ref(format, tile.data(), kTileDim, kTileDim, kTileDim, ref.data());
    PackTileBf16(format, tile.data(), kTileDim, kTileDim, kTileDim, fast.data());
  }
  EXPECT_EQ(ref, fast);
  Group group{fast[0], std::vector<uint8_t>(16)};
  for (int idx = 0; idx < 16; ++idx) {
    group.codes[idx] = format == kBfp8
                           ? fast[64 + idx]
                           : static_cast<uint8_t>((fast[64 + idx / 2] >> (4 * (idx % 2))) & 0xF);
  }
  return group;
}

std::vector<uint8_t> Codes(std::vector<uint8_t> head) {
  head.resize(16, 0);
  return head;
}

// Builds a tile whose group 0 is (exponent, codes) and decodes it through both
// paths, returning the 16 fp32 bit patterns of row 0, cols 0..15.
std::vector<uint32_t> DecodeFirstGroup(TileFormat format, uint8_t exponent,
                                       const std::vector<uint8_t>& codes) {
  std::vector<uint8_t> tile(TileBytes(format), 0);
  tile[0] = exponent;
  for (size_t idx = 0; idx < codes.size(); ++idx) {
    if (format == kBfp8) {
      tile[64 + idx] = codes[idx];
    } else {
      tile[64 + idx / 2] |= static_cast<uint8_t>(codes[idx] << (4 * (idx % 2)));
    }
  }
  std::vector<float> ref(kTileElems), fast(kTileElems);
  UnpackTileToFp32Ref(format, tile.data(), ref.data(), kTileDim, kTileDim, kTileDim);
  UnpackTileToFp32(format, tile.data(), fast.data(), kTileDim, kTileDim, kTileDim);
  std::vector<uint32_t> bits(codes.size());
  for (size_t idx = 0; idx < codes.size(); ++idx) {
    EXPECT_EQ(B(ref[idx]), B(fast[idx])) << "lane " << idx;
    bits[idx] = B(fast[idx]);
  }
  return bits;
}

// Row max 1.0 -> E = 0x7F, bfp4 quantum 0.25. 0x3F200001 (0.62500006) has raw
// exponent 126, so d = 1 shifts out its low bit: 2.5 quanta exactly, a tie, to
// even 2 (0.5); true RNE would give 3. 0x3E000001 (0.125 + tiny, d = 3) becomes
// an exact tie at 0.5 quanta and goes to 0. With d = 0 nothing is discarded:
// 0x3F900001 (1.1250001, 4.5 quanta + tiny) rounds up to 5.
TEST(BfpEdgeTest, TiesAfterTruncatingAlignment) {
  const Group bfp4 =
      PackFirstGroup(kBfp4, std::vector<float>{1.0f, F(0x3F200001), F(0x3E000001), F(0x3E000007),
                                               0.625f, 0.875f, 1.125f, F(0x3F900001)});
  EXPECT_EQ(bfp4.exponent, 0x7F);
  EXPECT_THAT(bfp4.codes, ElementsAreArray(Codes({4, 2, 0, 0, 2, 4, 4, 5})));
  // bfp8 quantum 2^-6: 0.62500006 is 40.000004 quanta -> 40 (0x28).
  const Group bfp8 = PackFirstGroup(kBfp8, std::vector<float>{1.0f, F(0x3F200001)});
  EXPECT_THAT(bfp8.codes, ElementsAreArray(Codes({64, 40})));
}

// Saturation instead of an exponent bump: E stays 0x7F. bfp4: 1.9 = 7.6 q -> 8
// -> 7; 1.875 = 7.5 q tie, odd -> 8 -> 7; 0x3FFFFFFF -> 7; -1.9 -> sign | 7.
// bfp8 (q = 2^-6): 1.9 = 121.6 -> 122; 1.875 = 120 exactly; 1.9921875 = 127.5
// tie, odd -> 128 -> 127; 0x3FFFFFFF = 127.99999 -> 127; 1.984375 = 127 exactly.
TEST(BfpEdgeTest, SaturationNearNextPowerOfTwo) {
  const std::vector<float> row = {1.9f, 1.875f, F(0x3FFFFFFF), -1.9f, 1.9921875f, 1.984375f};
  const Group bfp4 = PackFirstGroup(kBfp4, row);
  EXPECT_EQ(bfp4.exponent, 0x7F);
  EXPECT_THAT(bfp4.codes, ElementsAreArray(Codes({7, 7, 7, 0xF, 7, 7})));
  const Group bfp8 = PackFirstGroup(kBfp8, row);
  EXPECT_EQ(bfp8.exponent, 0x7F);
  EXPECT_THAT(bfp8.codes, ElementsAreArray(Codes({122, 120, 127, 0x80 | 122, 127, 127})));
}

// 1e3 has raw exponent 136 (2^9 <= 1000 < 2^10) -> E = 0x88. bfp4 q = 2^7:
// 1000 / 128 = 7.8 -> 8 -> 7 (896); 3 / 128 -> 0; 1e-30 is shifted out.
// bfp8 q = 2^3: 1000 / 8 = 125 exactly; 3 / 8 = 0.375 -> 0.
TEST(BfpEdgeTest, RowMixingTinyAndLarge) {
  const std::vector<float> row = {1e-30f, 1e3f, -1e-30f, 3.0f};
  const Group bfp4 = PackFirstGroup(kBfp4, row);
  EXPECT_EQ(bfp4.exponent, 0x88);
  EXPECT_THAT(bfp4.codes, ElementsAreArray(Codes({0, 7, 0, 0})));
  const Group bfp8 = PackFirstGroup(kBfp8, row);
  EXPECT_EQ(bfp8.exponent, 0x88);
  EXPECT_THAT(bfp8.codes, ElementsAreArray(Codes({0, 125, 0, 0})));
  EXPECT_EQ(DecodeFirstGroup(kBfp8, 0x88, Codes({0, 125}))[1], B(1000.0f));
  EXPECT_EQ(DecodeFirstGroup(kBfp4, 0x88, Codes({0, 7}))[1], B(896.0f));
}

// Zero/denormal inputs give code 0 (current builds, spec 2.4), so a row of
// denormals has E = 0 and all-zero codes. FLT_MIN (exponent 1) is normal:
// bfp4 code 4 under E = 1, which decodes back to FLT_MIN.
TEST(BfpEdgeTest, DenormalRows) {
  const std::vector<float> denormals = {F(0x00000001), F(0x007FFFFF), F(0x807FFFFF), F(0x00400000)};
  for (TileFormat format : {kBfp4, kBfp8}) {
    const Group group = PackFirstGroup(format, denormals);
    EXPECT_EQ(group.exponent, 0);
    EXPECT_THAT(group.codes, ElementsAreArray(Codes({})));
  }
  const Group with_min = PackFirstGroup(kBfp4, std::vector<float>{F(0x00800000), F(0x00400000)});
  EXPECT_EQ(with_min.exponent, 1);
  EXPECT_THAT(with_min.codes, ElementsAreArray(Codes({4, 0})));
  EXPECT_EQ(DecodeFirstGroup(kBfp4, 1, Codes({4}))[0], 0x00800000u);
}

// -0.0 packs as +0 (code 0, never 0x8/0x80), and so does any value whose
// rounded magnitude is 0 (-0.05 under E = 0x7F).
TEST(BfpEdgeTest, NegativeZeros) {
  for (TileFormat format : {kBfp4, kBfp8}) {
    const Group zeros = PackFirstGroup(format, std::vector<float>(16, -0.0f));
    EXPECT_EQ(zeros.exponent, 0);
    EXPECT_THAT(zeros.codes, ElementsAreArray(Codes({})));
  }
  const Group mixed = PackFirstGroup(kBfp4, std::vector<float>{-0.0f, 1.0f, -0.0f, -0.05f});
  EXPECT_EQ(mixed.exponent, 0x7F);
  EXPECT_THAT(mixed.codes, ElementsAreArray(Codes({0, 4, 0, 0})));
}

// NaN/Inf have raw exponent 255, which becomes E. Inf's significand 1.0 is 4
// (bfp4) / 64 (bfp8) quanta; canonical NaN 1.5 is 6 / 96. 1.0 shifts out.
// 3e38 = 0x7F61B1E6 (exponent 254, d = 1): bfp4 3.53 quanta + the window ->
// 4, i.e. 2^128 = +Inf on decode; bfp8 56.4 -> 56 = 1.75 * 2^127.
TEST(BfpEdgeTest, NanInfRows) {
  const std::vector<float> row = {INFINITY, F(0x7FC00000), -INFINITY, 1.0f, 3e38f};
  const Group bfp4 = PackFirstGroup(kBfp4, row);
  EXPECT_EQ(bfp4.exponent, 0xFF);
  EXPECT_THAT(bfp4.codes, ElementsAreArray(Codes({4, 6, 0xC, 0, 4})));
  const Group bfp8 = PackFirstGroup(kBfp8, row);
  EXPECT_EQ(bfp8.exponent, 0xFF);
  EXPECT_THAT(bfp8.codes, ElementsAreArray(Codes({64, 96, 0xC0, 0, 56})));

  const std::vector<uint32_t> decoded4 = DecodeFirstGroup(kBfp4, 0xFF, bfp4.codes);
  EXPECT_THAT(std::vector<uint32_t>(decoded4.begin(), decoded4.begin() + 5),
              ElementsAreArray({0x7F800000u, 0x7FC00000u, 0xFF800000u, 0u, 0x7F800000u}));
  const std::vector<uint32_t> decoded8 = DecodeFirstGroup(kBfp8, 0xFF, bfp8.codes);
  EXPECT_THAT(std::vector<uint32_t>(decoded8.begin(), decoded8.begin() + 5),
              ElementsAreArray({0x7F800000u, 0x7FC00000u, 0xFF800000u, 0u, 0x7F600000u}));
}

// bf16 sources are widened exactly, so rounding is true RNE: bf16 0x3F21
// (0.62890625 = 2.52 q) -> 3, 0x3F20 (0.625, tie) -> 2. Pre-rounding fp32 to
// bf16 changes results: fp32 0x3F5FFFFF (just under the 3.5 q tie) -> 3, while
// its bf16 rounding 0x3F60 (0.875, the tie) -> 4.
TEST(BfpEdgeTest, Bf16OriginInputs) {
  const Group bf16 = PackFirstGroup(
      kBfp4, std::vector<uint16_t>{0x3F80, 0x3F21, 0x3F20, Fp32ToBf16(F(0x3F5FFFFF))});
  EXPECT_THAT(bf16.codes, ElementsAreArray(Codes({4, 3, 2, 4})));
  const Group fp32 =
      PackFirstGroup(kBfp4, std::vector<float>{1.0f, 0.62890625f, 0.625f, F(0x3F5FFFFF)});
  EXPECT_THAT(fp32.codes, ElementsAreArray(Codes({4, 3, 2, 3})));
  const Group bf16_8 = PackFirstGroup(kBfp8, std::vector<uint16_t>{0x3F80, 0x3F21});
  EXPECT_THAT(bf16_8.codes, ElementsAreArray(Codes({64, 40})));  // 40.25 q -> 40
}

// Spec 3.2 host decode with small exponents, where lz (left shifts to normalise
// the magnitude) approaches E. bfp4, E = 1: mag 1 has lz 2 > E -> +0 (the sign
// is dropped too); mag 3 has lz 1 -> exp 0 with fraction .5 -> 0x00400000; mag 4
// -> exp 1 -> 0x00800000; 0x8 (never produced) -> -0.0; 0xB -> 0x80400000.
// E = 0: mag 4 -> 0; mag 6 -> 0x00400000. E = 2: mag 1 -> exp 0, fraction 0 -> 0.
// E = 200: 0xF = -7 * 2^71 = -1.75 * 2^73 -> 0xE4600000.
TEST(BfpDecodeTest, Bfp4SmallExponents) {
  EXPECT_THAT(DecodeFirstGroup(kBfp4, 1, {1, 3, 4, 8, 0xB, 9}),
              ElementsAreArray({0u, 0x00400000u, 0x00800000u, 0x80000000u, 0x80400000u, 0u}));
  EXPECT_THAT(DecodeFirstGroup(kBfp4, 0, {4, 6}), ElementsAreArray({0u, 0x00400000u}));
  EXPECT_THAT(DecodeFirstGroup(kBfp4, 2, {1, 2}), ElementsAreArray({0u, 0x00800000u}));
  EXPECT_THAT(DecodeFirstGroup(kBfp4, 127, {5}), ElementsAreArray({B(1.25f)}));
  EXPECT_THAT(DecodeFirstGroup(kBfp4, 200, {0xF}), ElementsAreArray({0xE4600000u}));
}

// bfp8: E = 5: mag 1 (lz 6 > 5) -> +0; mag 3 (lz 5) -> exp 0, fraction
// (3 << 6) & 0x7F = 64 -> 0x00400000. E = 6: mag 1 -> exp 0, fraction 0 -> 0.
// E = 7: mag 1 -> exp 1 -> 0x00800000.
TEST(BfpDecodeTest, Bfp8SmallExponents) {
  EXPECT_THAT(DecodeFirstGroup(kBfp8, 5, {1, 3, 0x81}), ElementsAreArray({0u, 0x00400000u, 0u}));
  EXPECT_THAT(DecodeFirstGroup(kBfp8, 6, {1}), ElementsAreArray({0u}));
  EXPECT_THAT(DecodeFirstGroup(kBfp8, 7, {1, 0x81}), ElementsAreArray({0x00800000u, 0x80800000u}));
}

}  // namespace
}  // namespace lmhead
