// SPDX-License-Identifier: Apache-2.0
// TT-Metal's config helpers, one small function each, restated from spec §3 (names in comments).
//
// Each function reproduces its TT counterpart for every input, quirks included; where TT asserts,
// the function returns InvalidArgument naming TT's helper, the failing check and its values, so
// the planner can wrap it with context and a fix.
#ifndef LMHEAD_PLANNER_TT_HELPERS_H_
#define LMHEAD_PLANNER_TT_HELPERS_H_

#include <array>
#include <cstdint>
#include <set>
#include <vector>

#include "lmhead/plan.h"
#include "lmhead/status.h"

namespace lmhead {

// find_largest_divisor's default max_divisor (config_helpers @ 9b3782f2).
inline constexpr int64_t kDefaultMaxDivisor = 8;

// divup(a, b) = (a + b - 1) // b (ttnn/ttnn/core.py). Preconditions: a >= 0, b > 0.
int64_t DivUp(int64_t a, int64_t b);
// roundup(a, b) = divup(a, b) * b (ttnn/ttnn/core.py).
int64_t RoundUp(int64_t a, int64_t b);

// find_all_divisors(n) (config_helpers @ 9b3782f2): divisors in non-decreasing order; a perfect
// square yields its root twice (16 -> 1 2 4 4 8 16), n = 1 yields 1 1, n = 0 yields nothing.
std::vector<int64_t> FindAllDivisors(int64_t n);

// find_largest_divisor(n, max_divisor=8) (config_helpers @ 9b3782f2): the largest divisor of n
// that is <= max_divisor, or 1 when there is none (only for n = 0).
int64_t FindLargestDivisor(int64_t n, int64_t max_divisor = kDefaultMaxDivisor);

// find_largest_divisor, older loop variant (config_helpers @ 001c681f): the first i from
// max_divisor down to 1 with n % i == 0. Same for n >= 1, but n = 0 returns max_divisor.
int64_t FindLargestDivisorOld(int64_t n, int64_t max_divisor = kDefaultMaxDivisor);

// get_activation_sharding_core_counts_for_dram_matmul(width, max_num_cores): the set of divisors
// of divup(width, 32) (a tile count) that are <= max_num_cores. Callers take the max.
std::set<int64_t> GetActivationShardingCoreCountsForDramMatmul(int64_t width,
                                                               int64_t max_num_cores);

// ttnn.num_cores_to_corerangeset(target, grid, row_wise=True) starting at (0, 0)
// (tt_metal/common/work_split.cpp): full rows first, then one partial row; at most two ranges.
// Fails as TT_FATAL does when target > grid.x * grid.y.
Result<CoreRangeSet> NumCoresToCoreRangeSet(int64_t target_num_cores, CoreCoord grid);

// ttnn.create_sharded_memory_config_(shape, core_grid, WIDTH_SHARDED, ROW_MAJOR,
// tile_layout=True, use_height_and_width_as_shard_shape=True) (ttnn/ttnn/core.py): always L1.
// Fails (TT's ValueError) only when both h and w are not multiples of 32 (the `and` of quirk 11).
Result<MemoryConfig> CreateShardedMemoryConfig(std::array<int64_t, 2> shard_shape,
                                               const CoreRangeSet& core_grid);

// dram_sharded_weight_config(k, n, dram_grid_size) (config_helpers): WIDTH_SHARDED DRAM over
// banks (0,0)-(banks-1,0), shard (k, roundup(divup(n, banks), 32)), ROW_MAJOR.
MemoryConfig DramShardedWeightConfig(int64_t k, int64_t n, int64_t num_banks);

// get_dram_sharded_matmul_config(m, k, n, in_shards, out_shards) (config_helpers). Fails when
// kt % in_shards != 0 or nt % out_shards != 0, as TT's asserts do.
Result<MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig> GetDramShardedMatmulConfig(
    int64_t m, int64_t k, int64_t n, int64_t input_num_shards, int64_t output_num_shards);

// LMHead._get_prefill_pc(seq_len, hidden_dim, vocab_size, num_devices, core_grid_size). Fails
// when even_int_div(vocab_size, num_devices) does.
Result<MatmulMultiCoreReuseMultiCastProgramConfig> GetPrefillPc(int64_t seq_len, int64_t hidden_dim,
                                                                int64_t vocab_size,
                                                                int64_t num_devices,
                                                                CoreCoord core_grid_size);

}  // namespace lmhead

#endif  // LMHEAD_PLANNER_TT_HELPERS_H_
