// SPDX-License-Identifier: Apache-2.0
// GatherDeviceBlocks: per-device blocks to rank 0, along the mesh rows first.
#include "mesh/device_gather.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "base/check.h"

namespace lmhead {
namespace {

// A [rows][count][block] buffer whose first device is `first`.
struct Blocks {
  std::span<std::byte> bytes;
  int64_t first = 0;
  int64_t count = 0;
};

// Copies the blocks of devices [lo, hi) of every row from `src` to `dst`.
void CopyDevices(std::span<const std::byte> src, int64_t src_first, int64_t src_count, Blocks dst,
                 int64_t lo, int64_t hi, int64_t rows, size_t block) {
  const size_t run = static_cast<size_t>(hi - lo) * block;
  for (int64_t row = 0; row < rows; ++row) {
    const size_t from = static_cast<size_t>(row * src_count + lo - src_first) * block;
    const size_t to = static_cast<size_t>(row * dst.count + lo - dst.first) * block;
    std::memcpy(dst.bytes.data() + to, src.data() + from, run);
  }
}

// One gather: who this process is, what moves, and until when.
class Gather {
 public:
  Gather(CommunicatorImpl& comm, const RankDevices& ranks, const MeshShape& shape, int64_t rows,
         size_t block_bytes, NetworkTraffic& traffic)
      : comm_(comm), ranks_(ranks), shape_(shape), rows_(rows), block_(block_bytes),
        traffic_(traffic), deadline_(comm.Deadline()) {}

  // Stage 1: this process's part of each mesh row it touches goes to the
  // row's leader (the process holding the row's first device).
  Status SendRowParts(std::span<const std::byte> local);
  // The rows this process leads: assemble them, then place them (rank 0) or
  // send them on to rank 0.
  Status AssembleLedRows(std::span<const std::byte> local, std::span<std::byte> out);
  // Stage 2 at rank 0: the rows other processes lead.
  Status ReceiveRows(std::span<std::byte> out);
  Status Finish() { return comm_.WaitSends(deadline_, "combine sends"); }

 private:
  Status Send(int dest, int tag, std::vector<std::byte> bytes, const char* what) {
    traffic_.bytes_sent += static_cast<int64_t>(bytes.size());
    traffic_.messages_sent += 1;
    return comm_.Send(dest, tag, std::make_shared<const std::vector<std::byte>>(std::move(bytes)),
                      what);
  }
  Status Recv(int source, int tag, std::span<std::byte> bytes, const char* what) {
    traffic_.bytes_received += static_cast<int64_t>(bytes.size());
    traffic_.messages_received += 1;
    return comm_.Recv(source, tag, bytes, deadline_, what);
  }
  std::vector<std::byte> Buffer(int64_t num_devices) const {
    return std::vector<std::byte>(static_cast<size_t>(rows_ * num_devices) * block_);
  }

  static constexpr const char* kAlongRow = "combine: all_gather along cluster_axis 1";
  static constexpr const char* kToRoot = "combine: the mesh rows to rank 0";

  CommunicatorImpl& comm_;
  const RankDevices& ranks_;
  const MeshShape shape_;
  const int64_t rows_;
  const size_t block_;
  NetworkTraffic& traffic_;
  const CommClock::time_point deadline_;
};

Status Gather::SendRowParts(std::span<const std::byte> local) {
  const int64_t cols = shape_.cols;
  const int64_t first = ranks_.first_device();
  const int64_t end = ranks_.end_device();
  for (int64_t mesh_row = first / cols; mesh_row * cols < end; ++mesh_row) {
    const int leader = ranks_.OwnerOf(mesh_row * cols);
    if (leader == ranks_.process_rank) continue;
    const int64_t lo = std::max(first, mesh_row * cols);
    const int64_t hi = std::min(end, (mesh_row + 1) * cols);
    std::vector<std::byte> part = Buffer(hi - lo);
    CopyDevices(local, first, ranks_.devices_per_rank(), Blocks{part, lo, hi - lo}, lo, hi, rows_,
                block_);
    LMHEAD_RETURN_IF_ERROR(Send(leader, kTagDeviceGatherRow + static_cast<int>(mesh_row),
                                std::move(part), kAlongRow));
  }
  return Status::Ok();
}

Status Gather::AssembleLedRows(std::span<const std::byte> local, std::span<std::byte> out) {
  const int me = ranks_.process_rank;
  const int64_t cols = shape_.cols;
  const int64_t first = ranks_.first_device();
  const int64_t per_rank = ranks_.devices_per_rank();
  for (int64_t mesh_row = (first + cols - 1) / cols; mesh_row * cols < ranks_.end_device();
       ++mesh_row) {
    const int64_t row_lo = mesh_row * cols;
    const int64_t row_hi = row_lo + cols;
    const int tag = static_cast<int>(mesh_row);
    std::vector<std::byte> row = Buffer(cols);
    for (int owner = me; owner <= ranks_.OwnerOf(row_hi - 1); ++owner) {
      const int64_t lo = std::max(row_lo, owner * per_rank);
      const int64_t hi = std::min(row_hi, (owner + 1) * per_rank);
      if (owner == me) {
        CopyDevices(local, first, per_rank, Blocks{row, row_lo, cols}, lo, hi, rows_, block_);
        continue;
      }
      std::vector<std::byte> part = Buffer(hi - lo);
      LMHEAD_RETURN_IF_ERROR(Recv(owner, kTagDeviceGatherRow + tag, part, kAlongRow));
      CopyDevices(part, lo, hi - lo, Blocks{row, row_lo, cols}, lo, hi, rows_, block_);
    }
    if (me == 0) {
      CopyDevices(row, row_lo, cols, Blocks{out, 0, shape_.num_devices()}, row_lo, row_hi, rows_,
                  block_);
    } else {
      LMHEAD_RETURN_IF_ERROR(Send(0, kTagDeviceGatherMesh + tag, std::move(row), kToRoot));
    }
  }
  return Status::Ok();
}

Status Gather::ReceiveRows(std::span<std::byte> out) {
  const int64_t cols = shape_.cols;
  std::vector<std::byte> row = Buffer(cols);
  for (int64_t mesh_row = 0; mesh_row < shape_.rows; ++mesh_row) {
    const int leader = ranks_.OwnerOf(mesh_row * cols);
    if (leader == 0) continue;
    LMHEAD_RETURN_IF_ERROR(
        Recv(leader, kTagDeviceGatherMesh + static_cast<int>(mesh_row), row, kToRoot));
    CopyDevices(row, mesh_row * cols, cols, Blocks{out, 0, shape_.num_devices()}, mesh_row * cols,
                (mesh_row + 1) * cols, rows_, block_);
  }
  return Status::Ok();
}

}  // namespace

Status GatherDeviceBlocks(CommunicatorImpl& comm, const RankDevices& ranks, const MeshShape& shape,
                          int64_t rows, size_t block_bytes, std::span<const std::byte> local,
                          std::span<std::byte> out, NetworkTraffic& traffic) {
  const bool root = ranks.process_rank == 0;
  const size_t row_block_bytes = static_cast<size_t>(rows) * block_bytes;
  LMHEAD_CHECK(local.size() == static_cast<size_t>(ranks.devices_per_rank()) * row_block_bytes);
  LMHEAD_CHECK(!root || out.size() == static_cast<size_t>(shape.num_devices()) * row_block_bytes);
  Gather gather(comm, ranks, shape, rows, block_bytes, traffic);
  LMHEAD_RETURN_IF_ERROR(gather.SendRowParts(local));
  LMHEAD_RETURN_IF_ERROR(gather.AssembleLedRows(local, out));
  if (root) LMHEAD_RETURN_IF_ERROR(gather.ReceiveRows(out));
  return gather.Finish();
}

}  // namespace lmhead
