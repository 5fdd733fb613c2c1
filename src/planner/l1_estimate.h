// SPDX-License-Identifier: Apache-2.0
// What TTNN's matmul factories would allocate in L1 for the LM head's configs (spec §3.14, §4).
//
// These are estimates from the factories' circular-buffer formulas; the allocatable L1 is below
// worker_l1_size, so "fits" is necessary, not sufficient.
#ifndef LMHEAD_PLANNER_L1_ESTIMATE_H_
#define LMHEAD_PLANNER_L1_ESTIMATE_H_

#include <cstdint>

#include "lmhead/plan.h"

namespace lmhead {

// Tile sizes in bytes (spec §1): bf16 32*32*2; bfloat4_b 512 mantissa + 64 exponent bytes.
inline constexpr int64_t kBfloat16TileBytes = 2048;
inline constexpr int64_t kBfloat4bTileBytes = 576;

// The DRAM-sharded factory (decode): one worker per bank computes ceil(Nt / banks) tiles, padded
// so its output subblock is wide; the result is resharded into per_core_N storage shards.
DramShardedMatmulInternals EstimateDramShardedMatmul(
    const MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig& config, int64_t Kt, int64_t Nt,
    int64_t num_banks, const WormholeComputeKernelConfig& compute);

// The 2D multicast factory (prefill): in0 2*pcM*in0_block_w bf16, in1 2*pcN*in0_block_w bfp4_b,
// out pcM*pcN bf16 tiles (interm0 shares the output buffer: both are bf16 with packer L1 acc).
PrefillL1Estimate EstimatePrefillL1(const MatmulMultiCoreReuseMultiCastProgramConfig& config,
                                    int64_t l1_bytes);

}  // namespace lmhead

#endif  // LMHEAD_PLANNER_L1_ESTIMATE_H_
