// SPDX-License-Identifier: Apache-2.0
// Circular-buffer estimates of TTNN's DRAM-sharded and 2D multicast matmul factories.
#include "planner/l1_estimate.h"

#include "planner/tt_helpers.h"

namespace lmhead {
namespace {

// get_matmul_subblock_params for per_core_M = 1: TT's SUBBLOCK_HW_CHOICES list, restricted to
// h = 1, is w = 8, 7, ..., 1; the first w that divides per_core_N and fits the dest registers.
int64_t ChooseSubblockW(int64_t per_core_N, int64_t max_subblock_w) {
  for (int64_t w = max_subblock_w; w > 1; --w) {
    if (per_core_N % w == 0) return w;
  }
  return 1;
}

}  // namespace

DramShardedMatmulInternals EstimateDramShardedMatmul(
    const MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig& config, int64_t Kt, int64_t Nt,
    int64_t num_banks, const WormholeComputeKernelConfig& compute) {
  DramShardedMatmulInternals out;
  out.num_worker_cores = num_banks;  // get_optimal_dram_bank_to_logical_worker_assignment.
  out.per_core_N_unpadded = DivUp(Nt, num_banks);
  const int64_t max_subblock_w = compute.fp32_dest_acc_en ? 4 : 8;
  int64_t subblock_w = ChooseSubblockW(out.per_core_N_unpadded, max_subblock_w);
  int64_t per_core_N_compute = out.per_core_N_unpadded;
  // The factory pads per_core_N_compute when the subblock is narrow ("bad for compute"): it walks
  // w' = w+1 .. max and keeps each w' that strictly lowers ceil(per_core_N / w'). 11 -> w 6, 12.
  if (config.per_core_M == 1 && subblock_w < max_subblock_w) {
    int64_t num_subblocks = per_core_N_compute / subblock_w;
    int64_t preferred_w = subblock_w;
    for (int64_t w = subblock_w + 1; w <= max_subblock_w; ++w) {
      const int64_t count = DivUp(per_core_N_compute, w);
      if (count < num_subblocks) {
        num_subblocks = count;
        preferred_w = w;
      }
    }
    subblock_w = preferred_w;
    per_core_N_compute = preferred_w * num_subblocks;
  }
  out.out_subblock_w = subblock_w;
  out.per_core_N_compute = per_core_N_compute;
  out.num_blocks = Kt / config.in0_block_w;
  // in0 double-buffered, in1 triple-buffered (it streams from DRAM).
  out.in0_cb_bytes = 2 * config.per_core_M * config.in0_block_w * kBfloat16TileBytes;
  out.in1_cb_bytes = 3 * out.per_core_N_unpadded * config.in0_block_w * kBfloat4bTileBytes;
  out.out_cb_bytes = config.per_core_M * per_core_N_compute * kBfloat16TileBytes;
  out.output_reshard_cb_bytes = config.per_core_M * config.per_core_N * kBfloat16TileBytes;
  out.worker_l1_bytes = out.in0_cb_bytes + out.in1_cb_bytes + out.out_cb_bytes;
  return out;
}

PrefillL1Estimate EstimatePrefillL1(const MatmulMultiCoreReuseMultiCastProgramConfig& config,
                                    int64_t l1_bytes) {
  PrefillL1Estimate out;
  out.in0_cb_bytes = 2 * config.per_core_M * config.in0_block_w * kBfloat16TileBytes;
  out.in1_cb_bytes = 2 * config.per_core_N * config.in0_block_w * kBfloat4bTileBytes;
  out.out_cb_bytes = config.per_core_M * config.per_core_N * kBfloat16TileBytes;
  out.total_bytes = out.in0_cb_bytes + out.in1_cb_bytes + out.out_cb_bytes;
  out.l1_bytes = l1_bytes;
  out.fits = out.total_bytes <= l1_bytes;
  return out;
}

}  // namespace lmhead
