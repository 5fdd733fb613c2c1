// SPDX-License-Identifier: Apache-2.0
// TILE_LAYOUT index maps and the scalar reference tile pack/unpack for every format.
//
// The *Ref functions are the specification the fast paths (bfp_simd.cc) are
// tested against: they tilize into tile order (spec 1.2), convert element by
// element and serialise (spec 1.3), with no shortcuts.
#ifndef LMHEAD_FORMATS_TILE_H_
#define LMHEAD_FORMATS_TILE_H_

#include <array>
#include <cstddef>
#include <cstdint>

#include "lmhead/formats.h"

namespace lmhead {

// Elements of one face.
inline constexpr int kFaceElems = kFaceDim * kFaceDim;

// Spec 1.2: position in tile order of tile-local (row, col). Shape:Stride of the
// map: ((16,2),(16,2)):((16,512),(1,256)) over (row, col).
constexpr int TileOrderIndex(int row, int col) {
  const int face = (row / kFaceDim) * 2 + col / kFaceDim;
  return face * kFaceElems + (row % kFaceDim) * kFaceDim + col % kFaceDim;
}

// Tile-local row and first column of exponent group `group` (= face * 16 +
// row_in_face), i.e. the 16 contiguous row-major elements the group covers.
constexpr int GroupRow(int group) { return (group / kFaceDim / 2) * kFaceDim + group % kFaceDim; }
constexpr int GroupCol(int group) { return (group / kFaceDim % 2) * kFaceDim; }

// fp32 bit patterns of one tile in tile order.
using TileBits = std::array<uint32_t, kTileElems>;

// Reference implementations of the public tile functions (same contracts as
// PackTileFp32 etc. in lmhead/formats.h, minus the precondition checks).
void PackTileFp32Ref(TileFormat format, const float* src, ptrdiff_t row_stride, int valid_rows,
                     int valid_cols, uint8_t* dst);
void PackTileBf16Ref(TileFormat format, const uint16_t* src, ptrdiff_t row_stride, int valid_rows,
                     int valid_cols, uint8_t* dst);
void UnpackTileToFp32Ref(TileFormat format, const uint8_t* src, float* dst, ptrdiff_t row_stride,
                         int valid_rows, int valid_cols);
void UnpackTileToBf16Ref(TileFormat format, const uint8_t* src, uint16_t* dst, ptrdiff_t row_stride,
                         int valid_rows, int valid_cols);

}  // namespace lmhead

#endif  // LMHEAD_FORMATS_TILE_H_
