// SPDX-License-Identifier: Apache-2.0
// Scalar reference tile pack/unpack: tilize (spec 1.2), convert, serialise (spec 1.3).
#include "formats/tile.h"

#include <bit>
#include <cstring>

#include "formats/bfp.h"

namespace lmhead {
namespace {

static_assert(std::endian::native == std::endian::little,
              "TT's tile buffers are little-endian words; a big-endian host needs byte swaps");

using TileHalves = std::array<uint16_t, kTileElems>;

// Spec 1.2: the valid window of a row-major source in tile order; the rest of
// the tile is the pad value 0.0 (all-zero bits in fp32 and bf16 alike).
template <typename T, typename Convert>
void Tilize(const T* src, ptrdiff_t row_stride, int valid_rows, int valid_cols, Convert convert,
            auto& tile) {
  tile.fill(0);
  for (int row = 0; row < valid_rows; ++row) {
    for (int col = 0; col < valid_cols; ++col) {
      tile[TileOrderIndex(row, col)] = convert(src[row * row_stride + col]);
    }
  }
}

template <typename T, typename U, typename Convert>
void Untilize(const std::array<U, kTileElems>& tile, Convert convert, T* dst, ptrdiff_t row_stride,
              int valid_rows, int valid_cols) {
  for (int row = 0; row < valid_rows; ++row) {
    for (int col = 0; col < valid_cols; ++col) {
      dst[row * row_stride + col] = convert(tile[TileOrderIndex(row, col)]);
    }
  }
}

uint32_t FloatBits(float value) { return std::bit_cast<uint32_t>(value); }
uint32_t WidenBf16(uint16_t value) { return static_cast<uint32_t>(value) << 16; }
uint16_t Same16(uint16_t value) { return value; }

// Spec 1.3: 64 exponent bytes (one per group, group = face * 16 + row_in_face),
// then every group's data bytes in the same order.
void PackBfpTile(TileFormat format, const TileBits& tile, uint8_t* dst) {
  const int bits = BfpMagnitudeBits(format);
  const size_t group_bytes = BfpGroupDataBytes(format);
  uint8_t* data = dst + kBfpGroupsPerTile;
  for (int group = 0; group < kBfpGroupsPerTile; ++group) {
    uint8_t codes[kBfpGroupSize];
    dst[group] = PackBfpGroup(bits, &tile[group * kBfpGroupSize], codes);
    StoreBfpGroupCodes(bits, codes, data + group * group_bytes);
  }
}

void UnpackBfpTile(TileFormat format, const uint8_t* src, TileBits& tile) {
  const int bits = BfpMagnitudeBits(format);
  const size_t group_bytes = BfpGroupDataBytes(format);
  const uint8_t* data = src + kBfpGroupsPerTile;
  for (int group = 0; group < kBfpGroupsPerTile; ++group) {
    DecodeBfpGroup(bits, src[group], data + group * group_bytes, &tile[group * kBfpGroupSize]);
  }
}

// fp32 bit patterns (tile order) into a tile of any format.
void PackTileBits(TileFormat format, const TileBits& tile, uint8_t* dst) {
  switch (format) {
    case TileFormat::kBfp4b:
    case TileFormat::kBfp8b:
      PackBfpTile(format, tile, dst);
      return;
    case TileFormat::kBf16: {
      TileHalves halves;
      for (int idx = 0; idx < kTileElems; ++idx) {
        halves[idx] = Fp32ToBf16(std::bit_cast<float>(tile[idx]));
      }
      std::memcpy(dst, halves.data(), sizeof(halves));
      return;
    }
    case TileFormat::kFp32:
      std::memcpy(dst, tile.data(), sizeof(tile));
      return;
  }
}

}  // namespace

void PackTileFp32Ref(TileFormat format, const float* src, ptrdiff_t row_stride, int valid_rows,
                     int valid_cols, uint8_t* dst) {
  TileBits tile;
  Tilize(src, row_stride, valid_rows, valid_cols, FloatBits, tile);
  PackTileBits(format, tile, dst);
}

void PackTileBf16Ref(TileFormat format, const uint16_t* src, ptrdiff_t row_stride, int valid_rows,
                     int valid_cols, uint8_t* dst) {
  if (format == TileFormat::kBf16) {  // Copied verbatim: no fp32 round trip, NaNs untouched.
    TileHalves halves;
    Tilize(src, row_stride, valid_rows, valid_cols, Same16, halves);
    std::memcpy(dst, halves.data(), sizeof(halves));
    return;
  }
  TileBits tile;  // Spec 2.1: bf16 is widened exactly before packing.
  Tilize(src, row_stride, valid_rows, valid_cols, WidenBf16, tile);
  PackTileBits(format, tile, dst);
}

void UnpackTileToFp32Ref(TileFormat format, const uint8_t* src, float* dst, ptrdiff_t row_stride,
                         int valid_rows, int valid_cols) {
  TileBits tile;
  switch (format) {
    case TileFormat::kBfp4b:
    case TileFormat::kBfp8b:
      UnpackBfpTile(format, src, tile);
      break;
    case TileFormat::kBf16: {
      TileHalves halves;
      std::memcpy(halves.data(), src, sizeof(halves));
      for (int idx = 0; idx < kTileElems; ++idx) tile[idx] = WidenBf16(halves[idx]);
      break;
    }
    case TileFormat::kFp32:
      std::memcpy(tile.data(), src, sizeof(tile));
      break;
  }
  Untilize(
      tile, [](uint32_t bits) { return std::bit_cast<float>(bits); }, dst, row_stride, valid_rows,
      valid_cols);
}

void UnpackTileToBf16Ref(TileFormat format, const uint8_t* src, uint16_t* dst, ptrdiff_t row_stride,
                         int valid_rows, int valid_cols) {
  TileHalves halves;
  if (format == TileFormat::kBf16) {
    std::memcpy(halves.data(), src, sizeof(halves));
  } else {
    TileBits tile;
    if (format == TileFormat::kFp32) {
      std::memcpy(tile.data(), src, sizeof(tile));
      for (int idx = 0; idx < kTileElems; ++idx) {
        halves[idx] = Fp32ToBf16(std::bit_cast<float>(tile[idx]));
      }
    } else {
      // A bfp decode has at most 8 significant bits (bits 22..16 hold the whole
      // fraction), so its top half is the exact bf16 value, NaN payloads included.
      UnpackBfpTile(format, src, tile);
      for (int idx = 0; idx < kTileElems; ++idx) {
        halves[idx] = static_cast<uint16_t>(tile[idx] >> 16);
      }
    }
  }
  Untilize(halves, Same16, dst, row_stride, valid_rows, valid_cols);
}

}  // namespace lmhead
