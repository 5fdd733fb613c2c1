// SPDX-License-Identifier: Apache-2.0
// Tests: buffer lifetime, point_to_point routing checks and mesh_scatter's data
// flow and op sequence (spec §3.12) on virtual meshes.
#include "mesh/mesh_device.h"

#include <gtest/gtest.h>

#include "mesh/mesh_scatter.h"
#include "mesh/mesh_test_util.h"

namespace lmhead {
namespace {

TensorSpec SmallSpec(MemoryConfig config) {
  return TensorSpec{{1, 1, 2, 4}, DType::kBf16, std::move(config)};
}

// Fills device k's buffer with bytes equal to k (mod 256).
void WriteDeviceIds(MeshDevice& mesh, const MeshTensor& tensor) {
  for (int64_t device_idx = 0; device_idx < mesh.num_devices(); ++device_idx) {
    std::vector<std::byte> bytes(tensor.spec.num_bytes(), std::byte(device_idx & 0xFF));
    ASSERT_TRUE(mesh.Write(tensor, device_idx, std::move(bytes)).ok());
  }
}

std::byte FirstByte(const MeshDevice& mesh, const MeshTensor& tensor, int64_t device_idx) {
  auto bytes = mesh.Read(tensor, device_idx);
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  return bytes.ok() ? (*bytes)[0] : std::byte{0xEE};
}

TEST(MeshDeviceTest, AllocateIsZeroedAndDeallocateFrees) {
  MeshDevice mesh(MeshShape{2, 4});
  MeshTensor tensor = mesh.Allocate(SmallSpec({}));
  EXPECT_EQ(mesh.num_live_buffers(), 8);
  EXPECT_EQ(FirstByte(mesh, tensor, 5), std::byte{0});
  ASSERT_TRUE(mesh.Deallocate(tensor).ok());
  EXPECT_EQ(mesh.num_live_buffers(), 0);
}

TEST(MeshDeviceTest, UseAfterDeallocateIsAnErrorNotACrash) {
  MeshDevice mesh(MeshShape{1, 2});
  MeshTensor tensor = mesh.Allocate(SmallSpec({}));
  ASSERT_TRUE(mesh.Deallocate(tensor).ok());
  auto read = mesh.Read(tensor, 0);
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.status().message().find("use after deallocate"), std::string::npos);
  Status twice = mesh.Deallocate(tensor);
  EXPECT_EQ(twice.code(), StatusCode::kInvalidArgument);
}

// A serving process allocates and frees an input per call: the slots of
// freed buffers are reused, and a handle to a freed buffer still fails after
// its slot holds a new one.
TEST(MeshDeviceTest, FreedSlotsAreReusedAndStaleHandlesStillFail) {
  MeshDevice mesh(MeshShape{2, 4});
  MeshTensor first = mesh.Allocate(SmallSpec({}));
  ASSERT_TRUE(mesh.Deallocate(first).ok());
  for (int call = 0; call < 1000; ++call) {
    MeshTensor input = mesh.Allocate(SmallSpec({}));
    MeshTensor moved = *mesh.ToMemoryConfig(input, {});
    ASSERT_TRUE(mesh.Deallocate(input).ok());
    ASSERT_TRUE(mesh.Deallocate(moved).ok());
  }
  EXPECT_EQ(mesh.num_buffer_slots(), 16);  // the most ever live at once
  MeshTensor now = mesh.Allocate(SmallSpec({}));
  WriteDeviceIds(mesh, now);
  EXPECT_EQ(FirstByte(mesh, now, 3), std::byte{3});
  auto stale = mesh.Read(first, 3);
  ASSERT_FALSE(stale.ok());
  EXPECT_NE(stale.status().message().find("use after deallocate"), std::string::npos);
  EXPECT_EQ(mesh.Deallocate(first).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(mesh.num_live_buffers(), 8);
}

TEST(MeshDeviceTest, PointToPointRejectsDiagonalAndOutsideMesh) {
  MeshDevice mesh(MeshShape{2, 2});
  MeshTensor tensor = mesh.Allocate(SmallSpec({}));
  EXPECT_FALSE(mesh.PointToPoint(tensor, {{0, 0}, {1, 1}, 1, 0, true}).ok());
  EXPECT_FALSE(mesh.PointToPoint(tensor, {{0, 0}, {2, 0}, 2, 0, true}).ok());
  EXPECT_TRUE(mesh.PointToPoint(tensor, {{0, 0}, {1, 0}, 1, 0, true}).ok());
}

// After mesh_scatter from row r, device (row, col) holds what (r, col) held.
void ExpectScatteredFrom(const MeshDevice& mesh, const MeshTensor& tensor, int64_t from_row) {
  const MeshShape& shape = mesh.shape();
  for (int64_t row = 0; row < shape.rows; ++row) {
    for (int64_t col = 0; col < shape.cols; ++col) {
      const int64_t source = from_row * shape.cols + col;
      EXPECT_EQ(FirstByte(mesh, tensor, row * shape.cols + col), std::byte(source & 0xFF))
          << "device (" << row << "," << col << ")";
    }
  }
}

TEST(MeshScatterTest, DecodeFromRowZeroOn4x8GoesThroughInterleaved) {
  const LmHeadPlan plan = DeepSeekPlan({4, 8}, 0);
  MeshDevice mesh(MeshShape{4, 8});
  MeshTensor x = mesh.Allocate(SmallSpec(plan.decode->input_memory_config));
  WriteDeviceIds(mesh, x);
  ASSERT_TRUE(MeshScatter(mesh, x, plan.decode->mesh_scatter).ok());
  ExpectScatteredFrom(mesh, x, 0);
  // The op sequence of utils/composite_ops.py: to interleaved, 24 p2p, back,
  // deallocate, copy into the original buffers, deallocate.
  const auto& trace = mesh.trace();
  ASSERT_EQ(trace.size(), 1u + 24u + 4u);
  EXPECT_EQ(trace.front().op, "ttnn.to_memory_config");
  int64_t total_hops = 0;
  for (size_t idx = 1; idx <= 24; ++idx) {
    EXPECT_EQ(trace[idx].op, "ttnn.point_to_point");
    total_hops += trace[idx].hops;
  }
  EXPECT_EQ(total_hops, 8 * (1 + 2 + 3));
  EXPECT_EQ(trace[25].op, "ttnn.to_memory_config");
  EXPECT_EQ(trace[26].op, "ttnn.deallocate");
  EXPECT_EQ(trace[27].op, "ttnn.copy");
  EXPECT_EQ(trace[28].op, "ttnn.deallocate");
  EXPECT_EQ(mesh.num_live_buffers(), 32);  // Only x: no temporary leaks.
}

TEST(MeshScatterTest, PrefillFromLastRowOn4x8StaysInterleaved) {
  const LmHeadPlan plan = DeepSeekPlan({4, 8}, 3);
  MeshDevice mesh(MeshShape{4, 8});
  MeshTensor x = mesh.Allocate(SmallSpec(plan.prefill->input_memory_config));
  WriteDeviceIds(mesh, x);
  ASSERT_TRUE(MeshScatter(mesh, x, plan.prefill->mesh_scatter).ok());
  ExpectScatteredFrom(mesh, x, 3);
  EXPECT_EQ(mesh.trace().size(), 24u);
}

TEST(MeshScatterTest, OneRowMeshMovesNothing) {
  const LmHeadPlan plan = DeepSeekPlan({1, 8}, 0);
  MeshDevice mesh(MeshShape{1, 8});
  MeshTensor x = mesh.Allocate(SmallSpec(plan.prefill->input_memory_config));
  WriteDeviceIds(mesh, x);
  ASSERT_TRUE(MeshScatter(mesh, x, plan.prefill->mesh_scatter).ok());
  ExpectScatteredFrom(mesh, x, 0);
  EXPECT_TRUE(mesh.trace().empty());
}

TEST(MeshScatterTest, PlanForAnotherMeshIsRejected) {
  const LmHeadPlan plan = DeepSeekPlan({4, 8}, 0);
  MeshDevice mesh(MeshShape{8, 4});
  MeshTensor x = mesh.Allocate(SmallSpec(plan.prefill->input_memory_config));
  EXPECT_EQ(MeshScatter(mesh, x, plan.prefill->mesh_scatter).code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace lmhead
