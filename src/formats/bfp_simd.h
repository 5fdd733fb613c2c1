// SPDX-License-Identifier: Apache-2.0
// Fast tile pack/unpack: Highway dynamic dispatch to the best SIMD target of this CPU.
//
// Same contracts as the public tile functions in lmhead/formats.h (which check
// their preconditions and call these) and bit-identical to the *Ref functions
// of formats/tile.h on every target.
#ifndef LMHEAD_FORMATS_BFP_SIMD_H_
#define LMHEAD_FORMATS_BFP_SIMD_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "lmhead/formats.h"

namespace lmhead {

void PackTileFp32Fast(TileFormat format, const float* src, ptrdiff_t row_stride, int valid_rows,
                      int valid_cols, uint8_t* dst);
void PackTileBf16Fast(TileFormat format, const uint16_t* src, ptrdiff_t row_stride, int valid_rows,
                      int valid_cols, uint8_t* dst);
void UnpackTileToFp32Fast(TileFormat format, const uint8_t* src, float* dst, ptrdiff_t row_stride,
                          int valid_rows, int valid_cols);
void UnpackTileToBf16Fast(TileFormat format, const uint8_t* src, uint16_t* dst,
                          ptrdiff_t row_stride, int valid_rows, int valid_cols);
void DecodeBfpGroupsToFp32Fast(TileFormat format, const uint8_t* exponents, const uint8_t* data,
                               int64_t num_groups, float* out);
void DecodeBfpGroupsToBf16Fast(TileFormat format, const uint8_t* exponents, const uint8_t* data,
                               int64_t num_groups, uint16_t* out);

// Name of the Highway target the functions above dispatch to right now.
const char* FastTargetName();

// The Highway targets compiled into this library that this CPU supports, best
// first; tests pass each to hwy::SetSupportedTargetsForTest to cover them all.
std::vector<int64_t> CompiledAndSupportedTargets();

}  // namespace lmhead

#endif  // LMHEAD_FORMATS_BFP_SIMD_H_
