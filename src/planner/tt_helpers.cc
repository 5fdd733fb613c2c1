// SPDX-License-Identifier: Apache-2.0
// TT-Metal's config helpers restated from spec §3; see tt_helpers.h for the contracts.
#include "planner/tt_helpers.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/check.h"

namespace lmhead {

int64_t DivUp(int64_t a, int64_t b) {
  LMHEAD_CHECK(a >= 0 && b > 0, "divup({}, {})", a, b);
  return (a + b - 1) / b;
}

int64_t RoundUp(int64_t a, int64_t b) { return DivUp(a, b) * b; }

std::vector<int64_t> FindAllDivisors(int64_t n) {
  std::vector<int64_t> small;
  std::vector<int64_t> large;
  // `d * d <= n` is Python's `range(1, int(sqrt(n)) + 1)` without floating point.
  for (int64_t d = 1; d * d <= n; ++d) {
    if (n % d == 0) {
      small.push_back(d);
      large.push_back(n / d);  // For a perfect square this repeats d, as TT's generator does.
    }
  }
  small.insert(small.end(), large.rbegin(), large.rend());
  return small;
}

int64_t FindLargestDivisor(int64_t n, int64_t max_divisor) {
  int64_t best = 0;
  for (int64_t d : FindAllDivisors(n)) {
    if (d > max_divisor) break;  // TT's takewhile: the divisors arrive sorted.
    best = std::max(best, d);
  }
  return best == 0 ? 1 : best;
}

int64_t FindLargestDivisorOld(int64_t n, int64_t max_divisor) {
  for (int64_t i = max_divisor; i >= 1; --i) {
    if (n % i == 0) return i;  // n = 0 returns max_divisor here (quirk 12).
  }
  return 1;
}

std::set<int64_t> GetActivationShardingCoreCountsForDramMatmul(int64_t width,
                                                               int64_t max_num_cores) {
  std::set<int64_t> counts;
  for (int64_t d : FindAllDivisors(DivUp(width, kTileSize))) {
    if (d <= max_num_cores) counts.insert(d);
  }
  return counts;
}

Result<CoreRangeSet> NumCoresToCoreRangeSet(int64_t target_num_cores, CoreCoord grid) {
  LMHEAD_CHECK(target_num_cores >= 0 && grid.x > 0 && grid.y > 0, "target {} grid {}x{}",
               target_num_cores, grid.x, grid.y);
  if (target_num_cores > grid.x * grid.y) {
    return Status::InvalidArgument(fmt::format(
        "[num_cores_to_corerangeset] TT_FATAL: target number of cores {} is greater than the {} "
        "cores of the {}x{} grid",
        target_num_cores, grid.x * grid.y, grid.x, grid.y));
  }
  CoreRangeSet set;
  int64_t left = target_num_cores;
  int64_t start_y = 0;
  // The start core is (0,0), so TT's "partial first row" step never runs. Note the strict `>`:
  // exactly one row is emitted by the partial-row step below.
  if (left > grid.x) {
    const int64_t num_rows = left / grid.x;
    set.ranges.push_back(CoreRange{{0, start_y}, {grid.x - 1, start_y + num_rows - 1}});
    left -= num_rows * grid.x;
    start_y += num_rows;
  }
  if (left > 0) set.ranges.push_back(CoreRange{{0, start_y}, {left - 1, start_y}});
  return set;
}

Result<MemoryConfig> CreateShardedMemoryConfig(std::array<int64_t, 2> shard_shape,
                                               const CoreRangeSet& core_grid) {
  const auto [h, w] = shard_shape;
  // TT's source tests `h % 32 != 0 and w % 32 != 0` (quirk 11): one unaligned dim passes.
  if (h % kTileSize != 0 && w % kTileSize != 0) {
    return Status::InvalidArgument(fmt::format(
        "[create_sharded_memory_config_] ValueError: shard shape [{}, {}] is not divisible by "
        "the tile size 32 in either dimension",
        h, w));
  }
  return MemoryConfig{TensorMemoryLayout::kWidthSharded, BufferType::kL1,
                      ShardSpec{core_grid, {h, w}, ShardOrientation::kRowMajor}};
}

MemoryConfig DramShardedWeightConfig(int64_t k, int64_t n, int64_t num_banks) {
  // The bank grid is dram_grid_size() = (banks, 1); TT asserts y == 1, which holds by
  // construction here. Coordinates are DRAM banks, not Tensix cores.
  CoreRangeSet banks{{CoreRange{{0, 0}, {num_banks - 1, 0}}}};
  return MemoryConfig{
      TensorMemoryLayout::kWidthSharded, BufferType::kDram,
      ShardSpec{banks, {k, RoundUp(DivUp(n, num_banks), kTileSize)}, ShardOrientation::kRowMajor}};
}

Result<MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig> GetDramShardedMatmulConfig(
    int64_t m, int64_t k, int64_t n, int64_t input_num_shards, int64_t output_num_shards) {
  LMHEAD_CHECK(input_num_shards > 0 && output_num_shards > 0, "shards {} {}", input_num_shards,
               output_num_shards);
  const int64_t mt = DivUp(m, kTileSize);
  const int64_t kt = DivUp(k, kTileSize);
  const int64_t nt = DivUp(n, kTileSize);
  if (kt % input_num_shards != 0) {
    return Status::InvalidArgument(fmt::format(
        "[get_dram_sharded_matmul_config] assert k_tiles % input_num_shards == 0 fails ({} % {} "
        "= {}): the input must shard evenly without padding",
        kt, input_num_shards, kt % input_num_shards));
  }
  if (nt % output_num_shards != 0) {
    return Status::InvalidArgument(fmt::format(
        "[get_dram_sharded_matmul_config] assert n_tiles % output_num_shards == 0 fails ({} % {} "
        "= {}): the output must shard evenly without padding",
        nt, output_num_shards, nt % output_num_shards));
  }
  MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig config;
  config.in0_block_w = FindLargestDivisor(kt / input_num_shards);
  config.per_core_M = mt;
  config.per_core_N = nt / output_num_shards;
  return config;
}

Result<MatmulMultiCoreReuseMultiCastProgramConfig> GetPrefillPc(int64_t seq_len, int64_t hidden_dim,
                                                                int64_t vocab_size,
                                                                int64_t num_devices,
                                                                CoreCoord core_grid_size) {
  if (vocab_size % num_devices != 0) {
    return Status::InvalidArgument(
        fmt::format("[_get_prefill_pc] even_int_div(vocab_size, num_devices) fails ({} % {} = {})",
                    vocab_size, num_devices, vocab_size % num_devices));
  }
  MatmulMultiCoreReuseMultiCastProgramConfig config;
  config.compute_with_storage_grid_size = core_grid_size;
  config.per_core_M = DivUp(seq_len, kTileSize * core_grid_size.y);
  config.in0_block_w = FindLargestDivisor(DivUp(hidden_dim, kTileSize));
  config.per_core_N = DivUp(vocab_size / num_devices, kTileSize * core_grid_size.x);
  config.out_subblock_h = 1;
  // TT passes out_subblock_h (= 1) as max_divisor, so this is always 1 (quirk 4).
  config.out_subblock_w = FindLargestDivisor(config.per_core_N, config.out_subblock_h);
  config.transpose_mcast = false;
  config.fuse_batch = false;
  return config;
}

}  // namespace lmhead
