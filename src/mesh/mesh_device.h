// SPDX-License-Identifier: Apache-2.0
// MeshDevice: R x C virtual Tenstorrent devices in one process, with TTNN's
// tensor lifetime (allocate, deallocate, use-after-free detection) and the data
// movement ops the LM head uses (to_memory_config, copy, point_to_point).
//
// Design goals:
//  - The seed's op sequence runs op for op: every TTNN call the LM head makes is
//    an operation here, recorded in a trace a person can read and diff.
//  - Data really moves: a device computes only on what reached its own buffers,
//    so a wrong scatter gives wrong logits, not a silently right answer.
//  - Zero-copy inside one process: buffers hold reference-counted immutable
//    blobs, so a point_to_point or layout conversion shares the sender's bytes
//    and records what a real fabric would carry.
//  - Spread over processes (docs/mpi.md): each process holds the buffers of
//    its own devices only (RankDevices); every process runs the same op
//    sequence, and a point_to_point between devices of different processes
//    becomes messages of the CommunicatorImpl, forwarded through the ranks of
//    the intermediate rows or sent directly (ScatterRoute), as recorded.
// Non-goals: modelling L1/DRAM capacity or bank placement of activations (the
// planner estimates those); physical tilization of activations, which are kept
// row-major (only the weights' bytes are TT-exact, and they live in shards).
//
// Thread-compatible: one thread drives the ops; kernels may read a buffer's
// bytes from many threads between ops.
#ifndef LMHEAD_MESH_MESH_DEVICE_H_
#define LMHEAD_MESH_MESH_DEVICE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "lmhead/communicator.h"
#include "lmhead/plan.h"
#include "lmhead/status.h"
#include "mesh/communicator_impl.h"
#include "mesh/rank_devices.h"

namespace lmhead {

enum class DType { kBf16, kFp32 };
const char* ToString(DType dtype);  // "BFLOAT16", "FLOAT32" (TTNN's names)
size_t DTypeBytes(DType dtype);

// What a tensor is, independently of where its bytes are.
struct TensorSpec {
  std::array<int64_t, 4> shape{};  // [1, batch, rows, cols], row-major
  DType dtype = DType::kBf16;
  MemoryConfig memory_config;
  int64_t num_elements() const { return shape[0] * shape[1] * shape[2] * shape[3]; }
  size_t num_bytes() const { return static_cast<size_t>(num_elements()) * DTypeBytes(dtype); }
};

// A handle to one buffer on one device: a slot and the slot's generation.
// A freed slot is reused with the next generation, so a stale handle is
// always detected while the mesh's bookkeeping stays as large as the most
// buffers ever live at once (a serving process decodes millions of times).
struct BufferId {
  int64_t value = -1;
  uint64_t generation = 0;
};

// A tensor distributed over the mesh: one buffer per device, row-major device
// order (device k at mesh coordinate (k / cols, k % cols)).
struct MeshTensor {
  TensorSpec spec;
  std::vector<BufferId> buffers;
};

// One recorded TTNN call.
struct OpRecord {
  std::string op;      // "ttnn.point_to_point", ...
  std::string detail;  // Arguments, as TT would print them.
  int64_t bytes_moved = 0;  // Bytes a device fabric carries for this op (p2p only).
  int64_t hops = 0;
};

// The processes a mesh is spread over, from one process's point of view.
struct MeshTransport {
  RankDevices ranks;                        // This process's devices.
  std::shared_ptr<CommunicatorImpl> comm;   // Rank ranks.process_rank of ranks.num_processes.
  ScatterRoute route = ScatterRoute::kForward;
};

class MeshDevice {
 public:
  // Every device in this process.
  explicit MeshDevice(MeshShape shape);
  // The devices of transport.ranks in this process; the others are reached
  // through transport.comm. transport.ranks must split `shape`'s devices.
  MeshDevice(MeshShape shape, MeshTransport transport);

  const MeshShape& shape() const { return shape_; }
  int64_t num_devices() const { return shape_.num_devices(); }
  const RankDevices& ranks() const { return transport_.ranks; }
  bool IsLocal(int64_t device_idx) const { return transport_.ranks.IsLocal(device_idx); }

  // Allocates `spec` on every device, zero-filled (TTNN allocations are
  // uninitialised; zeros make a missed write visible as wrong logits).
  MeshTensor Allocate(const TensorSpec& spec);
  // Frees every buffer of `tensor` (ttnn.deallocate). Freeing twice is an error.
  Status Deallocate(const MeshTensor& tensor);

  // The bytes of device `device_idx`'s buffer. FailedPrecondition-style
  // InvalidArgument ("use after deallocate") for a freed or unknown buffer,
  // or for a device another process holds.
  Result<std::span<const std::byte>> Read(const MeshTensor& tensor, int64_t device_idx) const;
  // Replaces the bytes of one device's buffer (a host write, ttnn.copy_host_to_device).
  Status Write(const MeshTensor& tensor, int64_t device_idx, std::vector<std::byte> bytes);
  // The same, sharing `bytes`: a host write of one tensor to several devices
  // (a mesh row, say) keeps one copy, as buffers holding equal values do.
  Status Write(const MeshTensor& tensor, int64_t device_idx, Blob bytes);

  // ttnn.to_memory_config: a new tensor with the same values and `config`.
  Result<MeshTensor> ToMemoryConfig(const MeshTensor& tensor, const MemoryConfig& config);
  // ttnn.copy(src, dst): dst's buffers take src's values on every device.
  Status Copy(const MeshTensor& src, const MeshTensor& dst);
  // ttnn.point_to_point(tensor, sender, receiver, topology=Linear) writing into
  // `tensor` itself: the receiver's buffer takes the sender's values. The route
  // (hops along one mesh dim) is the planner's; sender and receiver must lie in
  // the mesh and share a row or a column (1D fabric routing, spec §3.12).
  // Across processes the sends return at once (Synchronize waits for them);
  // a receive waits at most the communicator's timeout (IOError naming the
  // rank that sent nothing).
  Status PointToPoint(const MeshTensor& tensor, const PointToPointTransfer& transfer);
  // Waits until this process's point_to_point sends were delivered.
  Status Synchronize();

  // Records a compute op (the engine's ttnn.linear) in the trace.
  void RecordOp(OpRecord record);
  const std::vector<OpRecord>& trace() const { return trace_; }
  void ClearTrace() {
    trace_.clear();
    network_ = {};
  }
  // What point_to_point exchanged with other processes since ClearTrace().
  const NetworkTraffic& network() const { return network_; }

  // Live buffers of this process's devices, and their bytes: what a leak check reads.
  int64_t num_live_buffers() const;
  int64_t live_bytes() const;
  // Buffer slots ever made (live or free for reuse), on every device.
  int64_t num_buffer_slots() const { return static_cast<int64_t>(buffers_.size()); }

 private:
  struct Buffer {
    int64_t device_idx = 0;
    Blob blob;       // Shared between buffers that hold equal values; null when remote.
    bool live = false;
    bool remote = false;  // Held by another process: only the lifetime is tracked here.
    uint64_t generation = 0;  // Bumped each time the slot is reused.
  };

  // A live buffer in a free slot (or a new one).
  BufferId NewBuffer(int64_t device_idx, Blob blob, bool remote);

  Result<Buffer*> Find(const MeshTensor& tensor, int64_t device_idx, const char* op);
  Result<const Buffer*> Find(const MeshTensor& tensor, int64_t device_idx, const char* op) const;
  Result<int64_t> DeviceIndex(const MeshCoord& coord, const char* op) const;
  Status RemoteDeviceError(int64_t device_idx, const char* op) const;
  // point_to_point between processes (point_to_point.cc).
  Status RoutePointToPoint(Buffer& from, Buffer& to, int64_t sender_idx, int64_t receiver_idx,
                           size_t bytes, std::string& route);

  MeshShape shape_;
  MeshTransport transport_;
  NetworkTraffic network_;
  std::vector<Buffer> buffers_;       // Indexed by BufferId::value.
  std::vector<int64_t> free_slots_;  // Slots of deallocated buffers, for reuse.
  // The zeros of the last size allocated: every decode allocates the same
  // input, and one cached blob spares a zero-filled buffer per call.
  Blob zeros_;
  std::vector<OpRecord> trace_;
};

// "(r,c)" for messages and traces.
std::string ToString(const MeshCoord& coord);

}  // namespace lmhead

#endif  // LMHEAD_MESH_MESH_DEVICE_H_
