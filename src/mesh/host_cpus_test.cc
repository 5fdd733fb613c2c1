// SPDX-License-Identifier: Apache-2.0
// Tests: ranks of one host with the same CPUs split them; ranks with CPUs of their own keep them.
#include "mesh/host_cpus.h"

#include <gtest/gtest.h>

#include <vector>

#include "mesh/mesh_test_util.h"

namespace lmhead {
namespace {

using Cpus = std::vector<int>;

TEST(CpuSliceTest, EqualConsecutiveSlicesInRankOrder) {
  const Cpus four = {0, 1, 2, 3};
  EXPECT_EQ(CpuSlice(four, 0, 1), four);
  EXPECT_EQ(CpuSlice(four, 0, 2), (Cpus{0, 1}));
  EXPECT_EQ(CpuSlice(four, 1, 2), (Cpus{2, 3}));
  // 5 CPUs for 2 ranks: 2 and 3.
  const Cpus five = {4, 5, 6, 7, 9};
  EXPECT_EQ(CpuSlice(five, 0, 2), (Cpus{4, 5}));
  EXPECT_EQ(CpuSlice(five, 1, 2), (Cpus{6, 7, 9}));
}

TEST(CpuSliceTest, MoreRanksThanCpusTakeOneEachInTurn) {
  const Cpus two = {0, 1};
  EXPECT_EQ(CpuSlice(two, 0, 4), (Cpus{0}));
  EXPECT_EQ(CpuSlice(two, 1, 4), (Cpus{1}));
  EXPECT_EQ(CpuSlice(two, 2, 4), (Cpus{0}));
  EXPECT_EQ(CpuSlice(two, 3, 4), (Cpus{1}));
}

// Ranks 0, 1 and 3 share CPUs 0-5, rank 2 was bound to 6-7 (one host: the
// ranks are threads of this process).
TEST(HostCpuShareTest, RanksWithTheSameCpusSplitThemOthersKeepTheirs) {
  const std::vector<Cpus> allowed = {
      {0, 1, 2, 3, 4, 5}, {0, 1, 2, 3, 4, 5}, {6, 7}, {0, 1, 2, 3, 4, 5}};
  const std::vector<Cpus> want = {{0, 1}, {2, 3}, {6, 7}, {4, 5}};
  std::vector<Cpus> got(allowed.size());
  RunOnRanks(4, 10.0, [&](int rank, std::shared_ptr<CommunicatorImpl> comm) {
    auto share = HostCpuShare(*comm, allowed[static_cast<size_t>(rank)]);
    ASSERT_TRUE(share.ok()) << share.status().ToString();
    got[static_cast<size_t>(rank)] = *share;
  });
  EXPECT_EQ(got, want);
}

TEST(HostCpuShareTest, OneRankKeepsEveryCpu) {
  RunOnRanks(1, 10.0, [&](int, std::shared_ptr<CommunicatorImpl> comm) {
    auto share = HostCpuShare(*comm, {0, 1, 2});
    ASSERT_TRUE(share.ok()) << share.status().ToString();
    EXPECT_EQ(*share, (Cpus{0, 1, 2}));
  });
}

}  // namespace
}  // namespace lmhead
