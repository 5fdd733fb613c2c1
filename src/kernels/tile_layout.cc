// SPDX-License-Identifier: Apache-2.0
// PackTiles / UnpackTile: the kBfp4bPanels layout of tile_layout.h, in portable code.
#include "kernels/tile_layout.h"

#include <algorithm>
#include <cstring>

#include "base/check.h"
#include "lmhead/formats.h"

namespace lmhead {
namespace {

constexpr int kGroupBytes = 8;            // bfp4_b: 16 codes of one face row
constexpr int kBlockRows = 8;             // tile rows per 64-byte block
constexpr int kEmptyPanelExponent = 129;  // 2^0 scale: harmless for any finite x

// TT group of tile row r, column half h (spec §1.2).
int GroupOf(int r, int h) { return ((r / kFaceDim) * 2 + h) * kFaceDim + r % kFaceDim; }

uint64_t GroupCodes(const uint8_t* tile, int g) {
  uint64_t codes;
  std::memcpy(&codes, tile + kBfpGroupsPerTile + g * kGroupBytes, sizeof(codes));
  return codes;
}

// A group all of whose codes are +0 or -0 (sign bits aside).
bool AllZero(uint64_t codes) { return (codes & 0x7777777777777777ull) == 0; }

// Byte i of the result = nibble i of x (i < 8).
uint64_t SpreadNibbles(uint32_t x) {
  uint64_t v = x;
  v = (v | v << 16) & 0x0000FFFF0000FFFFull;
  v = (v | v << 8) & 0x00FF00FF00FF00FFull;
  return (v | v << 4) & 0x0F0F0F0F0F0F0F0Full;
}

// 16-bit word i of the result = byte i of x (i < 4).
uint64_t SpreadBytes(uint32_t x) {
  uint64_t v = x;
  v = (v | v << 16) & 0x0000FFFF0000FFFFull;
  return (v | v << 8) & 0x00FF00FF00FF00FFull;
}

// The 64-byte block of rows [8 i, 8 i + 8), column half h: the rows' groups
// are 8 consecutive TT groups; word 2 l + p takes nibble l of rows p, 2 + p,
// 4 + p and 6 + p (bits 0, 4, 8, 12).
void PackBlock(const uint8_t* tile, int h, int i, uint8_t* out) {
  uint64_t rows[kBlockRows];
  for (int t = 0; t < kBlockRows; ++t) rows[t] = GroupCodes(tile, GroupOf(kBlockRows * i + t, h));
  uint16_t words[2 * kFaceDim];
  for (int p = 0; p < 2; ++p) {
    for (int half = 0; half < 2; ++half) {
      const int shift = 32 * half;
      const uint64_t ab = SpreadNibbles(static_cast<uint32_t>(rows[p] >> shift)) |
                          SpreadNibbles(static_cast<uint32_t>(rows[2 + p] >> shift)) << 4;
      const uint64_t cd = SpreadNibbles(static_cast<uint32_t>(rows[4 + p] >> shift)) |
                          SpreadNibbles(static_cast<uint32_t>(rows[6 + p] >> shift)) << 4;
      for (int quarter = 0; quarter < 2; ++quarter) {
        const uint64_t four = SpreadBytes(static_cast<uint32_t>(ab >> (32 * quarter))) |
                              SpreadBytes(static_cast<uint32_t>(cd >> (32 * quarter))) << 8;
        for (int w = 0; w < 4; ++w) {
          const int l = 8 * half + 4 * quarter + w;
          words[2 * l + p] = static_cast<uint16_t>(four >> (16 * w));
        }
      }
    }
  }
  std::memcpy(out, words, sizeof(words));
}

void PackBfp4bTile(const uint8_t* tile, uint8_t exp_min, uint8_t* out) {
  for (int h = 0; h < 2; ++h) {
    for (int r = 0; r < kTileDim; ++r) {
      const int g = GroupOf(r, h);
      out[32 * h + r] = AllZero(GroupCodes(tile, g)) ? exp_min : tile[g];
    }
  }
  for (int b = 0; b < 8; ++b) PackBlock(tile, b / 4, b % 4, out + kBfpGroupsPerTile + 64 * b);
}

// The exponent spread of chunk c of a TT tile (see the footer in the header).
int ChunkSpread(const uint8_t* tile, int c) {
  int spread = 0;
  for (int h = 0; h < 2; ++h) {
    int lo = 255, hi = 0;
    for (int r = kFaceDim * c; r < kFaceDim * (c + 1); ++r) {
      const int g = GroupOf(r, h);
      if (AllZero(GroupCodes(tile, g))) continue;
      lo = std::min<int>(lo, tile[g]);
      hi = std::max<int>(hi, tile[g]);
    }
    if (lo <= hi) spread = std::max(spread, hi - lo);
  }
  return spread;
}

// One panel: tile column nt of `src`.
void PackBfp4bPanel(const TileMatrixView& src, int64_t nt, uint8_t* out) {
  int exp_min = 255, exp_max = 0;
  for (int64_t kt = 0; kt < src.k_tiles; ++kt) {
    const uint8_t* tile = TileAt(src, kt, nt);
    for (int g = 0; g < kBfpGroupsPerTile; ++g) {
      if (AllZero(GroupCodes(tile, g))) continue;
      exp_min = std::min<int>(exp_min, tile[g]);
      exp_max = std::max<int>(exp_max, tile[g]);
    }
  }
  if (exp_min > exp_max) exp_min = exp_max = kEmptyPanelExponent;
  uint8_t* footer = out + src.k_tiles * kBfp4bTileBytes;
  std::memset(footer, 0, static_cast<size_t>(Bfp4bPanelFooterBytes(src.k_tiles)));
  footer[0] = static_cast<uint8_t>(exp_min);
  footer[1] = static_cast<uint8_t>(exp_max);
  for (int64_t kt = 0; kt < src.k_tiles; ++kt) {
    const uint8_t* tile = TileAt(src, kt, nt);
    PackBfp4bTile(tile, static_cast<uint8_t>(exp_min), out + kt * kBfp4bTileBytes);
    for (int c = 0; c < 2; ++c) {
      const int spread = ChunkSpread(tile, c);
      footer[kBfp4bFooterSpreads + 2 * kt + c] = static_cast<uint8_t>(spread);
      footer[2] = static_cast<uint8_t>(std::max<int>(footer[2], spread));
    }
  }
}

void UnpackBfp4bPanelTile(const uint8_t* packed, uint8_t* tile) {
  for (int h = 0; h < 2; ++h) {
    for (int r = 0; r < kTileDim; ++r) tile[GroupOf(r, h)] = packed[32 * h + r];
  }
  uint8_t* data = tile + kBfpGroupsPerTile;
  std::memset(data, 0, kBfp4bTileBytes - kBfpGroupsPerTile);
  for (int b = 0; b < 8; ++b) {
    const int h = b / 4, i = b % 4;
    for (int j = 0; j < 2 * kFaceDim; ++j) {
      const uint8_t* word = packed + kBfpGroupsPerTile + 64 * b + 2 * j;
      const uint32_t bits = static_cast<uint32_t>(word[0] | word[1] << 8);
      for (int q = 0; q < 4; ++q) {
        const uint32_t code = (bits >> (4 * q)) & 0xF;
        const int row = kBlockRows * i + 2 * q + j % 2, col = j / 2;
        data[GroupOf(row, h) * kGroupBytes + col / 2] |=
            static_cast<uint8_t>(code << (4 * (col % 2)));
      }
    }
  }
}

}  // namespace

int64_t Bfp4bPanelFooterBytes(int64_t k_tiles) {
  return (kBfp4bFooterSpreads + 2 * k_tiles + 63) / 64 * 64;
}

int64_t Bfp4bPanelBytes(int64_t k_tiles) {
  return k_tiles * kBfp4bTileBytes + Bfp4bPanelFooterBytes(k_tiles);
}

size_t PackedTileBytes(TileLayout layout, TileFormat format, int64_t k_tiles, int64_t n_tiles) {
  if (layout == TileLayout::kTtRowMajor) {
    return static_cast<size_t>(k_tiles * n_tiles) * TileBytes(format);
  }
  LMHEAD_CHECK(format == TileFormat::kBfp4b, "kBfp4bPanels holds bfp4_b, not {}", ToString(format));
  return static_cast<size_t>(n_tiles * Bfp4bPanelBytes(k_tiles));
}

TileMatrixView PackTiles(TileLayout layout, const TileMatrixView& src, int64_t n_tiles,
                         uint8_t* dst) {
  LMHEAD_CHECK(src.layout == TileLayout::kTtRowMajor && n_tiles >= 0 && n_tiles <= src.n_tiles,
               "packing {} of {} tile columns", n_tiles, src.n_tiles);
  const TileMatrixView packed{dst, src.format, src.k_tiles, n_tiles, layout};
  if (layout == TileLayout::kTtRowMajor) {
    const size_t row_bytes = static_cast<size_t>(n_tiles) * TileBytes(src.format);
    for (int64_t kt = 0; kt < src.k_tiles; ++kt) {
      if (row_bytes > 0)
        std::memcpy(dst + static_cast<size_t>(kt) * row_bytes, TileAt(src, kt, 0), row_bytes);
    }
    return packed;
  }
  LMHEAD_CHECK(src.format == TileFormat::kBfp4b, "kBfp4bPanels holds bfp4_b, not {}",
               ToString(src.format));
  for (int64_t nt = 0; nt < n_tiles; ++nt) {
    PackBfp4bPanel(src, nt, dst + nt * Bfp4bPanelBytes(src.k_tiles));
  }
  return packed;
}

void UnpackTile(const TileMatrixView& w, int64_t kt, int64_t nt, uint8_t* tile) {
  if (w.layout == TileLayout::kTtRowMajor) {
    std::memcpy(tile, TileAt(w, kt, nt), TileBytes(w.format));
    return;
  }
  UnpackBfp4bPanelTile(w.tiles + nt * Bfp4bPanelBytes(w.k_tiles) + kt * kBfp4bTileBytes, tile);
}

}  // namespace lmhead
