// SPDX-License-Identifier: Apache-2.0
// MeshMatmul: ttnn.linear on every device of the mesh, as kernel calls over a thread pool.
#ifndef LMHEAD_ENGINE_MESH_MATMUL_H_
#define LMHEAD_ENGINE_MESH_MATMUL_H_

#include <cstdint>
#include <span>
#include <vector>

#include "base/thread_pool.h"
#include "io/mapped_file.h"
#include "kernels/kernels.h"

namespace lmhead {

// One DRAM bank of a device's weight shard, as the kernels see it.
struct BankView {
  TileMatrixView tiles;   // Kt x shard_nt tiles (padding tiles included).
  int64_t col_begin = 0;  // First column of the device's [*, V/D] output held here.
  int64_t cols = 0;       // Logical columns here (<= shard_nt * 32); may be 0.
};

// The weights of one device: its banks in order.
struct DeviceWeights {
  std::vector<BankView> banks;
  int64_t cols = 0;  // V/D: the width of the device's output.
};

// Inputs and outputs of one call, per device (row-major, bf16 in, float out).
struct MeshMatmulCall {
  std::vector<const uint16_t*> x;  // [m, k] per device, stride k.
  std::vector<float*> y;           // [m, cols] per device, y_stride between rows.
  int64_t y_stride = 0;            // cols for separate buffers, V to write a concatenation.
  int64_t m = 0;
  bool decode = false;  // gemv (weights read once for all m) or gemm.
  LofiOptions lofi;
};

// Thread-compatible: Run() uses the pool it was given.
//
// When the kernels read another layout than TT's row-major tiles
// (MatmulKernels::layout), the constructor packs every bank's real tile
// columns once into one huge-page buffer it owns (PackTiles, tile_layout.h)
// and the kernels stream that copy; the views it was given are not read
// again, so their pages (for shards: clean page cache of the mmap) can be
// reclaimed, and the owner may release them (ReleaseMappedPages). The copy is
// as large as the weights it packs.
class MeshMatmul {
 public:
  // `k` is the hidden size H; every view must have divup(k, 32) tile rows and
  // TT's row-major layout.
  MeshMatmul(std::vector<DeviceWeights> devices, int64_t k, const MatmulKernels* kernels);

  // y_d = x_d @ W_d for every device d. Work is split into (device, bank,
  // tile-column range) items, each a multiple of the kernel's nr_tiles, so the
  // threads stream disjoint weight bytes and write disjoint output columns.
  // Packed banks are one item each: a contiguous stream of ~1.4 MB for a
  // DeepSeek-V3 bank.
  void Run(const MeshMatmulCall& call, ThreadPool& pool) const;

  int64_t num_devices() const { return static_cast<int64_t>(devices_.size()); }
  // Bytes of weight tiles one call reads (real tile columns of every bank).
  int64_t weight_bytes() const { return weight_bytes_; }

 private:
  struct WorkItem {
    int32_t device_idx;
    int32_t bank_idx;
    int64_t nt_begin;
    int64_t nt_end;
  };

  // Replaces every bank's view by its packed copy in packed_.
  void PackBanks();

  std::vector<DeviceWeights> devices_;
  int64_t k_;
  const MatmulKernels* kernels_;
  HugePageBuffer packed_;  // empty unless the kernels need another layout
  std::vector<WorkItem> items_;
  int64_t weight_bytes_ = 0;
};

}  // namespace lmhead

#endif  // LMHEAD_ENGINE_MESH_MATMUL_H_
