// SPDX-License-Identifier: Apache-2.0
// Test helper: the small shard geometry the io tests and the fuzz seeds share.
#ifndef LMHEAD_IO_SHARD_TEST_GEOMETRY_H_
#define LMHEAD_IO_SHARD_TEST_GEOMETRY_H_

#include "lmhead/weights.h"

namespace lmhead {

// bfloat4_b, H=64, V=400 (390 valid) on a 1x2 mesh, 3 banks of 96 columns
// each (roundup(divup(200, 3), 32)).
inline ShardGeometry SmallShardGeometry() {
  ShardGeometry g;
  g.format = TileFormat::kBfp4b;
  g.hidden_size = 64;
  g.vocab_size = 400;
  g.valid_vocab_size = 390;
  g.mesh_rows = 1;
  g.mesh_cols = 2;
  g.num_banks = 3;
  g.shard_w = 96;
  return g;
}

}  // namespace lmhead

#endif  // LMHEAD_IO_SHARD_TEST_GEOMETRY_H_
