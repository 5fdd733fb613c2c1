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

MeshDevice::MeshDevice(MeshShape shape) : shape_(shape) {
  LMHEAD_CHECK(shape.rows >= 1 && shape.cols >= 1, "mesh {}x{}", shape.rows, shape.cols);
}

MeshTensor MeshDevice::Allocate(const TensorSpec& spec) {
  MeshTensor tensor{spec, {}};
  // One zero blob serves every device until a device's buffer is written.
  auto zeros = std::make_shared<const std::vector<std::byte>>(spec.num_bytes());
  for (int64_t device_idx = 0; device_idx < num_devices(); ++device_idx) {
    tensor.buffers.push_back(BufferId{static_cast<int64_t>(buffers_.size())});
    buffers_.push_back(Buffer{device_idx, zeros, true});
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
  if (!buffer.live) {
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
  }
  RecordOp({"ttnn.deallocate", fmt::format("{} buffers", tensor.buffers.size()), 0, 0});
  return Status::Ok();
}

Result<std::span<const std::byte>> MeshDevice::Read(const MeshTensor& tensor,
                                                    int64_t device_idx) const {
  LMHEAD_ASSIGN_OR_RETURN(const Buffer* buffer, Find(tensor, device_idx, "MeshDevice::Read"));
  return std::span<const std::byte>(*buffer->blob);
}

Status MeshDevice::Write(const MeshTensor& tensor, int64_t device_idx,
                         std::vector<std::byte> bytes) {
  LMHEAD_ASSIGN_OR_RETURN(Buffer * buffer, Find(tensor, device_idx, "MeshDevice::Write"));
  if (bytes.size() != tensor.spec.num_bytes()) {
    return Status::InvalidArgument(fmt::format(
        "[MeshDevice::Write] {} bytes for a tensor of {} bytes", bytes.size(),
        tensor.spec.num_bytes()));
  }
  buffer->blob = std::make_shared<const std::vector<std::byte>>(std::move(bytes));
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
    result.buffers.push_back(BufferId{static_cast<int64_t>(buffers_.size())});
    buffers_.push_back(Buffer{device_idx, source->blob, true});
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

Status MeshDevice::PointToPoint(const MeshTensor& tensor, const PointToPointTransfer& transfer) {
  const char* op = "ttnn.point_to_point";
  const MeshCoord& sender = transfer.sender;
  const MeshCoord& receiver = transfer.receiver;
  LMHEAD_ASSIGN_OR_RETURN(int64_t sender_idx, DeviceIndex(sender, op));
  LMHEAD_ASSIGN_OR_RETURN(int64_t receiver_idx, DeviceIndex(receiver, op));
  if (sender.row != receiver.row && sender.col != receiver.col) {
    return Status::InvalidArgument(fmt::format(
        "[{}] sender {} and receiver {} share neither a row nor a column; 1D fabric routing "
        "cannot reach it",
        op, ToString(sender), ToString(receiver)));
  }
  LMHEAD_ASSIGN_OR_RETURN(const Buffer* from, Find(tensor, sender_idx, op));
  LMHEAD_ASSIGN_OR_RETURN(Buffer * to, Find(tensor, receiver_idx, op));
  to->blob = from->blob;
  RecordOp({op,
            fmt::format("sender={}, receiver={}, topology=Linear ({} hop{} along mesh dim {})",
                        ToString(sender), ToString(receiver), transfer.hops,
                        transfer.hops == 1 ? "" : "s", transfer.mesh_dim),
            static_cast<int64_t>(tensor.spec.num_bytes()), transfer.hops});
  return Status::Ok();
}

void MeshDevice::RecordOp(OpRecord record) { trace_.push_back(std::move(record)); }

int64_t MeshDevice::num_live_buffers() const {
  int64_t count = 0;
  for (const Buffer& buffer : buffers_) count += buffer.live ? 1 : 0;
  return count;
}

int64_t MeshDevice::live_bytes() const {
  int64_t bytes = 0;
  for (const Buffer& buffer : buffers_) {
    if (buffer.live) bytes += static_cast<int64_t>(buffer.blob->size());
  }
  return bytes;
}

}  // namespace lmhead
