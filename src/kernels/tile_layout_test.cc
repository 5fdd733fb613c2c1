// SPDX-License-Identifier: Apache-2.0
// Tests: PackTiles places every code, exponent and footer byte where tile_layout.h says.
#include "kernels/tile_layout.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "kernels/test_weights.h"
#include "lmhead/formats.h"

namespace lmhead {
namespace {

constexpr TileLayout kPanels = TileLayout::kBfp4bPanels;

std::vector<uint8_t> Pack(const TestWeights& w, int64_t n_tiles, TileMatrixView* packed) {
  const TileMatrixView view = w.View();
  std::vector<uint8_t> bytes(PackedTileBytes(kPanels, view.format, view.k_tiles, n_tiles));
  *packed = PackTiles(kPanels, view, n_tiles, bytes.data());
  return bytes;
}

// The nibble of element (k, n) in the packed bytes, by the header's formula:
// panel n / 32, tile k / 32, block 4 h + r / 8 with h = (n % 32) / 16 and
// r = k % 32, word 2 (n % 16) + r % 2, nibble q = (r % 8) / 2 of the word.
uint32_t PackedCode(const std::vector<uint8_t>& bytes, int64_t k_tiles, int64_t k, int64_t n) {
  const int64_t r = k % 32, h = (n % 32) / 16, l = n % 16;
  const int64_t q = (r % 8) / 2, word = 2 * l + r % 2;
  const int64_t offset = (n / 32) * Bfp4bPanelBytes(k_tiles) + (k / 32) * 576 + 64 +
                         64 * (4 * h + r / 8) + 2 * word + q / 2;
  return (bytes[static_cast<size_t>(offset)] >> (4 * (q % 2))) & 0xF;
}

TEST(TileLayoutTest, SizesKeepTilesAligned) {
  // DeepSeek-V3: Kt = 224, footer 16 + 448 bytes rounded up to 512.
  EXPECT_EQ(Bfp4bPanelFooterBytes(224), 512);
  EXPECT_EQ(Bfp4bPanelBytes(224), 224 * 576 + 512);
  EXPECT_EQ(Bfp4bPanelFooterBytes(1), 64);
  EXPECT_EQ(PackedTileBytes(kPanels, TileFormat::kBfp4b, 7, 3), size_t{3} * (7 * 576 + 64));
  EXPECT_EQ(PackedTileBytes(TileLayout::kTtRowMajor, TileFormat::kBfp8b, 7, 3), size_t{21} * 1088);
}

TEST(TileLayoutTest, EveryCodeLandsWhereTheHeaderSays) {
  TestWeights w(TileFormat::kBfp4b, 2, 2);
  for (int64_t k = 0; k < w.rows(); ++k) {
    for (int64_t n = 0; n < w.cols(); n += 16) w.SetExponent(k, n, 120);
  }
  // One non-zero code at a time, so a misplaced nibble shows up as a zero.
  for (int64_t k = 0; k < w.rows(); k += 3) {
    for (int64_t n = 0; n < w.cols(); n += 5) {
      const uint32_t code = static_cast<uint32_t>(1 + (k + n) % 15);
      w.SetCode(k, n, code);
      TileMatrixView packed;
      const std::vector<uint8_t> bytes = Pack(w, 2, &packed);
      ASSERT_EQ(PackedCode(bytes, 2, k, n), code) << "k=" << k << " n=" << n;
      int nonzero = 0;
      for (int64_t kk = 0; kk < w.rows(); ++kk) {
        for (int64_t nn = 0; nn < w.cols(); ++nn) nonzero += PackedCode(bytes, 2, kk, nn) != 0;
      }
      ASSERT_EQ(nonzero, 1) << "k=" << k << " n=" << n;
      w.SetCode(k, n, 0);
    }
  }
}

TEST(TileLayoutTest, ExponentsAreHalfMajorAndZeroGroupsTakeTheMinimum) {
  TestWeights w(TileFormat::kBfp4b, 2, 1);
  std::mt19937 rng(3);
  w.FillRandom(rng, 110, 140);
  // Row 5 of tile 1, columns 16..31: an all-zero group (with -0 codes) whose
  // exponent would otherwise be the panel's smallest.
  for (int64_t n = 16; n < 32; ++n) w.SetCode(32 + 5, n, n % 2 == 0 ? 8u : 0u);
  w.SetExponent(32 + 5, 16, 2);
  int lo = 255, hi = 0;
  for (int64_t k = 0; k < w.rows(); ++k) {
    for (int64_t n = 0; n < 32; n += 16) {
      if (k == 37 && n == 16) continue;
      const uint8_t e = w.bytes()[static_cast<size_t>((k / 32) * 576 +
                                                      ((k % 32 / 16) * 2 + n / 16) * 16 + k % 16)];
      lo = std::min<int>(lo, e);
      hi = std::max<int>(hi, e);
    }
  }
  TileMatrixView packed;
  const std::vector<uint8_t> bytes = Pack(w, 1, &packed);
  const uint8_t* footer = bytes.data() + 2 * 576;
  EXPECT_EQ(footer[0], lo);
  EXPECT_EQ(footer[1], hi);
  for (int64_t kt = 0; kt < 2; ++kt) {
    for (int h = 0; h < 2; ++h) {
      for (int r = 0; r < 32; ++r) {
        const uint8_t want =
            kt == 1 && r == 5 && h == 1
                ? static_cast<uint8_t>(lo)
                : w.bytes()[static_cast<size_t>(kt * 576 + ((r / 16) * 2 + h) * 16 + r % 16)];
        EXPECT_EQ(bytes[static_cast<size_t>(kt * 576 + 32 * h + r)], want)
            << "kt=" << kt << " h=" << h << " r=" << r;
      }
    }
  }
}

TEST(TileLayoutTest, FooterHoldsTheChunkSpreads) {
  TestWeights w(TileFormat::kBfp4b, 2, 1);
  for (int64_t k = 0; k < w.rows(); ++k) {
    for (int64_t n = 0; n < 32; ++n) w.SetCode(k, n, 1);
    w.SetExponent(k, 0, 120);
    w.SetExponent(k, 16, 120);
  }
  w.SetExponent(3, 16, 126);  // tile 0, chunk 0, right half: spread 6
  w.SetExponent(20, 0, 117);  // tile 0, chunk 1, left half: spread 3
  w.SetExponent(40, 0, 100);  // tile 1, chunk 0: an all-zero group does not count
  for (int64_t n = 0; n < 16; ++n) w.SetCode(40, n, 0);
  w.SetExponent(63, 16, 131);  // tile 1, chunk 1: spread 11
  TileMatrixView packed;
  const std::vector<uint8_t> bytes = Pack(w, 1, &packed);
  const uint8_t* footer = bytes.data() + 2 * 576;
  EXPECT_EQ(footer[0], 117);
  EXPECT_EQ(footer[1], 131);
  EXPECT_EQ(footer[2], 11);
  EXPECT_EQ(footer[kBfp4bFooterSpreads + 0], 6);
  EXPECT_EQ(footer[kBfp4bFooterSpreads + 1], 3);
  EXPECT_EQ(footer[kBfp4bFooterSpreads + 2], 0);
  EXPECT_EQ(footer[kBfp4bFooterSpreads + 3], 11);
  for (int64_t i = kBfp4bFooterSpreads + 4; i < Bfp4bPanelFooterBytes(2); ++i) {
    EXPECT_EQ(footer[i], 0) << i;
  }
}

// Unpacking gives back TT's bytes (zero groups aside, whose exponent changed)
// for a matrix wider than the packed columns, and packing kTtRowMajor copies.
TEST(TileLayoutTest, UnpackInvertsPack) {
  TestWeights w(TileFormat::kBfp4b, 3, 4);
  std::mt19937 rng(5);
  w.FillRandom(rng, 3, 254);
  TileMatrixView packed;
  const std::vector<uint8_t> bytes = Pack(w, 3, &packed);
  ASSERT_EQ(packed.n_tiles, 3);
  ASSERT_EQ(packed.layout, kPanels);
  std::vector<uint8_t> copy(PackedTileBytes(TileLayout::kTtRowMajor, TileFormat::kBfp4b, 3, 3));
  const TileMatrixView rows = PackTiles(TileLayout::kTtRowMajor, w.View(), 3, copy.data());
  for (int64_t kt = 0; kt < 3; ++kt) {
    for (int64_t nt = 0; nt < 3; ++nt) {
      uint8_t want[576], got[576], got_rows[576];
      UnpackTile(w.View(), kt, nt, want);
      UnpackTile(packed, kt, nt, got);
      UnpackTile(rows, kt, nt, got_rows);
      for (int i = 0; i < 576; ++i) {
        ASSERT_EQ(got[i], want[i]) << "kt=" << kt << " nt=" << nt << " byte " << i;
        ASSERT_EQ(got_rows[i], want[i]) << "kt=" << kt << " nt=" << nt << " byte " << i;
      }
    }
  }
}

}  // namespace
}  // namespace lmhead
