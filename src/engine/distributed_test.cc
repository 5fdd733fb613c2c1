// SPDX-License-Identifier: Apache-2.0
// Tests: LmHead spread over ranks of an in-process group (one thread per rank,
// the test double of MPI). Rank 0's logits and reductions equal the
// one-process run bit for bit (that run is checked against float64
// references in lm_head_test.cc), and a rank that fails, disagrees or hangs
// stops every rank with its reason.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <functional>
#include <thread>

#include "base/thread_pool.h"
#include "engine/engine_test_util.h"
#include "lmhead/communicator.h"
#include "lmhead/lm_head.h"
#include "lmhead/weights.h"

namespace lmhead {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kHidden = 256;
constexpr int64_t kVocab = 4096;

std::string MakeWeights(const std::string& name, MeshShape mesh, uint64_t seed = 5) {
  return engine_test::MakeTestWeights(fs::path(::testing::TempDir()) / ("distributed_test_" + name),
                                      kHidden, kVocab, mesh, seed);
}

std::vector<float> RandomActivations(int64_t rows, uint32_t seed) {
  return engine_test::RandomActivations(rows, kHidden, seed);
}

// Runs fn(rank, communicator) for every rank of an in-process group.
void OnRanks(int num_ranks, double timeout,
             const std::function<void(int, std::shared_ptr<Communicator>)>& fn) {
  auto group = Communicator::InProcessGroup(num_ranks, CommunicatorOptions{timeout});
  ASSERT_TRUE(group.ok());
  std::vector<std::thread> threads;
  for (int rank = 0; rank < num_ranks; ++rank) {
    threads.emplace_back(fn, rank, (*group)[static_cast<size_t>(rank)]);
  }
  for (std::thread& thread : threads) thread.join();
}

struct Call {
  const char* mode;
  int64_t rows;
  Reduction reduction;
  int k = 1;
};

Result<ForwardResult> Forward(LmHead& head, const Call& call, const std::vector<float>& x) {
  ForwardOptions options;
  options.reduction = call.reduction;
  options.k = call.k;
  options.keep_per_device = call.reduction == Reduction::kLogits;
  const Activations in{x, {}, call.rows, kHidden};
  return std::string(call.mode) == "decode" ? head.Decode(in, options) : head.Prefill(in, options);
}

template <typename Vector>
bool SameBytes(const Vector& a, const Vector& b) {
  using T = typename Vector::value_type;
  // memcmp must not see the null data() of an empty vector, even for 0 bytes.
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

// With num_threads = 0, ranks of one host that may run on the same CPUs
// split them: the host runs one pool thread per CPU, not one per CPU and rank.
TEST(DistributedThreadsTest, RanksOfOneHostSplitItsCpus) {
  const std::string weights = MakeWeights("threads", MeshShape{1, 2});
  const int cpus = DefaultThreadCount();
  std::vector<int> threads(2);
  OnRanks(2, 30.0, [&](int rank, std::shared_ptr<Communicator> comm) {
    OpenOptions open;
    open.communicator = comm;
    auto head = LmHead::Open(weights, open);
    ASSERT_TRUE(head.ok()) << head.status().ToString();
    threads[static_cast<size_t>(rank)] = (*head)->num_threads();
  });
  if (cpus >= 2) {
    EXPECT_EQ(threads[0] + threads[1], cpus);
    EXPECT_GE(std::min(threads[0], threads[1]), cpus / 2);
  } else {
    EXPECT_EQ(threads, (std::vector<int>{1, 1}));
  }
}

struct SplitCase {
  MeshShape mesh;
  int num_ranks;
};

class DistributedLmHeadTest : public ::testing::TestWithParam<SplitCase> {};

TEST_P(DistributedLmHeadTest, RankZeroEqualsOneProcessBitForBit) {
  const SplitCase& c = GetParam();
  // One directory per case: ctest runs the cases in parallel processes.
  const std::string weights =
      MakeWeights(fmt::format("{}x{}_ranks{}", c.mesh.rows, c.mesh.cols, c.num_ranks), c.mesh);
  const int64_t num_devices = c.mesh.num_devices();
  const int64_t per_rank = num_devices / c.num_ranks;
  const std::vector<Call> calls = {{"decode", 7, Reduction::kLogits},
                                   {"decode", 7, Reduction::kTopK, 5},
                                   {"decode", 1, Reduction::kLogSumExp},
                                   {"prefill", 1025, Reduction::kLogits},
                                   {"prefill", 1025, Reduction::kTopK, 3}};
  for (int64_t input_row_idx : {int64_t{0}, c.mesh.rows - 1}) {
    OpenOptions open;
    open.input_row_idx = input_row_idx;
    open.num_threads = 1;
    auto single = LmHead::Open(weights, open);
    ASSERT_TRUE(single.ok()) << single.status().ToString();
    std::vector<ForwardResult> want;
    for (const Call& call : calls) {
      auto result = Forward(**single, call, RandomActivations(call.rows, 3));
      ASSERT_TRUE(result.ok()) << result.status().ToString();
      want.push_back(std::move(result).value());
    }
    OnRanks(c.num_ranks, 30.0, [&](int rank, std::shared_ptr<Communicator> comm) {
      OpenOptions ranked = open;
      ranked.communicator = comm;
      // Both routes give the same bytes; every rank must use the same one.
      ranked.scatter_route = input_row_idx == 0 ? ScatterRoute::kForward : ScatterRoute::kDirect;
      auto head = LmHead::Open(weights, ranked);
      ASSERT_TRUE(head.ok()) << head.status().ToString();
      for (size_t call_idx = 0; call_idx < calls.size(); ++call_idx) {
        const Call& call = calls[call_idx];
        auto got = Forward(**head, call, RandomActivations(call.rows, 3));
        ASSERT_TRUE(got.ok()) << got.status().ToString();
        const ForwardResult& ref = want[call_idx];
        const std::string where =
            fmt::format("rank {}, {} {} rows, reduction {}, row {}", rank, call.mode, call.rows,
                        static_cast<int>(call.reduction), input_row_idx);
        EXPECT_EQ(got->first_device, rank * per_rank) << where;
        EXPECT_EQ(got->num_transfers, ref.num_transfers) << where;
        for (size_t local = 0; local < got->per_device_logits.size(); ++local) {
          const size_t device_idx = static_cast<size_t>(rank * per_rank) + local;
          EXPECT_TRUE(SameBytes(got->per_device_logits[local], ref.per_device_logits[device_idx]))
              << where << " device " << device_idx;
        }
        if (rank != 0) {
          EXPECT_TRUE(got->logits.empty() && got->token_ids.empty()) << where;
          continue;
        }
        EXPECT_TRUE(SameBytes(got->logits, ref.logits)) << where;
        EXPECT_EQ(got->token_ids, ref.token_ids) << where;
        EXPECT_TRUE(SameBytes(got->values, ref.values)) << where;
        EXPECT_TRUE(SameBytes(got->logsumexp, ref.logsumexp)) << where;
        // Rank 0 receives each device's partials (16 B per candidate or per
        // logsumexp pair) or logits once, except its own.
        const int64_t others = num_devices - per_rank;
        const int64_t per_row = call.reduction == Reduction::kLogits ? kVocab / num_devices * 4
                                : call.reduction == Reduction::kTopK ? call.k * 16
                                                                     : 16;
        EXPECT_EQ(got->combine_network.bytes_received, call.rows * others * per_row) << where;
      }
    });
  }
}

INSTANTIATE_TEST_SUITE_P(Splits, DistributedLmHeadTest,
                         ::testing::Values(SplitCase{{1, 4}, 4}, SplitCase{{2, 4}, 2},
                                           SplitCase{{2, 4}, 8}, SplitCase{{4, 8}, 4}),
                         [](const ::testing::TestParamInfo<SplitCase>& param_info) {
                           return fmt::format("{}x{}_ranks{}", param_info.param.mesh.rows,
                                              param_info.param.mesh.cols,
                                              param_info.param.num_ranks);
                         });

// Each rank gets its own copy of the weights, so one copy can be broken.
std::vector<std::string> CopiesPerRank(const std::string& weights, int num_ranks) {
  std::vector<std::string> copies;
  for (int rank = 0; rank < num_ranks; ++rank) {
    const std::string copy = fmt::format("{}_rank{}", weights, rank);
    fs::remove_all(copy);
    fs::copy(weights, copy);
    copies.push_back(copy);
  }
  return copies;
}

TEST(DistributedLmHeadTest, AMissingShardOnOneRankStopsEveryRankNamingIt) {
  const auto copies = CopiesPerRank(MakeWeights("missing", MeshShape{2, 4}), 4);
  fs::remove(fs::path(copies[2]) / ShardFileName(5));  // Rank 2 holds devices 4 and 5.
  OnRanks(4, 30.0, [&](int rank, std::shared_ptr<Communicator> comm) {
    OpenOptions open;
    open.communicator = comm;
    auto head = LmHead::Open(copies[static_cast<size_t>(rank)], open);
    ASSERT_FALSE(head.ok());
    EXPECT_EQ(head.status().code(), StatusCode::kNotFound);
    const std::string& message = head.status().message();
    EXPECT_NE(message.find("[LmHead::Open] rank 2 of 4 failed"), std::string::npos) << message;
    EXPECT_NE(message.find("device_005.shard"), std::string::npos) << message;
  });
}

TEST(DistributedLmHeadTest, RanksSeeingDifferentWeightsStopBeforeComputing) {
  const auto copies = CopiesPerRank(MakeWeights("same", MeshShape{1, 4}), 2);
  const std::string other = MakeWeights("other", MeshShape{1, 4}, /*seed=*/6);
  OnRanks(2, 30.0, [&](int rank, std::shared_ptr<Communicator> comm) {
    OpenOptions open;
    open.communicator = comm;
    auto head = LmHead::Open(rank == 1 ? other : copies[0], open);
    ASSERT_FALSE(head.ok());
    EXPECT_EQ(head.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(head.status().message().find("different"), std::string::npos)
        << head.status().message();
    EXPECT_NE(head.status().message().find("rank 1 see xxh3"), std::string::npos)
        << head.status().message();
  });
}

TEST(DistributedLmHeadTest, ARankCountThatDoesNotDivideTheMeshIsOneClearError) {
  const std::string weights = MakeWeights("uneven", MeshShape{2, 4});
  OnRanks(3, 30.0, [&](int, std::shared_ptr<Communicator> comm) {
    OpenOptions open;
    open.communicator = comm;
    auto head = LmHead::Open(weights, open);
    ASSERT_FALSE(head.ok());
    EXPECT_EQ(head.status().message().rfind("[SplitMesh] 3 processes", 0), 0u)
        << head.status().message();
  });
}

TEST(DistributedLmHeadTest, AHungRankIsNamedByTheOthersWithinTheTimeout) {
  const std::string weights = MakeWeights("hung", MeshShape{1, 4});
  OnRanks(4, 0.5, [&](int rank, std::shared_ptr<Communicator> comm) {
    OpenOptions open;
    open.communicator = comm;
    auto head = LmHead::Open(weights, open);
    ASSERT_TRUE(head.ok()) << head.status().ToString();
    if (rank == 3) return;  // Never decodes.
    const std::vector<float> x = RandomActivations(1, 1);
    auto result = (*head)->Decode(Activations{x, {}, 1, kHidden}, {});
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), StatusCode::kIOError);
    EXPECT_NE(result.status().message().find("nothing from rank 3 within 0.5 s"), std::string::npos)
        << result.status().message();
  });
}

}  // namespace
}  // namespace lmhead
