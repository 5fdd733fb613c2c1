// SPDX-License-Identifier: Apache-2.0
// TTNN matmul validation rules for the LM head's two program configs (spec §3.14).
#include "planner/matmul_validation.h"

#include <fmt/format.h>

#include "planner/tt_helpers.h"

namespace lmhead {
namespace {

Status Fail(std::string message) { return Status::InvalidArgument(message); }

}  // namespace

Status CheckActivationWidthSharded(const MemoryConfig& input) {
  if (input.memory_layout != TensorMemoryLayout::kWidthSharded || !input.shard_spec ||
      input.shard_spec->orientation != ShardOrientation::kRowMajor) {
    return Fail(
        fmt::format("the DRAM-sharded matmul needs a WIDTH_SHARDED ROW_MAJOR activation, "
                    "got {}",
                    ToString(input)));
  }
  return Status::Ok();
}

Status CheckOutputShardedLikeInput(const MemoryConfig& input, const MemoryConfig& output) {
  if (output.memory_layout == TensorMemoryLayout::kInterleaved ||
      output.buffer_type != input.buffer_type) {
    return Fail(
        fmt::format("the DRAM-sharded matmul output must be sharded in the input's "
                    "buffer ({}), got {}",
                    ToString(input.buffer_type), ToString(output)));
  }
  return Status::Ok();
}

Status CheckSingleTileRow(int64_t Mt, const MemoryConfig& input,
                          const MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig& config) {
  if (Mt != 1 || config.per_core_M != 1) {
    return Fail(
        fmt::format("the DRAM-sharded matmul needs one tile row, M == per_core_M == 1 "
                    "(M {} tiles, per_core_M {}); decode takes at most 32 rows",
                    Mt, config.per_core_M));
  }
  if (!input.shard_spec || config.per_core_M * kTileSize != input.shard_spec->shape[0]) {
    return Fail(fmt::format("per_core_M {} must equal the activation shard height / 32 ({})",
                            config.per_core_M,
                            input.shard_spec ? input.shard_spec->shape[0] / kTileSize : 0));
  }
  return Status::Ok();
}

Status CheckInnerBlock(int64_t Kt, const MemoryConfig& input,
                       const MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig& config) {
  if (config.in0_block_w <= 0 || Kt % config.in0_block_w != 0) {
    return Fail(
        fmt::format("K tiles {} must be a multiple of in0_block_w {}", Kt, config.in0_block_w));
  }
  const int64_t shard_w_tiles = input.shard_spec ? input.shard_spec->shape[1] / kTileSize : 0;
  if (shard_w_tiles % config.in0_block_w != 0) {
    return Fail(fmt::format("activation shard width {} tiles must be a multiple of in0_block_w {}",
                            shard_w_tiles, config.in0_block_w));
  }
  return Status::Ok();
}

Status CheckWeightWidthSharded(const WeightPlan& weights) {
  if (weights.memory_config.memory_layout != TensorMemoryLayout::kWidthSharded ||
      !weights.memory_config.shard_spec) {
    return Fail(
        fmt::format("the weight must be WIDTH_SHARDED, got {}", ToString(weights.memory_config)));
  }
  return Status::Ok();
}

Status CheckComputedOutputMatches(const DecodePlan& decode, CoreCoord grid) {
  const auto& config = decode.program_config();
  if (config.per_core_M <= 0 || config.per_core_N <= 0) {
    return Fail(fmt::format("per_core_M {} and per_core_N {} must be positive", config.per_core_M,
                            config.per_core_N));
  }
  const int64_t num_cores =
      DivUp(decode.Mt, config.per_core_M) * DivUp(decode.Nt, config.per_core_N);
  Result<CoreRangeSet> cores = NumCoresToCoreRangeSet(num_cores, grid);
  if (!cores.ok()) return Fail(cores.status().message());
  const MemoryConfig computed{
      TensorMemoryLayout::kWidthSharded, BufferType::kL1,
      ShardSpec{*cores,
                {config.per_core_M * kTileSize, config.per_core_N * kTileSize},
                ShardOrientation::kRowMajor}};
  if (!(computed == decode.output_memory_config)) {
    return Fail(
        fmt::format("assert y.memory_config() == output_memory_config fails: the matmul "
                    "computes {} but the module expects {}",
                    ToString(computed), ToString(decode.output_memory_config)));
  }
  return Status::Ok();
}

Status CheckBlocksNonZero(const MatmulMultiCoreReuseMultiCastProgramConfig& config) {
  if (config.in0_block_w <= 0 || config.out_subblock_h <= 0 || config.out_subblock_w <= 0 ||
      config.per_core_M <= 0 || config.per_core_N <= 0) {
    return Fail(fmt::format("every block field must be positive: {}", ToString(config)));
  }
  return Status::Ok();
}

Status CheckKtDivisible(int64_t Kt, const MatmulMultiCoreReuseMultiCastProgramConfig& config) {
  if (Kt % config.in0_block_w != 0) {
    return Fail(
        fmt::format("K tiles {} must be a multiple of in0_block_w {}", Kt, config.in0_block_w));
  }
  return Status::Ok();
}

Status CheckSubblocksDivide(const MatmulMultiCoreReuseMultiCastProgramConfig& config) {
  if (config.per_core_M % config.out_subblock_h != 0 ||
      config.per_core_N % config.out_subblock_w != 0) {
    return Fail(fmt::format(
        "per_core_M {} % out_subblock_h {} and per_core_N {} % out_subblock_w "
        "{} must both be 0",
        config.per_core_M, config.out_subblock_h, config.per_core_N, config.out_subblock_w));
  }
  return Status::Ok();
}

Status CheckSubblockFitsDest(const MatmulMultiCoreReuseMultiCastProgramConfig& config,
                             const WormholeComputeKernelConfig& compute) {
  const int64_t dest_tiles = DestRegCount(compute);
  if (config.out_subblock_w * config.out_subblock_h > dest_tiles) {
    return Fail(
        fmt::format("out_subblock_w {} * out_subblock_h {} exceeds the {} dest register "
                    "tiles",
                    config.out_subblock_w, config.out_subblock_h, dest_tiles));
  }
  return Status::Ok();
}

Status CheckBlocksFitGrid(int64_t Mt, int64_t Nt,
                          const MatmulMultiCoreReuseMultiCastProgramConfig& config,
                          CoreCoord device_grid) {
  const CoreCoord grid = config.compute_with_storage_grid_size;
  if (grid.x > device_grid.x || grid.y > device_grid.y) {
    return Fail(fmt::format("compute_with_storage_grid_size {}x{} exceeds the device grid {}x{}",
                            grid.x, grid.y, device_grid.x, device_grid.y));
  }
  const int64_t num_blocks_y = DivUp(Mt, config.per_core_M);
  const int64_t num_blocks_x = DivUp(Nt, config.per_core_N);
  if (num_blocks_y > grid.y || num_blocks_x > grid.x) {
    return Fail(fmt::format(
        "num_blocks_y {} (ceil({} / {})) must be <= grid.y {} and num_blocks_x "
        "{} (ceil({} / {})) <= grid.x {}",
        num_blocks_y, Mt, config.per_core_M, grid.y, num_blocks_x, Nt, config.per_core_N, grid.x));
  }
  return Status::Ok();
}

Status CheckWeightBanksOneRow(const WeightPlan& weights) {
  const auto& spec = weights.memory_config.shard_spec;
  if (weights.memory_config.buffer_type != BufferType::kDram || !spec) return Status::Ok();
  for (const CoreRange& range : spec->grid.ranges) {
    if (range.start.y != 0 || range.end.y != 0) {
      return Fail(fmt::format("the DRAM-sharded weight's bank grid {} must be a single row",
                              ToString(spec->grid)));
    }
  }
  return Status::Ok();
}

Status ValidateDecodeMatmul(const DecodePlan& decode, const WeightPlan& weights,
                            const MeshDesc& mesh) {
  const auto& config = decode.program_config();
  LMHEAD_RETURN_IF_ERROR(CheckActivationWidthSharded(decode.input_memory_config));
  LMHEAD_RETURN_IF_ERROR(
      CheckOutputShardedLikeInput(decode.input_memory_config, decode.linear.memory_config));
  LMHEAD_RETURN_IF_ERROR(CheckSingleTileRow(decode.Mt, decode.input_memory_config, config));
  LMHEAD_RETURN_IF_ERROR(CheckInnerBlock(decode.Kt, decode.input_memory_config, config));
  LMHEAD_RETURN_IF_ERROR(CheckWeightWidthSharded(weights));
  return CheckComputedOutputMatches(decode, mesh.device.core_grid);
}

Status ValidatePrefillMatmul(const PrefillPlan& prefill, const WeightPlan& weights,
                             const MeshDesc& mesh) {
  const auto& config = prefill.program_config();
  LMHEAD_RETURN_IF_ERROR(CheckBlocksNonZero(config));
  LMHEAD_RETURN_IF_ERROR(CheckKtDivisible(prefill.Kt, config));
  LMHEAD_RETURN_IF_ERROR(CheckSubblocksDivide(config));
  LMHEAD_RETURN_IF_ERROR(CheckSubblockFitsDest(config, prefill.linear.compute_kernel_config));
  LMHEAD_RETURN_IF_ERROR(CheckBlocksFitGrid(prefill.Mt, prefill.Nt, config, mesh.device.core_grid));
  return CheckWeightBanksOneRow(weights);
}

}  // namespace lmhead
