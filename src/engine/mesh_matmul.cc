// SPDX-License-Identifier: Apache-2.0
// MeshMatmul: static work split over (device, bank, tile columns).
#include "engine/mesh_matmul.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "base/check.h"
#include "kernels/tile_layout.h"

namespace lmhead {
namespace {

// Tile columns per work item: small enough that both cores stay busy to the
// end of a call (a DeepSeek-V3 bank holds 11), large enough that a kernel call
// streams at least ~100 KB of bfp4_b weights (4 columns x 224 x 576 B = 516 KB).
// Packed layouts stream a whole bank per item instead (see the header).
constexpr int64_t kItemTileCols = 4;

int64_t RealTiles(const BankView& bank) { return (bank.cols + 31) / 32; }

}  // namespace

void MeshMatmul::PackBanks() {
  size_t total = 0;
  for (const DeviceWeights& device : devices_) {
    for (const BankView& bank : device.banks) {
      total +=
          PackedTileBytes(kernels_->layout, bank.tiles.format, bank.tiles.k_tiles, RealTiles(bank));
    }
  }
  Result<HugePageBuffer> buffer = HugePageBuffer::Allocate(total);
  LMHEAD_CHECK(buffer.ok(), "packing the weights for {}: {}", kernels_->name,
               buffer.status().ToString());
  packed_ = std::move(*buffer);
  size_t offset = 0;
  for (DeviceWeights& device : devices_) {
    for (BankView& bank : device.banks) {
      const int64_t real_tiles = RealTiles(bank);
      const size_t bytes =
          PackedTileBytes(kernels_->layout, bank.tiles.format, bank.tiles.k_tiles, real_tiles);
      bank.tiles = PackTiles(kernels_->layout, bank.tiles, real_tiles, packed_.data() + offset);
      offset += bytes;
    }
  }
}

MeshMatmul::MeshMatmul(std::vector<DeviceWeights> devices, int64_t k, const MatmulKernels* kernels)
    : devices_(std::move(devices)), k_(k), kernels_(kernels) {
  LMHEAD_CHECK(kernels_ != nullptr);
  const bool packed = kernels_->layout != TileLayout::kTtRowMajor;
  if (packed) PackBanks();
  const int64_t step =
      std::max<int64_t>(kItemTileCols / kernels_->nr_tiles, 1) * kernels_->nr_tiles;
  for (size_t device_idx = 0; device_idx < devices_.size(); ++device_idx) {
    const DeviceWeights& device = devices_[device_idx];
    for (size_t bank_idx = 0; bank_idx < device.banks.size(); ++bank_idx) {
      const BankView& bank = device.banks[bank_idx];
      LMHEAD_CHECK(bank.tiles.k_tiles * 32 >= k_ && (bank.tiles.k_tiles - 1) * 32 < k_,
                   "bank has {} tile rows for k={}", bank.tiles.k_tiles, k_);
      const int64_t real_tiles = RealTiles(bank);
      const int64_t item_step = packed ? std::max<int64_t>(real_tiles, 1) : step;
      for (int64_t nt = 0; nt < real_tiles; nt += item_step) {
        items_.push_back(WorkItem{static_cast<int32_t>(device_idx), static_cast<int32_t>(bank_idx),
                                  nt, std::min(nt + item_step, real_tiles)});
      }
      weight_bytes_ +=
          real_tiles * bank.tiles.k_tiles * static_cast<int64_t>(TileBytes(bank.tiles.format));
    }
  }
}

void MeshMatmul::Run(const MeshMatmulCall& call, ThreadPool& pool) const {
  LMHEAD_CHECK(call.x.size() == devices_.size() && call.y.size() == devices_.size());
  LMHEAD_CHECK(call.m >= 0 && (!call.decode || call.m <= kMaxDecodeRows), "m={}", call.m);
  const MatmulFn fn = call.decode ? kernels_->gemv : kernels_->gemm;
  // The kernel set's per-row work, once per distinct input: the devices of a
  // mesh row usually share one (MeshDevice keeps one copy of an input).
  std::vector<std::unique_ptr<PreparedActivations>> owned;
  std::vector<const PreparedActivations*> prepared(devices_.size(), nullptr);
  if (kernels_->prepare != nullptr && call.m > 0) {
    for (size_t device_idx = 0; device_idx < devices_.size(); ++device_idx) {
      for (size_t earlier = 0; earlier < device_idx && prepared[device_idx] == nullptr; ++earlier) {
        if (call.x[earlier] == call.x[device_idx]) prepared[device_idx] = prepared[earlier];
      }
      if (prepared[device_idx] != nullptr || devices_[device_idx].banks.empty()) continue;
      MatmulArgs args;
      args.x = call.x[device_idx];
      args.x_stride = k_;
      args.m = call.m;
      args.k = k_;
      args.w = devices_[device_idx].banks.front().tiles;
      owned.push_back(kernels_->prepare(args));
      prepared[device_idx] = owned.back().get();
    }
  }
  pool.Run(static_cast<int64_t>(items_.size()), [&](int, int64_t item_idx) {
    const WorkItem& item = items_[static_cast<size_t>(item_idx)];
    const DeviceWeights& device = devices_[static_cast<size_t>(item.device_idx)];
    const BankView& bank = device.banks[static_cast<size_t>(item.bank_idx)];
    MatmulArgs args;
    args.x = call.x[static_cast<size_t>(item.device_idx)];
    args.x_stride = k_;
    args.m = call.m;
    args.k = k_;
    args.w = bank.tiles;
    args.nt_begin = item.nt_begin;
    args.nt_end = item.nt_end;
    // The kernel indexes columns from the bank's first one.
    args.y = call.y[static_cast<size_t>(item.device_idx)] + bank.col_begin;
    args.y_stride = call.y_stride;
    args.n_cols = bank.cols;
    args.lofi = call.lofi;
    args.prepared = prepared[static_cast<size_t>(item.device_idx)];
    fn(args);
  });
}

}  // namespace lmhead
