// SPDX-License-Identifier: Apache-2.0
// ShardGeometry: which columns of a device slice each DRAM bank holds.
#include <fmt/format.h>

#include <algorithm>

#include "lmhead/weights.h"

namespace lmhead {
namespace {

// The bank table must fit in the first 4 KiB page with the 128-byte header:
// (4096 - 128) / 32 = 124 banks. Wormhole has 12, Blackhole 8.
constexpr int64_t kMaxBanks = 124;
// Dimensions are stored as u32 fields.
constexpr int64_t kMaxDim = int64_t{1} << 30;

int64_t DivUp(int64_t a, int64_t b) { return (a + b - 1) / b; }

}  // namespace

uint64_t ShardGeometry::bank_bytes() const {
  return static_cast<uint64_t>(k_tiles() * bank_n_tiles()) * TileBytes(format);
}

int64_t ShardGeometry::BankCols(int64_t bank_idx) const {
  return std::clamp<int64_t>(cols() - bank_idx * shard_w, 0, shard_w);
}

int64_t ShardGeometry::ValidCols(int64_t device_idx) const {
  return std::clamp<int64_t>(valid_vocab_size - device_idx * cols(), 0, cols());
}

int64_t ShardGeometry::BankValidCols(int64_t device_idx, int64_t bank_idx) const {
  return std::clamp<int64_t>(ValidCols(device_idx) - bank_idx * shard_w, 0, shard_w);
}

Status ValidateShardGeometry(const ShardGeometry& g) {
  auto in_range = [](int64_t value) { return value >= 1 && value <= kMaxDim; };
  if (!in_range(g.hidden_size) || !in_range(g.vocab_size) || !in_range(g.mesh_rows) ||
      !in_range(g.mesh_cols) || !in_range(g.num_devices()) || g.num_banks < 1 ||
      g.num_banks > kMaxBanks) {
    return Status::InvalidArgument(fmt::format(
        "[ShardGeometry] hidden_size {}, vocab_size {}, mesh {}x{}, {} banks out of range (dims "
        "1..{}, banks 1..{})",
        g.hidden_size, g.vocab_size, g.mesh_rows, g.mesh_cols, g.num_banks, kMaxDim, kMaxBanks));
  }
  if (g.vocab_size % g.num_devices() != 0) {
    return Status::InvalidArgument(
        fmt::format("[ShardGeometry] vocab_size {} is not a multiple of the {} devices",
                    g.vocab_size, g.num_devices()));
  }
  if (g.valid_vocab_size < 1 || g.valid_vocab_size > g.vocab_size) {
    return Status::InvalidArgument(
        fmt::format("[ShardGeometry] valid_vocab_size {} must be in [1, vocab_size {}]",
                    g.valid_vocab_size, g.vocab_size));
  }
  const int64_t want_shard_w = DivUp(DivUp(g.cols(), g.num_banks), kTileDim) * kTileDim;
  if (g.shard_w != want_shard_w) {
    return Status::InvalidArgument(
        fmt::format("[ShardGeometry] shard_w {} differs from roundup(divup({}, {}), 32) = {}",
                    g.shard_w, g.cols(), g.num_banks, want_shard_w));
  }
  return Status::Ok();
}

std::string ShardFileName(int64_t device_idx) {
  return fmt::format("device_{:03d}.shard", device_idx);
}

}  // namespace lmhead
