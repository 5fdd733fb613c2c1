// SPDX-License-Identifier: Apache-2.0
// The checks TTNN's matmul applies to the LM head's configs (spec §3.14), one function per rule.
//
// Each rule returns OK or InvalidArgument with "what is wrong (values)"; callers add context.
#ifndef LMHEAD_PLANNER_MATMUL_VALIDATION_H_
#define LMHEAD_PLANNER_MATMUL_VALIDATION_H_

#include "lmhead/plan.h"
#include "lmhead/status.h"

namespace lmhead {

// --- DRAM-sharded program config (decode) -------------------------------------------------
// A (the activation) is WIDTH_SHARDED with ROW_MAJOR shards.
Status CheckActivationWidthSharded(const MemoryConfig& input);
// The output is sharded in the same buffer type as A (L1).
Status CheckOutputShardedLikeInput(const MemoryConfig& input, const MemoryConfig& output);
// M (tile rows of A) == per_core_M == 1, and per_core_M == A.shard_h / 32.
Status CheckSingleTileRow(int64_t Mt, const MemoryConfig& input,
                          const MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig& config);
// Kt % in0_block_w == 0 and (A.shard_w / 32) % in0_block_w == 0.
Status CheckInnerBlock(int64_t Kt, const MemoryConfig& input,
                       const MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig& config);
// B (the weight) is WIDTH_SHARDED.
Status CheckWeightWidthSharded(const WeightPlan& weights);
// The output memory config the op computes ([32*pcM, 32*pcN] on ceil(Nt/pcN) cores) equals the
// module's output_memory_config (LMHead asserts y.memory_config() == output_memory_config).
Status CheckComputedOutputMatches(const DecodePlan& decode, CoreCoord grid);

// --- 2D multicast program config (prefill) -------------------------------------------------
// Every block field is non-zero.
Status CheckBlocksNonZero(const MatmulMultiCoreReuseMultiCastProgramConfig& config);
// Kt % in0_block_w == 0.
Status CheckKtDivisible(int64_t Kt, const MatmulMultiCoreReuseMultiCastProgramConfig& config);
// per_core_M % out_subblock_h == 0 and per_core_N % out_subblock_w == 0.
Status CheckSubblocksDivide(const MatmulMultiCoreReuseMultiCastProgramConfig& config);
// out_subblock_w * out_subblock_h <= dest register tiles (8 with LOFI).
Status CheckSubblockFitsDest(const MatmulMultiCoreReuseMultiCastProgramConfig& config,
                             const WormholeComputeKernelConfig& compute);
// ceil(Mt / per_core_M) <= grid.y and ceil(Nt / per_core_N) <= grid.x, on the device's grid.
Status CheckBlocksFitGrid(int64_t Mt, int64_t Nt,
                          const MatmulMultiCoreReuseMultiCastProgramConfig& config,
                          CoreCoord device_grid);
// A DRAM width-sharded B is read bank by bank: its shard grid's bounding box is one row.
Status CheckWeightBanksOneRow(const WeightPlan& weights);

// All decode / prefill rules in TTNN's order; the first failure wins.
Status ValidateDecodeMatmul(const DecodePlan& decode, const WeightPlan& weights,
                            const MeshDesc& mesh);
Status ValidatePrefillMatmul(const PrefillPlan& prefill, const WeightPlan& weights,
                             const MeshDesc& mesh);

}  // namespace lmhead

#endif  // LMHEAD_PLANNER_MATMUL_VALIDATION_H_
