// SPDX-License-Identifier: Apache-2.0
// Tests: the collectives over in-process ranks (threads), including the ways a
// rank fails: an error it reports, a rank that never arrives, ranks out of step.
#include "mesh/communicator_impl.h"

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include <gtest/gtest.h>

#include "lmhead/communicator.h"
#include "mesh/mesh_test_util.h"
#include "mesh/rank_devices.h"

namespace lmhead {
namespace {

std::vector<std::byte> BytesOf(std::string_view text) {
  const auto bytes = std::as_bytes(std::span<const char>(text.data(), text.size()));
  return {bytes.begin(), bytes.end()};
}

TEST(CommunicatorTest, AllGatherGivesEveryRankEveryContributionInRankOrder) {
  RunOnRanks(4, 5.0, [](int rank, std::shared_ptr<CommunicatorImpl> comm) {
    const int32_t mine = 100 + rank;
    std::vector<int32_t> all(4, -1);
    ASSERT_TRUE(comm->AllGather(std::as_bytes(std::span<const int32_t>(&mine, 1)),
                                std::as_writable_bytes(std::span<int32_t>(all)), "test")
                    .ok());
    EXPECT_EQ(all, (std::vector<int32_t>{100, 101, 102, 103})) << "rank " << rank;
  });
}

TEST(CommunicatorTest, AgreeIsOkOnlyWhenEveryRankIsOk) {
  RunOnRanks(3, 5.0, [](int, std::shared_ptr<CommunicatorImpl> comm) {
    EXPECT_TRUE(comm->Agree(Status::Ok(), "test").ok());
  });
}

TEST(CommunicatorTest, AgreeGivesEveryRankTheFirstFailureNamingItsRank) {
  RunOnRanks(4, 5.0, [](int rank, std::shared_ptr<CommunicatorImpl> comm) {
    Status local = Status::Ok();
    if (rank == 2) local = Status::NotFound("[WeightsDir] cannot open w/device_005.shard");
    if (rank == 3) local = Status::Corruption("[WeightsDir] w/device_007.shard is truncated");
    const Status agreed = comm->Agree(local, "LmHead::Open");
    EXPECT_EQ(agreed.code(), StatusCode::kNotFound) << "rank " << rank;
    EXPECT_EQ(agreed.message(),
              "[LmHead::Open] rank 2 of 4 failed (ranks 3 failed too): [WeightsDir] cannot open "
              "w/device_005.shard")
        << "rank " << rank;
  });
}

TEST(CommunicatorTest, AgreeKeepsAFailureEveryRankSharesAsIs) {
  RunOnRanks(2, 5.0, [](int, std::shared_ptr<CommunicatorImpl> comm) {
    const Status agreed = comm->Agree(Status::InvalidArgument("[run] bad flag"), "run");
    EXPECT_EQ(agreed.code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(agreed.message(), "[run] bad flag");
  });
}

// A rank that never arrives costs the others one timeout, then an IOError
// naming it; the communicator is broken afterwards.
TEST(CommunicatorTest, ARankThatNeverArrivesIsNamedAfterTheTimeout) {
  RunOnRanks(3, 0.3, [](int rank, std::shared_ptr<CommunicatorImpl> comm) {
    if (rank == 1) return;  // Hung.
    const auto start = std::chrono::steady_clock::now();
    const Status agreed = comm->Agree(Status::Ok(), "LmHead::Decode");
    const double waited =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_EQ(agreed.code(), StatusCode::kIOError);
    EXPECT_NE(agreed.message().find("nothing from rank 1 within 0.3 s (LmHead::Decode)"),
              std::string::npos)
        << agreed.message();
    EXPECT_GE(waited, 0.3);
    EXPECT_LT(waited, 3.0);
    EXPECT_TRUE(comm->broken());
    EXPECT_FALSE(comm->Agree(Status::Ok(), "after").ok());
  });
}

TEST(CommunicatorTest, AMessageOfTheWrongSizeMeansTheRanksAreOutOfStep) {
  RunOnRanks(2, 5.0, [](int rank, std::shared_ptr<CommunicatorImpl> comm) {
    if (rank == 0) {
      auto blob = std::make_shared<const std::vector<std::byte>>(BytesOf("12345"));
      ASSERT_TRUE(comm->Send(1, 7, blob, "test").ok());
      ASSERT_TRUE(comm->WaitSends(comm->Deadline(), "test").ok());
      return;
    }
    std::vector<std::byte> out(4);
    const Status status = comm->Recv(0, 7, out, comm->Deadline(), "test");
    EXPECT_EQ(status.code(), StatusCode::kIOError);
    EXPECT_NE(status.message().find("5 bytes from rank 0 where 4 were expected"),
              std::string::npos)
        << status.message();
  });
}

TEST(CommunicatorTest, GatherToRootCollectsTextsOfAnySize) {
  RunOnRanks(3, 5.0, [](int rank, std::shared_ptr<CommunicatorImpl> comm) {
    Communicator wrapper(comm);
    const std::string mine(static_cast<size_t>(rank) * 3, static_cast<char>('a' + rank));
    auto texts = wrapper.GatherToRoot(mine);
    ASSERT_TRUE(texts.ok()) << texts.status().ToString();
    if (rank != 0) {
      EXPECT_TRUE(texts->empty());
      return;
    }
    EXPECT_EQ(*texts, (std::vector<std::string>{"", "bbb", "cccccc"}));
  });
}

TEST(CommunicatorTest, SingleProcessAgreeReturnsTheLocalStatusUnchanged) {
  auto single = Communicator::Single();
  EXPECT_EQ(single->size(), 1);
  EXPECT_STREQ(single->transport(), "single");
  const Status agreed = single->Agree(Status::Corruption("[x] y"));
  EXPECT_EQ(agreed.code(), StatusCode::kCorruption);
  EXPECT_EQ(agreed.message(), "[x] y");
  EXPECT_EQ(Communicator::InProcessGroup(0, {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Communicator::InProcessGroup(2, CommunicatorOptions{0.0}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseScatterRoute("sideways").status().code(), StatusCode::kInvalidArgument);
}

#ifdef LMHEAD_TEST_WITHOUT_MPI
// A build without MPI refuses to run as several MPI ranks (each would compute
// the whole mesh and race on the outputs) but runs alone under `mpirun -n 1`.
TEST(CommunicatorTest, WithoutMpiSeveralLaunchedRanksAreNotSupported) {
  EXPECT_EQ(Communicator::Mpi({}).status().code(), StatusCode::kNotSupported);
  ASSERT_EQ(setenv("OMPI_COMM_WORLD_SIZE", "2", 1), 0);
  EXPECT_EQ(Communicator::LauncherWorldSize(), 2);
  auto two = Communicator::FromEnvironment({});
  ASSERT_EQ(two.status().code(), StatusCode::kNotSupported);
  EXPECT_NE(two.status().message().find("LMHEAD_ENABLE_MPI=OFF"), std::string::npos);
  EXPECT_NE(two.status().message().find("started 2 ranks"), std::string::npos);
  ASSERT_EQ(setenv("OMPI_COMM_WORLD_SIZE", "1", 1), 0);
  auto one = Communicator::FromEnvironment({});
  ASSERT_TRUE(one.ok());
  EXPECT_EQ((*one)->size(), 1);
  unsetenv("OMPI_COMM_WORLD_SIZE");
}
#endif

TEST(RankDevicesTest, ConsecutiveDevicesPerRankInRowMajorOrder) {
  auto ranks = SplitMesh(32, 2, 4);
  ASSERT_TRUE(ranks.ok());
  EXPECT_EQ(ranks->first_device(), 16);
  EXPECT_EQ(ranks->end_device(), 24);
  EXPECT_TRUE(ranks->IsLocal(23));
  EXPECT_FALSE(ranks->IsLocal(24));
  EXPECT_EQ(ranks->OwnerOf(31), 3);
  const auto uneven = SplitMesh(8, 0, 3);
  ASSERT_FALSE(uneven.ok());
  EXPECT_NE(uneven.status().message().find("divides 8 (1, 2, 4, 8)"), std::string::npos)
      << uneven.status().message();
}

}  // namespace
}  // namespace lmhead
