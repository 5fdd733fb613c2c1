// SPDX-License-Identifier: Apache-2.0
// Activation rows in tile order: per group of rows and tile row kt, the group's 32 values side by
// side.
//
// The panel kernels read, for each weight tile kt, the 32 activations of tile
// row kt of each of their rows. In row-major x those are K x 2 bytes apart
// (14 KB for DeepSeek-V3), so a pass over 32 rows reads 32 separate streams
// and one AMX A tile (16 rows of 64 bytes) touches 16 pages. Here they are
// one contiguous block per group of rows and tile row: one stream that the
// hardware prefetchers follow, and A tiles that load with a 64-byte stride.
// The AMX sets and the tt-lofi panel kernels read their activations so, each
// set's prepare (kernels.h) building them once per input.
//
// Layout: groups of group_rows() rows; row r of group g at tile row kt is the
// 32 values at ((g Kt + kt) group_rows() + r % group_rows()) 32, 64-byte
// aligned. Rows past m are zero.
#ifndef LMHEAD_KERNELS_ACTIVATION_TILES_H_
#define LMHEAD_KERNELS_ACTIVATION_TILES_H_

#include <cstdint>
#include <vector>

#include "kernels/kernels.h"

namespace lmhead {

class ActivationTiles {
 public:
  // m rows of k_tiles tile rows, all zero, in groups of the smallest of
  // min_group_rows, 2 min_group_rows, ... (at most 32) that holds m rows:
  // small inputs stay small, and a kernel whose A tiles always have 16 rows
  // passes 16 so that they never reach past a group.
  ActivationTiles(int64_t m, int64_t k_tiles, int min_group_rows);

  // The rows of args.x (bf16 bits), values past args.k zero, in groups as
  // above.
  ActivationTiles(const MatmulArgs& args, int min_group_rows);

  // The 32 values of row `row`, tile row kt; the next rows of its group follow
  // at 32 values each.
  uint16_t* Row(int64_t row, int64_t kt) {
    return rows_[static_cast<size_t>(((row / group_rows_) * k_tiles_ + kt) * group_rows_ +
                                     row % group_rows_)]
        .x;
  }
  const uint16_t* Row(int64_t row, int64_t kt) const {
    return const_cast<ActivationTiles*>(this)->Row(row, kt);
  }

  int group_rows() const { return group_rows_; }
  // Values between tile rows kt and kt + 1 of a row.
  int64_t tile_stride() const { return int64_t{group_rows_} * kTileDim; }

 private:
  struct alignas(64) TileRow {
    uint16_t x[kTileDim];
  };

  int64_t k_tiles_;
  int group_rows_;
  std::vector<TileRow> rows_;
};

}  // namespace lmhead

#endif  // LMHEAD_KERNELS_ACTIVATION_TILES_H_
