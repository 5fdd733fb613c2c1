// SPDX-License-Identifier: Apache-2.0
// Tests: per-device partials merged across shards equal the reduction of the
// concatenated row, computed here independently by sorting and a direct sum.
#include "engine/combine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

namespace lmhead {
namespace {

// Independent reference: stable sort of indices by value desc, NaN last.
std::vector<int64_t> ReferenceTopKIds(const std::vector<float>& row, int k) {
  std::vector<int64_t> ids(row.size());
  std::iota(ids.begin(), ids.end(), 0);
  std::stable_sort(ids.begin(), ids.end(), [&](int64_t a, int64_t b) {
    if (std::isnan(row[b])) return !std::isnan(row[a]);
    if (std::isnan(row[a])) return false;
    return row[a] > row[b];
  });
  ids.resize(std::min<size_t>(static_cast<size_t>(k), ids.size()));
  return ids;
}

// Splits `row` into `num_shards` contiguous shards, reduces each and merges.
std::vector<Candidate> ShardedTopK(const std::vector<float>& row, int num_shards, int k) {
  std::vector<std::vector<Candidate>> partials;
  const size_t shard = row.size() / static_cast<size_t>(num_shards);
  for (int shard_idx = 0; shard_idx < num_shards; ++shard_idx) {
    const size_t begin = static_cast<size_t>(shard_idx) * shard;
    std::span<const float> part(row.data() + begin, shard);
    partials.push_back(SelectTopK(part, static_cast<int64_t>(begin), k));
  }
  return MergeTopK(partials, k);
}

TEST(CombineTest, TopKMatchesFullSortWithTies) {
  std::mt19937 rng(7);
  // Values drawn from a tiny set force many ties across shard boundaries.
  std::uniform_int_distribution<int> level(0, 5);
  std::vector<float> row(32 * 40);
  for (float& x : row) x = static_cast<float>(level(rng)) * 0.5f;
  for (int k : {1, 5, 64, 1024}) {
    std::vector<Candidate> got = ShardedTopK(row, 32, k);
    std::vector<int64_t> want = ReferenceTopKIds(row, k);
    ASSERT_EQ(got.size(), want.size());
    for (size_t idx = 0; idx < want.size(); ++idx) {
      EXPECT_EQ(got[idx].token_id, want[idx]) << "k=" << k << " rank " << idx;
      EXPECT_EQ(got[idx].value, row[static_cast<size_t>(want[idx])]);
    }
  }
}

TEST(CombineTest, ArgmaxPrefersLowestIdOnTieAndIgnoresNaN) {
  std::vector<float> row = {NAN, 1.0f, 3.0f, -INFINITY, 3.0f, NAN, 2.0f, 3.0f};
  std::vector<Candidate> best = ShardedTopK(row, 4, 1);
  ASSERT_EQ(best.size(), 1u);
  EXPECT_EQ(best[0].token_id, 2);
  std::vector<Candidate> all = ShardedTopK(row, 2, 8);
  EXPECT_EQ(all[0].token_id, 2);
  EXPECT_EQ(all[1].token_id, 4);
  EXPECT_EQ(all[2].token_id, 7);
  EXPECT_TRUE(std::isnan(all[6].value));
  EXPECT_EQ(all[6].token_id, 0);
  EXPECT_EQ(all[7].token_id, 5);
}

TEST(CombineTest, KLargerThanRowReturnsEverything) {
  std::vector<float> row = {1, 2, 3};
  EXPECT_EQ(SelectTopK(row, 10, 8).size(), 3u);
  EXPECT_EQ(SelectTopK(row, 10, 8)[0].token_id, 12);
  EXPECT_TRUE(SelectTopK(row, 0, 0).empty());
}

double Merged(const std::vector<float>& row, int num_shards) {
  LogSumExpPartial total;
  const size_t shard = row.size() / static_cast<size_t>(num_shards);
  for (int shard_idx = 0; shard_idx < num_shards; ++shard_idx) {
    std::span<const float> part(row.data() + static_cast<size_t>(shard_idx) * shard, shard);
    total = MergeLogSumExp(total, PartialLogSumExp(part));
  }
  return FinishLogSumExp(total);
}

TEST(CombineTest, LogSumExpMatchesDirectSum) {
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 4.0f);
  std::vector<float> row(4040 * 8);
  for (float& x : row) x = normal(rng);
  double direct = 0.0;
  for (float x : row) direct += std::exp(static_cast<double>(x));
  EXPECT_NEAR(Merged(row, 8), std::log(direct), 1e-12);
}

TEST(CombineTest, LogSumExpIsStableForHugeLogits) {
  // exp(1000) overflows double; the partial form must not.
  std::vector<float> row = {1000.0f, 1000.0f, -1000.0f, 999.0f};
  EXPECT_NEAR(Merged(row, 2), 1000.0 + std::log(2.0 + std::exp(-1.0)), 1e-12);
}

TEST(CombineTest, LogSumExpSpecialValues) {
  EXPECT_TRUE(std::isnan(Merged({1.0f, NAN, 2.0f, 3.0f}, 2)));
  EXPECT_EQ(Merged({1.0f, 2.0f, INFINITY, 3.0f}, 2), INFINITY);
  EXPECT_EQ(Merged({-INFINITY, -INFINITY}, 2), -INFINITY);
  EXPECT_NEAR(Merged({-INFINITY, 0.0f}, 2), 0.0, 0.0);
}

}  // namespace
}  // namespace lmhead
