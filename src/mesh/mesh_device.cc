// SPDX-License-Identifier: Apache-2.0
// MeshDevice: virtual devices, buffer lifetime and data movement ops.
#include "mesh/mesh_device.h"

#include <utility>

#include <fmt/format.h>

#include "base/check.h"

namespace lmhead {

const char* ToString(DType dtype) {
  return dtype == DType::kBf16 ? "BFLOAT16" : "FLOAT32";
}

size_t DTypeBytes(DType dtype) { return dtype == DType::kBf16 ? 2 : 4; }

std::string ToString(const MeshCoord& coord) {
  return fmt::format("({},{})", coord.row, coord.col);
}

MeshDevice::MeshDevice(MeshShape shape)
    : MeshDevice(shape, MeshTransport{RankDevices{0, 1, shape.num_devices()}, nullptr,
                                      ScatterRoute::kForward}) {}

MeshDevice::MeshDevice(MeshShape shape, MeshTransport transport)
    : shape_(shape), transport_(std::move(transport)) {
  LMHEAD_CHECK(shape.rows >= 1 && shape.cols >= 1, "mesh {}x{}", shape.rows, shape.cols);
  const RankDevices& ranks = transport_.ranks;
  LMHEAD_CHECK(ranks.num_mesh_devices == shape.num_devices() && ranks.num_processes >= 1 &&
                   shape.num_devices() % ranks.num_processes == 0,
               "{} processes for a {}x{} mesh", ranks.num_processes, shape.rows, shape.cols);
  LMHEAD_CHECK(!ranks.distributed() || (transport_.comm != nullptr &&
                                        transport_.comm->size() == ranks.num_processes &&
                                        transport_.comm->rank() == ranks.process_rank),
               "the communicator does not match rank {} of {}", ranks.process_rank,
               ranks.num_processes);
}

Status MeshDevice::RemoteDeviceError(int64_t device_idx, const char* op) const {
  const RankDevices& ranks = transport_.ranks;
  return Status::InvalidArgument(fmt::format(
      "[{}] device {} is held by rank {} of {}; this process holds devices [{}, {})", op,
      ToString(DeviceMeshCoord(shape_, device_idx)), ranks.OwnerOf(device_idx),
      ranks.num_processes, ranks.first_device(), ranks.end_device()));
}

BufferId MeshDevice::NewBuffer(int64_t device_idx, Blob blob, bool remote) {
  if (free_slots_.empty()) {
    buffers_.push_back(Buffer{device_idx, std::move(blob), true, remote, 0});
    return BufferId{static_cast<int64_t>(buffers_.size()) - 1, 0};
  }
  const int64_t slot = free_slots_.back();
  free_slots_.pop_back();
  Buffer& buffer = buffers_[static_cast<size_t>(slot)];
  buffer = Buffer{device_idx, std::move(blob), true, remote, buffer.generation + 1};
  return BufferId{slot, buffer.generation};
}

MeshTensor MeshDevice::Allocate(const TensorSpec& spec) {
  MeshTensor tensor{spec, {}};
  // One zero blob serves every device until a device's buffer is written.
  if (zeros_ == nullptr || zeros_->size() != spec.num_bytes()) {
    zeros_ = std::make_shared<const std::vector<std::byte>>(spec.num_bytes());
  }
  const Blob& zeros = zeros_;
  for (int64_t device_idx = 0; device_idx < num_devices(); ++device_idx) {
    const bool remote = !IsLocal(device_idx);
    tensor.buffers.push_back(NewBuffer(device_idx, remote ? nullptr : zeros, remote));
  }
  return tensor;
}

Result<MeshDevice::Buffer*> MeshDevice::Find(const MeshTensor& tensor, int64_t device_idx,
                                             const char* op) {
  LMHEAD_ASSIGN_OR_RETURN(const Buffer* buffer,
                          std::as_const(*this).Find(tensor, device_idx, op));
  return const_cast<Buffer*>(buffer);
}

Result<const MeshDevice::Buffer*> MeshDevice::Find(const MeshTensor& tensor, int64_t device_idx,
                                                   const char* op) const {
  if (device_idx < 0 || device_idx >= num_devices() ||
      static_cast<size_t>(device_idx) >= tensor.buffers.size()) {
    return Status::InvalidArgument(fmt::format(
        "[{}] device index {} is outside the tensor's {} buffers (mesh {}x{})", op, device_idx,
        tensor.buffers.size(), shape_.rows, shape_.cols));
  }
  const int64_t id = tensor.buffers[static_cast<size_t>(device_idx)].value;
  if (id < 0 || static_cast<size_t>(id) >= buffers_.size()) {
    return Status::InvalidArgument(
        fmt::format("[{}] buffer id {} was never allocated on this mesh", op, id));
  }
  const Buffer& buffer = buffers_[static_cast<size_t>(id)];
  const uint64_t generation = tensor.buffers[static_cast<size_t>(device_idx)].generation;
  if (!buffer.live || buffer.generation != generation) {
    return Status::InvalidArgument(fmt::format(
        "[{}] use after deallocate: buffer {} on device {} was freed by ttnn.deallocate; "
        "keep the tensor alive until its last use",
        op, id, ToString(DeviceMeshCoord(shape_, device_idx))));
  }
  return &buffer;
}

Status MeshDevice::Deallocate(const MeshTensor& tensor) {
  // Validate every buffer first so a failed call frees nothing.
  for (int64_t device_idx = 0; device_idx < num_devices(); ++device_idx) {
    LMHEAD_RETURN_IF_ERROR(Find(tensor, device_idx, "ttnn.deallocate").status());
  }
  for (const BufferId& id : tensor.buffers) {
    Buffer& buffer = buffers_[static_cast<size_t>(id.value)];
    buffer.live = false;
    buffer.blob.reset();
    free_slots_.push_back(id.value);
  }
  RecordOp({"ttnn.deallocate", fmt::format("{} buffers", tensor.buffers.size()), 0, 0});
  return Status::Ok();
}

Result<std::span<const std::byte>> MeshDevice::Read(const MeshTensor& tensor,
                                                    int64_t device_idx) const {
  LMHEAD_ASSIGN_OR_RETURN(const Buffer* buffer, Find(tensor, device_idx, "MeshDevice::Read"));
  if (buffer->remote) return RemoteDeviceError(device_idx, "MeshDevice::Read");
  return std::span<const std::byte>(*buffer->blob);
}

Status MeshDevice::Write(const MeshTensor& tensor, int64_t device_idx,
                         std::vector<std::byte> bytes) {
  return Write(tensor, device_idx, std::make_shared<const std::vector<std::byte>>(std::move(bytes)));
}

Status MeshDevice::Write(const MeshTensor& tensor, int64_t device_idx, Blob bytes) {
  LMHEAD_ASSIGN_OR_RETURN(Buffer * buffer, Find(tensor, device_idx, "MeshDevice::Write"));
  if (buffer->remote) return RemoteDeviceError(device_idx, "MeshDevice::Write");
  if (bytes == nullptr || bytes->size() != tensor.spec.num_bytes()) {
    return Status::InvalidArgument(fmt::format(
        "[MeshDevice::Write] {} bytes for a tensor of {} bytes", bytes ? bytes->size() : 0,
        tensor.spec.num_bytes()));
  }
  buffer->blob = std::move(bytes);
  return Status::Ok();
}

Result<MeshTensor> MeshDevice::ToMemoryConfig(const MeshTensor& tensor,
                                              const MemoryConfig& config) {
  TensorSpec spec = tensor.spec;
  spec.memory_config = config;
  MeshTensor result{spec, {}};
  for (int64_t device_idx = 0; device_idx < num_devices(); ++device_idx) {
    LMHEAD_ASSIGN_OR_RETURN(const Buffer* source,
                            Find(tensor, device_idx, "ttnn.to_memory_config"));
    result.buffers.push_back(NewBuffer(device_idx, source->blob, source->remote));
  }
  RecordOp({"ttnn.to_memory_config", lmhead::ToString(config), 0, 0});
  return result;
}

Status MeshDevice::Copy(const MeshTensor& src, const MeshTensor& dst) {
  if (src.spec.num_bytes() != dst.spec.num_bytes()) {
    return Status::InvalidArgument(fmt::format("[ttnn.copy] source has {} bytes, destination {}",
                                               src.spec.num_bytes(), dst.spec.num_bytes()));
  }
  for (int64_t device_idx = 0; device_idx < num_devices(); ++device_idx) {
    LMHEAD_ASSIGN_OR_RETURN(const Buffer* from, Find(src, device_idx, "ttnn.copy"));
    LMHEAD_ASSIGN_OR_RETURN(Buffer * to, Find(dst, device_idx, "ttnn.copy"));
    to->blob = from->blob;
  }
  RecordOp({"ttnn.copy", "into the original (sharded) input buffers", 0, 0});
  return Status::Ok();
}

Result<int64_t> MeshDevice::DeviceIndex(const MeshCoord& coord, const char* op) const {
  if (coord.row < 0 || coord.row >= shape_.rows || coord.col < 0 || coord.col >= shape_.cols) {
    return Status::InvalidArgument(fmt::format("[{}] coordinate {} is outside the {}x{} mesh", op,
                                               ToString(coord), shape_.rows, shape_.cols));
  }
  return coord.row * shape_.cols + coord.col;
}

void MeshDevice::RecordOp(OpRecord record) { trace_.push_back(std::move(record)); }

int64_t MeshDevice::num_live_buffers() const {
  int64_t count = 0;
  for (const Buffer& buffer : buffers_) count += buffer.live && !buffer.remote ? 1 : 0;
  return count;
}

int64_t MeshDevice::live_bytes() const {
  int64_t bytes = 0;
  for (const Buffer& buffer : buffers_) {
    if (buffer.live && buffer.blob) bytes += static_cast<int64_t>(buffer.blob->size());
  }
  return bytes;
}

}  // namespace lmhead
