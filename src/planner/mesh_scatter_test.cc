// SPDX-License-Identifier: Apache-2.0
// mesh_scatter schedules and p2p routing against spec §3.12's counts and examples.
#include "planner/mesh_scatter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace lmhead {
namespace {

using ::testing::HasSubstr;

MeshScatterPlan MustScatter(int64_t rows, int64_t cols, int64_t from_row) {
  Result<MeshScatterPlan> plan = PlanMeshScatter(MeshShape{rows, cols}, from_row, true, true,
                                                 CompatMode::kSeed, "forward_decode");
  EXPECT_TRUE(plan.ok()) << plan.status().ToString();
  return plan.ok() ? *plan : MeshScatterPlan{};
}

// Demo (4x8, from row 0): destination rows 1, 2, 3 with 1, 2, 3 hops forward; rows outer,
// columns inner.
TEST(MeshScatterTest, GalaxyFromRowZero) {
  const MeshScatterPlan plan = MustScatter(4, 8, 0);
  ASSERT_EQ(plan.transfers.size(), 24u);
  size_t idx = 0;
  for (int64_t row : {1, 2, 3}) {
    for (int64_t col = 0; col < 8; ++col, ++idx) {
      const PointToPointTransfer& t = plan.transfers[idx];
      EXPECT_EQ(t.sender, (MeshCoord{0, col}));
      EXPECT_EQ(t.receiver, (MeshCoord{row, col}));
      EXPECT_EQ(t.hops, row);
      EXPECT_EQ(t.mesh_dim, 0);
      EXPECT_TRUE(t.forward);
    }
  }
  EXPECT_EQ(plan.mesh_shape, (MeshShape{4, 8}));
  EXPECT_EQ(plan.from_row, 0);
  EXPECT_FALSE(plan.from_col.has_value());
  EXPECT_EQ(plan.topology, Topology::kLinear);
}

// Tests (from row 3): destination rows 0, 1, 2 with 3, 2, 1 hops backward.
TEST(MeshScatterTest, GalaxyFromRowThree) {
  const MeshScatterPlan plan = MustScatter(4, 8, 3);
  ASSERT_EQ(plan.transfers.size(), 24u);
  const int64_t expected_hops[] = {3, 2, 1};
  for (size_t idx = 0; idx < plan.transfers.size(); ++idx) {
    const PointToPointTransfer& t = plan.transfers[idx];
    const int64_t row = static_cast<int64_t>(idx / 8);
    EXPECT_EQ(t.sender, (MeshCoord{3, static_cast<int64_t>(idx % 8)}));
    EXPECT_EQ(t.receiver, (MeshCoord{row, static_cast<int64_t>(idx % 8)}));
    EXPECT_EQ(t.hops, expected_hops[row]);
    EXPECT_FALSE(t.forward);
  }
}

TEST(MeshScatterTest, TallMeshAndSingleRow) {
  const MeshScatterPlan tall = MustScatter(8, 4, 0);
  EXPECT_EQ(tall.transfers.size(), 28u);  // 7 x 4.
  EXPECT_EQ(tall.transfers.back().hops, 7);
  EXPECT_EQ(tall.transfers.back().receiver, (MeshCoord{7, 3}));
  const MeshScatterPlan middle = MustScatter(8, 4, 5);
  EXPECT_EQ(middle.transfers.front().hops, 5);  // Row 0 first.
  EXPECT_EQ(middle.transfers.back().hops, 2);   // Row 7 last.
  // 1xN: from_row must be 0 and there are no transfers; the sharded input still converts.
  for (int64_t cols : {1, 8, 32}) {
    const MeshScatterPlan single = MustScatter(1, cols, 0);
    EXPECT_TRUE(single.transfers.empty());
    EXPECT_TRUE(single.converts_sharded_input);
  }
  EXPECT_FALSE(PlanMeshScatter(MeshShape{1, 8}, 1, true, true, CompatMode::kSeed, "x").ok());
}

TEST(MeshScatterTest, FromRowOutOfRange) {
  for (int64_t row : {-1, 4, 100}) {
    Result<MeshScatterPlan> plan =
        PlanMeshScatter(MeshShape{4, 8}, row, true, false, CompatMode::kTtV4, "forward_prefill");
    ASSERT_FALSE(plan.ok());
    EXPECT_THAT(plan.status().message(),
                HasSubstr("[Plan] tt-v4 forward_prefill mesh_scatter: assert 0 <= from_row < 4"));
  }
  // Not invoked (tt-v3 decode): kept as configured, no transfers, no check.
  Result<MeshScatterPlan> skipped =
      PlanMeshScatter(MeshShape{4, 8}, 9, false, true, CompatMode::kTtV3, "forward_decode");
  ASSERT_TRUE(skipped.ok());
  EXPECT_FALSE(skipped->invoked);
  EXPECT_FALSE(skipped->converts_sharded_input);
  EXPECT_TRUE(skipped->transfers.empty());
}

// one_d_fabric_routing_vector: along a shared row or column; otherwise TT throws.
TEST(MeshScatterTest, PointToPointRouting) {
  const auto same_col = RoutePointToPoint({0, 2}, {3, 2});
  ASSERT_TRUE(same_col.ok());
  EXPECT_EQ(same_col->hops, 3);
  EXPECT_EQ(same_col->mesh_dim, 0);
  EXPECT_TRUE(same_col->forward);
  const auto same_row = RoutePointToPoint({1, 7}, {1, 2});
  ASSERT_TRUE(same_row.ok());
  EXPECT_EQ(same_row->hops, 5);
  EXPECT_EQ(same_row->mesh_dim, 1);
  EXPECT_FALSE(same_row->forward);
  EXPECT_EQ(RoutePointToPoint({2, 2}, {2, 2})->hops, 0);
  const auto diagonal = RoutePointToPoint({0, 0}, {1, 1});
  ASSERT_FALSE(diagonal.ok());
  EXPECT_THAT(diagonal.status().message(), HasSubstr("share neither a row nor a column"));
}

}  // namespace
}  // namespace lmhead
