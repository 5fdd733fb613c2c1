// SPDX-License-Identifier: Apache-2.0
// ActivationTiles: plain C++, compiled without instruction-set flags.
#include "kernels/activation_tiles.h"

#include <algorithm>
#include <cstring>

namespace lmhead {
namespace {

int GroupRows(int64_t m, int min_group_rows) {
  int rows = min_group_rows;
  while (rows < 32 && rows < m) rows *= 2;
  return rows;
}

}  // namespace

ActivationTiles::ActivationTiles(int64_t m, int64_t k_tiles, int min_group_rows)
    : k_tiles_(k_tiles),
      group_rows_(GroupRows(m, min_group_rows)),
      rows_(static_cast<size_t>((m + group_rows_ - 1) / group_rows_ * group_rows_ * k_tiles)) {}

ActivationTiles::ActivationTiles(const MatmulArgs& args, int min_group_rows)
    : ActivationTiles(args.m, args.w.k_tiles, min_group_rows) {
  for (int64_t row = 0; row < args.m; ++row) {
    for (int64_t kt = 0; kt < k_tiles_; ++kt) {
      const int64_t n = std::clamp<int64_t>(args.k - kt * kTileDim, 0, kTileDim);
      std::memcpy(Row(row, kt), args.x + row * args.x_stride + kt * kTileDim,
                  static_cast<size_t>(n) * sizeof(uint16_t));
    }
  }
}

}  // namespace lmhead
