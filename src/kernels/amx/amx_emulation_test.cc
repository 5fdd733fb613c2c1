// SPDX-License-Identifier: Apache-2.0
// The AMX kernels' decode, layout, blocking and row checks on emulated tiles, vs the reference.
//
// The tile instructions themselves only run on AMX machines (kernels_test.cc
// covers the registered "matmul/bfp4b/fp32/amx" set there); everything around
// them is the same code here (amx_emulated.h), and the emulated TDPBF16PS
// flushes denormals as the real one does. kernels_test.cc also runs its whole
// suite on the emulated set; these tests add the AMX blocking's own edges.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "kernels/amx/amx_emulated.h"
#include "kernels/cpu_features.h"
#include "kernels/kernel_test_util.h"
#include "kernels/kernels.h"
#include "kernels/test_weights.h"
#include "kernels/tile_layout.h"
#include "lmhead/formats.h"

namespace lmhead {
namespace {

using kernel_test::Case;

constexpr TileLayout kPanels = TileLayout::kBfp4bPanels;

// `fn` of an emulated set against the reference of its numerics (bit for bit
// for tt-lofi), with and without the set's prepare.
void ExpectMatches(const char* name, const MatmulKernels& set, MatmulFn fn, const Case& c) {
  kernel_test::ExpectMatchesReference(name, set.numerics, fn, c, kPanels);
  kernel_test::ExpectMatchesReference((std::string(name) + ", prepared").c_str(), set.numerics, fn,
                                      c, kPanels, set.prepare);
}

void ExpectGemvMatches(const Case& c) {
  ExpectMatches("emulated amx gemv", amx_test::EmulatedAmxKernels(), amx_test::EmulatedGemv, c);
}

void ExpectGemmMatches(const Case& c) {
  ExpectMatches("emulated amx gemm", amx_test::EmulatedAmxKernels(), amx_test::EmulatedGemm, c);
}

void ExpectLofiMatches(const Case& c) {
  ExpectMatches("emulated amx tt-lofi", amx_test::EmulatedAmxLofiKernels(), amx_test::EmulatedLofi,
                c);
}

class AmxEmulationTest : public testing::Test {
 protected:
  void SetUp() override {
    // The decode needs AVX-512; the row checks and rare paths are the
    // vdpbf16ps sets' (AVX512-BF16).
    if (!DetectCpuFeatures().Has(kCpuAvx512 | kCpuAvx512Bf16)) {
      GTEST_SKIP() << "needs AVX-512 with BF16";
    }
  }
};

// Every weight lands, exactly, at B row k / 2, word 2 n + k % 2 of its half,
// across the whole normal exponent range and every code (-0 included).
TEST_F(AmxEmulationTest, DecodePutsEveryWeightAtItsVnniPosition) {
  std::mt19937 rng(3);
  TestWeights w(TileFormat::kBfp4b, 1, 1);
  w.FillRandom(rng, 3, 254);
  w.SetCode(5, 7, 8);  // -0
  std::vector<uint8_t> packed(PackedTileBytes(kPanels, TileFormat::kBfp4b, 1, 1));
  const TileMatrixView view = PackTiles(kPanels, w.View(), 1, packed.data());
  uint16_t left[16 * 32], right[16 * 32];
  amx_test::DecodePanelTile(view.tiles, left, right);
  for (int64_t k = 0; k < kTileDim; ++k) {
    for (int64_t n = 0; n < kTileDim; ++n) {
      const uint16_t* half = n < 16 ? left : right;
      const uint16_t bits = half[(k / 2) * 32 + 2 * (n % 16) + k % 2];
      ASSERT_EQ(static_cast<double>(Bf16ToFp32(bits)), w.Value(k, n)) << "k " << k << " n " << n;
    }
  }
}

// Prefill: row blocks of 32 with a last one of <= 16 rows, more than one
// chunk of kRowChunk rows, more than kNBlock tile columns, K over two blocks
// of kKBlock tile rows (34 tiles, the last partly past k).
TEST_F(AmxEmulationTest, GemmMatchesReference) {
  std::mt19937 rng(43);
  TestWeights w(TileFormat::kBfp4b, 34, 9);
  w.FillRandom(rng, 118, 134);
  const int64_t k = 34 * kTileDim - 10;
  const std::vector<uint16_t> x = RandomBf16(rng, 530, k, k, 110, 134);
  for (int64_t m : {33, 50, 530}) {
    for (const auto& range : {std::pair<int64_t, int64_t>{0, 9}, {1, 3}}) {
      ExpectGemmMatches({&w, &x, m, k, k, range.first, range.second, 9 * kTileDim - 3, {}});
    }
  }
}

// Rows the tiles would get wrong go to the reference: a row whose only
// non-zero activation is a bf16 denormal (TDPBF16PS reads it as zero), a row
// of products too small for a normal fp32 partial sum, and rows holding inf.
TEST_F(AmxEmulationTest, RowsOutsideTheFastPathMatchTheReference) {
  std::mt19937 rng(53);
  TestWeights w(TileFormat::kBfp4b, 10, 3);
  w.FillRandom(rng, 120, 126);
  const int64_t m = 40, k = 300, x_stride = 307, n_cols = 3 * kTileDim - 7;
  std::vector<uint16_t> x = RandomBf16(rng, m, k, x_stride, 100, 125);
  std::fill(x.begin() + 5 * x_stride, x.begin() + 6 * x_stride, uint16_t{0});
  x[5 * x_stride + 7] = 0x0003;  // denormal
  const std::vector<uint16_t> tiny = RandomBf16(rng, 1, k, x_stride, 3, 8);
  std::copy(tiny.begin(), tiny.end(), x.begin() + 9 * x_stride);
  x[20 * x_stride + 9] = 0x7F80;  // +inf
  for (int64_t rows : {int64_t{8}, int64_t{32}}) {
    ExpectGemvMatches({&w, &x, rows, k, x_stride, 0, 3, n_cols, {}});
  }
  ExpectGemmMatches({&w, &x, m, k, x_stride, 0, 3, n_cols, {}});
}

// tt-lofi passes: 1 to 32 rows with A1 used from 17 on, several passes per
// chunk of kLofiRowChunk rows and a second chunk ending in a partial 8-row
// block; K blocks with packer L1 accumulation; in one pass, 8-row blocks
// refused by the panel check (a denormal only activation, inf) beside fast
// ones, and rows whose chunks take the split and double paths (activations
// spanning 2 to 40 binades).
TEST_F(AmxEmulationTest, LofiPassesMatchTheReferenceBitForBit) {
  std::mt19937 rng(59);
  TestWeights w(TileFormat::kBfp4b, 6, 3);
  w.FillRandom(rng, 118, 130);
  const int64_t m = 141, k = 6 * kTileDim - 5, x_stride = k + 3, n_cols = 3 * kTileDim - 9;
  std::vector<uint16_t> x = RandomBf16(rng, m, k, x_stride, 112, 130);
  for (int64_t row = 0; row < m; row += 3) {
    const uint32_t exponent = 112 - 2 - static_cast<uint32_t>(row % 39);
    x[static_cast<size_t>(row * x_stride + row % k)] =
        static_cast<uint16_t>(exponent << 7 | (rng() & 0x7Fu));
  }
  std::fill(x.begin() + 26 * x_stride, x.begin() + 27 * x_stride, uint16_t{0});
  x[26 * x_stride + 11] = 0x0005;  // denormal: block 24-31 of the first pass
  x[61 * x_stride + 40] = 0x7F80;  // +inf: block 56-63
  for (int64_t rows : {int64_t{4}, int64_t{16}, int64_t{17}, int64_t{32}}) {
    ExpectLofiMatches({&w, &x, rows, k, x_stride, 0, 3, n_cols, {1, true}});
  }
  ExpectLofiMatches({&w, &x, m, k, x_stride, 1, 3, n_cols, {2, true}});
  ExpectLofiMatches({&w, &x, m, k, x_stride, 0, 3, n_cols, {3, false}});
}

// A panel with a group outside the normal exponent range (fp32 denormal,
// inf or NaN weights after TT's decode) is computed by the reference.
TEST_F(AmxEmulationTest, PanelsOutsideTheNormalRangeMatchTheReference) {
  for (uint8_t exponent : {uint8_t{2}, uint8_t{255}}) {
    std::mt19937 rng(47);
    TestWeights w(TileFormat::kBfp4b, 2, 2);
    w.FillRandom(rng, 120, 130);
    w.SetExponent(40, 40, exponent);  // tile (1, 1)
    const std::vector<uint16_t> x = RandomBf16(rng, 40, 64, 64, 120, 130);
    ExpectGemvMatches({&w, &x, 8, 64, 64, 0, 2, 64, {}});
    ExpectGemmMatches({&w, &x, 40, 64, 64, 0, 2, 64, {}});
    ExpectLofiMatches({&w, &x, 40, 64, 64, 0, 2, 64, {1, true}});
  }
}

}  // namespace
}  // namespace lmhead
