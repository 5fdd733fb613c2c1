// SPDX-License-Identifier: Apache-2.0
// Tests: the mesh spread over in-process ranks. mesh_scatter lands the same
// bytes as on one process, with the messages each route implies (counted by
// hand below), and GatherDeviceBlocks puts every device's blocks in order.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "mesh/device_gather.h"
#include "mesh/mesh_device.h"
#include "mesh/mesh_scatter.h"
#include "mesh/mesh_test_util.h"

namespace lmhead {
namespace {

constexpr double kTimeout = 10.0;

struct ScatterCase {
  int num_ranks;
  int64_t from_row;
  ScatterRoute route;
  // Per rank: {messages sent, messages received}, derived by hand from the
  // 4x8 mesh's 24 transfers (8 columns x rows != from_row).
  std::vector<std::pair<int64_t, int64_t>> messages;
};

class DistributedScatterTest : public ::testing::TestWithParam<ScatterCase> {};

TEST_P(DistributedScatterTest, EveryDeviceGetsItsColumnsSourceBytes) {
  const ScatterCase& c = GetParam();
  const MeshShape shape{4, 8};
  const LmHeadPlan plan = DeepSeekPlan(shape, c.from_row);
  const TensorSpec spec{{1, 1, 2, 4}, DType::kBf16, plan.decode->input_memory_config};
  RunOnRanks(c.num_ranks, kTimeout, [&](int rank, std::shared_ptr<CommunicatorImpl> comm) {
    const RankDevices ranks = *SplitMesh(32, rank, c.num_ranks);
    MeshDevice mesh(shape, MeshTransport{ranks, comm, c.route});
    MeshTensor x = mesh.Allocate(spec);
    for (int64_t device_idx = ranks.first_device(); device_idx < ranks.end_device();
         ++device_idx) {
      std::vector<std::byte> bytes(spec.num_bytes(), std::byte(device_idx));
      ASSERT_TRUE(mesh.Write(x, device_idx, std::move(bytes)).ok());
    }
    ASSERT_TRUE(MeshScatter(mesh, x, plan.decode->mesh_scatter).ok());
    for (int64_t device_idx = ranks.first_device(); device_idx < ranks.end_device();
         ++device_idx) {
      const int64_t source = c.from_row * shape.cols + device_idx % shape.cols;
      auto bytes = mesh.Read(x, device_idx);
      ASSERT_TRUE(bytes.ok());
      EXPECT_EQ((*bytes)[0], std::byte(source)) << "device " << device_idx;
    }
    const auto [sent, received] = c.messages[static_cast<size_t>(rank)];
    EXPECT_EQ(mesh.network().messages_sent, sent) << "rank " << rank;
    EXPECT_EQ(mesh.network().messages_received, received) << "rank " << rank;
    EXPECT_EQ(mesh.network().bytes_sent, sent * static_cast<int64_t>(spec.num_bytes()));
    // Another process's device is not readable here.
    const int64_t remote = (ranks.end_device()) % 32;
    if (c.num_ranks > 1) {
      EXPECT_FALSE(mesh.Read(x, remote).ok());
    }
  });
}

INSTANTIATE_TEST_SUITE_P(
    Splits, DistributedScatterTest,
    ::testing::Values(
        // One row per rank, forwarded: rank 0 -> 1 -> 2 -> 3 along each column;
        // rank 1 relays the 16 transfers bound for rows 2 and 3, rank 2 the 8 for row 3.
        ScatterCase{4, 0, ScatterRoute::kForward, {{24, 0}, {16, 24}, {8, 16}, {0, 8}}},
        ScatterCase{4, 0, ScatterRoute::kDirect, {{24, 0}, {0, 8}, {0, 8}, {0, 8}}},
        ScatterCase{4, 3, ScatterRoute::kForward, {{0, 8}, {8, 16}, {16, 24}, {24, 0}}},
        // Two rows per rank: (0,c)->(1,c) stays on rank 0; rows 2, 3 are one hop away.
        ScatterCase{2, 0, ScatterRoute::kForward, {{16, 0}, {0, 16}}}),
    [](const ::testing::TestParamInfo<ScatterCase>& param_info) {
      return fmt::format("ranks{}_row{}_{}", param_info.param.num_ranks, param_info.param.from_row,
                         ToString(param_info.param.route));
    });

// One device per rank: each column is its own chain 0 -> 8 -> 16 -> 24 (+col).
TEST(DistributedScatterTest, OneDevicePerRankForwardsDownEachColumn) {
  const MeshShape shape{4, 8};
  const LmHeadPlan plan = DeepSeekPlan(shape, 0);
  const TensorSpec spec{{1, 1, 2, 4}, DType::kBf16, plan.prefill->input_memory_config};
  RunOnRanks(32, kTimeout, [&](int rank, std::shared_ptr<CommunicatorImpl> comm) {
    MeshDevice mesh(shape, MeshTransport{*SplitMesh(32, rank, 32), comm, ScatterRoute::kForward});
    MeshTensor x = mesh.Allocate(spec);
    if (rank < 8) {
      ASSERT_TRUE(mesh.Write(x, rank, std::vector<std::byte>(16, std::byte(rank))).ok());
    }
    ASSERT_TRUE(MeshScatter(mesh, x, plan.prefill->mesh_scatter).ok());
    EXPECT_EQ((*mesh.Read(x, rank))[0], std::byte(rank % 8));
    const int64_t row = rank / 8;  // Row r relays to the 3 - r rows below it.
    EXPECT_EQ(mesh.network().messages_sent, 3 - row) << "rank " << rank;
    EXPECT_EQ(mesh.network().messages_received, row == 0 ? 0 : 4 - row) << "rank " << rank;
  });
}

// Block (row, device) carries 1000 * row + device: rank 0 must see them in
// row-major device order whatever the split, including rows cut between ranks.
TEST(DeviceGatherTest, RankZeroGetsEveryDevicesBlocksInDeviceOrder) {
  for (const auto& [shape, num_ranks] : std::vector<std::pair<MeshShape, int>>{
           {{4, 8}, 4}, {{2, 4}, 8}, {{3, 4}, 2}, {{1, 4}, 4}, {{4, 8}, 16}}) {
    const int64_t rows = 3;
    const int64_t per_device = 2;  // Values per block.
    RunOnRanks(num_ranks, kTimeout, [&](int rank, std::shared_ptr<CommunicatorImpl> comm) {
      const RankDevices ranks = *SplitMesh(shape.num_devices(), rank, num_ranks);
      std::vector<int32_t> local;
      for (int64_t row = 0; row < rows; ++row) {
        for (int64_t device_idx = ranks.first_device(); device_idx < ranks.end_device();
             ++device_idx) {
          local.insert(local.end(), per_device, static_cast<int32_t>(1000 * row + device_idx));
        }
      }
      std::vector<int32_t> out(rank == 0 ? static_cast<size_t>(rows * shape.num_devices() *
                                                               per_device)
                                         : 0);
      NetworkTraffic traffic;
      ASSERT_TRUE(GatherDeviceBlocks(*comm, ranks, shape, rows, per_device * sizeof(int32_t),
                                     std::as_bytes(std::span<const int32_t>(local)),
                                     std::as_writable_bytes(std::span<int32_t>(out)), traffic)
                      .ok());
      if (rank != 0) return;
      for (int64_t row = 0; row < rows; ++row) {
        for (int64_t device_idx = 0; device_idx < shape.num_devices(); ++device_idx) {
          EXPECT_EQ(out[static_cast<size_t>((row * shape.num_devices() + device_idx) * per_device)],
                    1000 * row + device_idx)
              << shape.rows << "x" << shape.cols << " on " << num_ranks << " ranks";
        }
      }
      // Rank 0 receives every block it does not hold, once.
      EXPECT_EQ(traffic.bytes_received, rows * (shape.num_devices() - ranks.num_local_devices()) *
                                            per_device * 4);
    });
  }
}

}  // namespace
}  // namespace lmhead
