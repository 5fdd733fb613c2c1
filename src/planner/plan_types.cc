// SPDX-License-Identifier: Apache-2.0
// Names, parsing and TT-style dumps of the planner's plain data types.
#include <fmt/format.h>

#include <string>

#include "base/check.h"
#include "lmhead/plan.h"

namespace lmhead {

int64_t CoreRangeSet::num_cores() const {
  int64_t total = 0;
  for (const CoreRange& range : ranges) total += range.num_cores();
  return total;
}

const char* ToString(CompatMode compat) {
  switch (compat) {
    case CompatMode::kSeed:
      return "seed";
    case CompatMode::kTtV3:
      return "tt-v3";
    case CompatMode::kTtV4:
      return "tt-v4";
  }
  return "?";
}

Result<CompatMode> ParseCompatMode(std::string_view text) {
  for (CompatMode compat : {CompatMode::kSeed, CompatMode::kTtV3, CompatMode::kTtV4}) {
    if (text == ToString(compat)) return compat;
  }
  return Status::InvalidArgument(
      fmt::format("[ParseCompatMode] unknown compat mode '{}'; use seed, tt-v3 or tt-v4", text));
}

const char* ToString(PlanMode mode) {
  switch (mode) {
    case PlanMode::kDecode:
      return "decode";
    case PlanMode::kPrefill:
      return "prefill";
    case PlanMode::kBoth:
      return "both";
  }
  return "?";
}

Result<PlanMode> ParsePlanMode(std::string_view text) {
  for (PlanMode mode : {PlanMode::kDecode, PlanMode::kPrefill, PlanMode::kBoth}) {
    if (text == ToString(mode)) return mode;
  }
  return Status::InvalidArgument(
      fmt::format("[ParsePlanMode] unknown mode '{}'; use decode, prefill or both", text));
}

const char* ToString(TensorMemoryLayout layout) {
  switch (layout) {
    case TensorMemoryLayout::kInterleaved:
      return "INTERLEAVED";
    case TensorMemoryLayout::kWidthSharded:
      return "WIDTH_SHARDED";
    case TensorMemoryLayout::kHeightSharded:
      return "HEIGHT_SHARDED";
    case TensorMemoryLayout::kBlockSharded:
      return "BLOCK_SHARDED";
  }
  return "?";
}

const char* ToString(BufferType type) { return type == BufferType::kDram ? "DRAM" : "L1"; }

const char* ToString(ShardOrientation orientation) {
  return orientation == ShardOrientation::kRowMajor ? "ROW_MAJOR" : "COL_MAJOR";
}

const char* ToString(MathFidelity fidelity) {
  switch (fidelity) {
    case MathFidelity::kLoFi:
      return "LoFi";
    case MathFidelity::kHiFi2:
      return "HiFi2";
    case MathFidelity::kHiFi3:
      return "HiFi3";
    case MathFidelity::kHiFi4:
      return "HiFi4";
  }
  return "?";
}

const char* ToString(Topology topology) {
  return topology == Topology::kLinear ? "Linear" : "Ring";
}

const char* ProgramConfigTypeName(const ProgramConfig& config) {
  if (std::holds_alternative<MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig>(config)) {
    return "MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig";
  }
  return "MatmulMultiCoreReuseMultiCastProgramConfig";
}

int64_t DestRegCount(const WormholeComputeKernelConfig& config) {
  // DEST_REGISTER_FULL_SIZE * DATUMS_PER_ROW / (32 * 32) = 16 tiles (ttnn get_dest_reg_count).
  int64_t count = 16;
  if (!config.dst_full_sync_en) count /= 2;  // Half-sync: two halves ping-pong.
  if (config.fp32_dest_acc_en) count /= 2;   // 32-bit datums take twice the space.
  return count;
}

MeshCoord DeviceMeshCoord(const MeshShape& shape, int64_t device_idx) {
  LMHEAD_CHECK(device_idx >= 0 && device_idx < shape.num_devices(), "device {} of {}", device_idx,
               shape.num_devices());
  return MeshCoord{device_idx / shape.cols, device_idx % shape.cols};
}

std::string ToString(const CoreRangeSet& set) {
  std::string out = "{";
  for (size_t range_idx = 0; range_idx < set.ranges.size(); ++range_idx) {
    const CoreRange& range = set.ranges[range_idx];
    out += fmt::format("{}[(x={},y={}) - (x={},y={})]", range_idx == 0 ? "" : ", ", range.start.x,
                       range.start.y, range.end.x, range.end.y);
  }
  return out + "}";
}

std::string ToString(const MemoryConfig& config) {
  std::string shard = "std::nullopt";
  if (config.shard_spec) {
    const ShardSpec& spec = *config.shard_spec;
    shard =
        fmt::format("ShardSpec(grid={},shape={{{}, {}}},orientation=ShardOrientation::{})",
                    ToString(spec.grid), spec.shape[0], spec.shape[1], ToString(spec.orientation));
  }
  return fmt::format(
      "MemoryConfig(memory_layout=TensorMemoryLayout::{},buffer_type=BufferType::{},shard_spec={})",
      ToString(config.memory_layout), ToString(config.buffer_type), shard);
}

std::string ToString(const ProgramConfig& config) {
  if (const auto* dram =
          std::get_if<MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig>(&config)) {
    return fmt::format(
        "MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig(in0_block_w={}, per_core_M={}, "
        "per_core_N={}, fused_activation={})",
        dram->in0_block_w, dram->per_core_M, dram->per_core_N,
        dram->fused_activation.value_or("None"));
  }
  const auto& mcast = std::get<MatmulMultiCoreReuseMultiCastProgramConfig>(config);
  return fmt::format(
      "MatmulMultiCoreReuseMultiCastProgramConfig(compute_with_storage_grid_size=(x={},y={}), "
      "in0_block_w={}, out_subblock_h={}, out_subblock_w={}, per_core_M={}, per_core_N={}, "
      "transpose_mcast={}, fused_activation={}, fuse_batch={})",
      mcast.compute_with_storage_grid_size.x, mcast.compute_with_storage_grid_size.y,
      mcast.in0_block_w, mcast.out_subblock_h, mcast.out_subblock_w, mcast.per_core_M,
      mcast.per_core_N, mcast.transpose_mcast ? "True" : "False",
      mcast.fused_activation.value_or("None"), mcast.fuse_batch ? "True" : "False");
}

std::string ToString(const WormholeComputeKernelConfig& config) {
  return fmt::format(
      "WormholeComputeKernelConfig(math_fidelity=MathFidelity::{}, math_approx_mode={}, "
      "fp32_dest_acc_en={}, packer_l1_acc={}, dst_full_sync_en={})",
      ToString(config.math_fidelity), config.math_approx_mode ? "True" : "False",
      config.fp32_dest_acc_en ? "True" : "False", config.packer_l1_acc ? "True" : "False",
      config.dst_full_sync_en ? "True" : "False");
}

}  // namespace lmhead
