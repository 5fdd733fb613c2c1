// SPDX-License-Identifier: Apache-2.0
// The AMX tile shapes and LDTILECFG configurations the kernels use, as constant data.
//
// No intrinsics: amx_tiles.h loads these on the hardware, and the emulated
// tiles of amx_emulated.cc take their shapes from the same bytes, so the
// tests check the configurations the hardware gets.
#ifndef LMHEAD_KERNELS_AMX_AMX_TILE_CONFIG_H_
#define LMHEAD_KERNELS_AMX_AMX_TILE_CONFIG_H_

#include <array>
#include <cstdint>

namespace lmhead::amx {

inline constexpr int kARows = 16;      // rows of one A tile
inline constexpr int kARowBytes = 64;  // bytes between A rows in memory (ActivationTiles)
inline constexpr int kBlockRows = 32;  // rows of one C block (A0 and A1)
inline constexpr int kTilePairs = 16;  // k pairs of a whole tile row: B tile rows
inline constexpr int kChunkPairs = 8;  // k pairs of one LoFi chunk (16 k)

namespace {  // internal linkage in every file that includes this header

// LDTILECFG's 64-byte operand, palette 1. Constant objects only: GCC 12 may
// drop the stores that fill a local one before LDTILECFG reads it
// (llama.cpp issue #20824).
struct alignas(64) TileConfig {
  uint8_t palette_id;
  uint8_t start_row;
  uint8_t reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
};

// Tiles 0, 1 and 4 (C0, C1, A0) have rows0 rows, tiles 2, 3 and 5 (C2, C3,
// A1) rows1 rows, tiles 6 and 7 (B) `pairs` rows. TDPBF16PS needs A's bytes
// per row to be 4 x B's rows, C's rows to be A's and C's bytes per row B's.
constexpr TileConfig MakeTileConfig(int rows0, int rows1, int pairs) {
  TileConfig config{};
  config.palette_id = 1;
  const int rows[8] = {rows0, rows0, rows1, rows1, rows0, rows1, pairs, pairs};
  const int colsb[8] = {64, 64, 64, 64, 4 * pairs, 4 * pairs, 64, 64};
  for (int t = 0; t < 8; ++t) {
    config.rows[t] = static_cast<uint8_t>(rows[t]);
    config.colsb[t] = static_cast<uint16_t>(rows[t] > 0 ? colsb[t] : 0);
  }
  return config;
}

// kTileConfigs[p][m] for m = 1..32 rows (m <= 16: rows0 = m, rows1 = 0; else
// rows0 = 16, rows1 = m - 16) and B tiles of kTilePairs (p = 0) or
// kChunkPairs (p = 1) pairs.
constexpr std::array<std::array<TileConfig, kBlockRows + 1>, 2> MakeTileConfigs() {
  std::array<std::array<TileConfig, kBlockRows + 1>, 2> configs{};
  for (int p = 0; p < 2; ++p) {
    const int pairs = p == 0 ? kTilePairs : kChunkPairs;
    for (int m = 1; m <= kBlockRows; ++m) {
      configs[p][m] =
          m <= kARows ? MakeTileConfig(m, 0, pairs) : MakeTileConfig(kARows, m - kARows, pairs);
    }
  }
  return configs;
}
constexpr std::array<std::array<TileConfig, kBlockRows + 1>, 2> kTileConfigs = MakeTileConfigs();

// The configuration for m rows (1..32) and B tiles of `pairs` k pairs
// (kTilePairs or kChunkPairs).
constexpr const TileConfig& TileConfigFor(int m, int pairs) {
  return kTileConfigs[pairs == kTilePairs ? 0 : 1][m];
}

}  // namespace
}  // namespace lmhead::amx

#endif  // LMHEAD_KERNELS_AMX_AMX_TILE_CONFIG_H_
