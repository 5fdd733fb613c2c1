// SPDX-License-Identifier: Apache-2.0
// Activation rows in tile order: per group of rows and tile row kt, the group's 32 values side by
// side.
//
// The AMX kernels load, for each weight tile kt, an A tile: tile row kt of 16
// activation rows, 64 bytes each. In row-major x those rows are K x 2 bytes
// apart (14 KB for DeepSeek-V3), so one tile load touches 16 pages and a
// pass over 32 rows reads 32 separate streams that no prefetcher follows
// (one instruction, 16 addresses). Here they are one contiguous block per
// group of rows and tile row, loaded with a 64-byte stride. Both AMX sets
// read their activations so, their prepares (kernels.h) building them once
// per input. The vdpbf16ps and FMA panel kernels stay on row-major rows:
// their 8 rows are 8 streams the prefetchers follow, and a tiled copy made
// one of their prefills slower (docs/performance.md).
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
