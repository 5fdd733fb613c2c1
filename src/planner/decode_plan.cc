// SPDX-License-Identifier: Apache-2.0
// Decode configs: decode_model_config in seed (intended checks) or TT V3/V4 (exact) semantics.
#include "planner/decode_plan.h"

#include <fmt/format.h>

#include <tuple>
#include <utility>

#include "planner/compat_error.h"
#include "planner/l1_estimate.h"
#include "planner/matmul_validation.h"
#include "planner/mesh_scatter.h"
#include "planner/tt_helpers.h"

namespace lmhead {
namespace {

constexpr const char* kWhere = "decode_model_config";
constexpr const char* kSeedFix = "use --compat seed, which checks tile counts as TT intended";

// Steps 2-3: `input_num_cores or max(...)`: Python's `or` makes 0 mean "default".
int64_t DefaultCoreCount(int64_t override_count, int64_t width, int64_t max_num_cores) {
  if (override_count > 0) return override_count;
  return *GetActivationShardingCoreCountsForDramMatmul(width, max_num_cores).rbegin();
}

Status CheckCoreCountsFitGrid(int64_t in_c, int64_t out_c, int64_t max_cores, CompatMode compat) {
  for (const auto& [name, count] :
       {std::pair{"input_num_cores", in_c}, {"output_num_cores", out_c}}) {
    if (count > max_cores) {
      return PlanError(
          compat, kWhere,
          fmt::format("assert {} <= max_num_cores fails ({} > {})", name, count, max_cores),
          fmt::format("pass {} <= {}, or 0 for the default", name, max_cores));
    }
  }
  return Status::Ok();
}

// V3/V4 steps 5-6, in TT's order; step 6 is quirk 1 (hidden_size where vocab was meant).
Status CheckTtDecodeAsserts(int64_t hidden, int64_t num_devices, int64_t in_c, int64_t out_c,
                            int64_t Nt, CompatMode compat) {
  if (hidden % in_c != 0) {
    return PlanError(compat, kWhere,
                     fmt::format("assert hidden_size % input_num_cores == 0 fails ({} % {} = {}); "
                                 "TT picks the core count from the tile count {} but checks "
                                 "elements (spec §5 quirk 2)",
                                 hidden, in_c, hidden % in_c, DivUp(hidden, kTileSize)),
                     kSeedFix);
  }
  if (hidden % num_devices != 0) {
    return PlanError(compat, kWhere,
                     fmt::format("even_int_div(hidden_size, num_devices) fails ({} % {} = {}) in "
                                 "the output-core assert, which uses hidden_size where the vocab "
                                 "shard was meant (spec §5 quirk 1)",
                                 hidden, num_devices, hidden % num_devices),
                     fmt::format("{}, or a mesh whose device count divides {}", kSeedFix, hidden));
  }
  const int64_t per_device_hidden = hidden / num_devices;
  if (per_device_hidden % out_c != 0) {
    return PlanError(
        compat, kWhere,
        fmt::format("assert even_int_div(hidden_size, num_devices) % output_num_cores == 0 fails "
                    "({}/{} = {}, {} % {} = {}): AssertionError(\"output_num_cores must divide the "
                    "output tensor width evenly\"). TT checks hidden_size where the vocab shard "
                    "was meant (spec §5 quirk 1), so with a real vocabulary it passes only when "
                    "output_num_cores is 1",
                    hidden, num_devices, per_device_hidden, per_device_hidden, out_c,
                    per_device_hidden % out_c),
        fmt::format("use --compat seed (its intended check, N tiles {} % {} = {}, passes)", Nt,
                    out_c, Nt % out_c));
  }
  return Status::Ok();
}

// Seed mode: TT's intended check, on tile counts (only explicit overrides can fail it).
Status CheckSeedTileDivisibility(int64_t Kt, int64_t Nt, int64_t in_c, int64_t out_c,
                                 int64_t max_cores) {
  for (const auto& [name, tiles, count] :
       {std::tuple{"input_num_cores", Kt, in_c}, {"output_num_cores", Nt, out_c}}) {
    if (tiles % count != 0) {
      return PlanError(
          CompatMode::kSeed, kWhere,
          fmt::format("{} {} does not divide the {} tiles it shards ({} % {} = {})", name, count,
                      tiles, tiles, count, tiles % count),
          fmt::format("use one of {} (or 0 for the default)", ListDivisorsUpTo(tiles, max_cores)));
    }
  }
  return Status::Ok();
}

// _get_decode_activation_memory_config(width, ncores): V3/V4 shard width
// roundup(even_int_div(width, n), 32); seed mode (tile-based) (divup(width, 32) / n) * 32.
Result<MemoryConfig> DecodeActivationMemoryConfig(int64_t width, int64_t num_cores, CoreCoord grid,
                                                  CompatMode compat) {
  int64_t shard_w = 0;
  if (IsTtCompat(compat)) {
    if (width % num_cores != 0) {
      return PlanError(compat, "_get_decode_activation_memory_config",
                       fmt::format("even_int_div({}, {}) fails ({} % {} = {}): the core count was "
                                   "chosen from the tile count {} but the shard width is computed "
                                   "from elements (spec §5 quirk 2)",
                                   width, num_cores, width, num_cores, width % num_cores,
                                   DivUp(width, kTileSize)),
                       kSeedFix);
    }
    shard_w = RoundUp(width / num_cores, kTileSize);
  } else {
    shard_w = DivUp(width, kTileSize) / num_cores * kTileSize;
  }
  LMHEAD_ASSIGN_OR_RETURN(CoreRangeSet cores, NumCoresToCoreRangeSet(num_cores, grid));
  // Rows: roundup(MAX_BATCH_SIZE or USERS_PER_ROW, 32) = 32.
  return CreateShardedMemoryConfig({RoundUp(kMaxBatchSize, kTileSize), shard_w}, cores);
}

// decode_model_config steps 1-6: the core counts, then TT's asserts (tt modes) or the intended
// tile-count checks (seed) on them. Fills the counts and tile counts of `plan`.
Status PlanDecodeCoreCounts(const ModelDims& model, const MeshDesc& mesh,
                            const PlanOptions& options, DecodePlan& plan) {
  const CompatMode compat = options.compat;
  const int64_t num_devices = mesh.shape.num_devices();
  const int64_t max_cores = mesh.device.core_grid.x * mesh.device.core_grid.y;
  plan.input_num_cores = DefaultCoreCount(options.input_num_cores, model.hidden_size, max_cores);
  if (model.vocab_size % num_devices != 0) {  // Seed mode rejected this before (weights).
    return PlanError(
        compat, kWhere,
        fmt::format("even_int_div(vocab_size, num_devices) fails ({} % {} = {})", model.vocab_size,
                    num_devices, model.vocab_size % num_devices),
        fmt::format("pad vocab to {}", SuggestPaddedVocab(model.vocab_size, num_devices, 1)));
  }
  const int64_t vocab_per_device = model.vocab_size / num_devices;
  plan.output_num_cores = DefaultCoreCount(options.output_num_cores, vocab_per_device, max_cores);
  plan.Mt = DivUp(kMaxBatchSize, kTileSize);
  plan.Kt = DivUp(model.hidden_size, kTileSize);
  plan.Nt = DivUp(vocab_per_device, kTileSize);
  LMHEAD_RETURN_IF_ERROR(
      CheckCoreCountsFitGrid(plan.input_num_cores, plan.output_num_cores, max_cores, compat));
  if (IsTtCompat(compat)) {
    return CheckTtDecodeAsserts(model.hidden_size, num_devices, plan.input_num_cores,
                                plan.output_num_cores, plan.Nt, compat);
  }
  return CheckSeedTileDivisibility(plan.Kt, plan.Nt, plan.input_num_cores, plan.output_num_cores,
                                   max_cores);
}

}  // namespace

std::string ListDivisorsUpTo(int64_t n, int64_t max) {
  const auto divisors = GetActivationShardingCoreCountsForDramMatmul(n * kTileSize, max);
  return fmt::format("{}", fmt::join(divisors, ", "));
}

Result<DecodePlan> PlanDecode(const ModelDims& model, const MeshDesc& mesh,
                              const PlanOptions& options) {
  const CompatMode compat = options.compat;
  const CoreCoord grid = mesh.device.core_grid;
  const int64_t hidden = model.hidden_size;
  DecodePlan plan;
  LMHEAD_RETURN_IF_ERROR(PlanDecodeCoreCounts(model, mesh, options, plan));
  const int64_t vocab_per_device = model.vocab_size / mesh.shape.num_devices();
  // Step 7, then the dict's program config (step 8).
  LMHEAD_ASSIGN_OR_RETURN(plan.input_memory_config,
                          DecodeActivationMemoryConfig(hidden, plan.input_num_cores, grid, compat));
  LMHEAD_ASSIGN_OR_RETURN(
      plan.output_memory_config,
      DecodeActivationMemoryConfig(vocab_per_device, plan.output_num_cores, grid, compat));
  auto program_config = GetDramShardedMatmulConfig(kMaxBatchSize, hidden, vocab_per_device,
                                                   plan.input_num_cores, plan.output_num_cores);
  if (!program_config.ok()) {
    return PlanError(
        compat, kWhere, program_config.status().message(),
        fmt::format("choose core counts that divide K tiles {} and N tiles {}", plan.Kt, plan.Nt));
  }
  plan.linear.program_config = *program_config;
  // ttnn.L1_WIDTH_SHARDED_MEMORY_CONFIG: the op computes the shard spec itself.
  plan.linear.memory_config = MemoryConfig{TensorMemoryLayout::kWidthSharded, BufferType::kL1, {}};
  plan.all_gather.memory_config = MemoryConfig{};  // ttnn.DRAM_MEMORY_CONFIG.
  plan.input_shape = {1, 1, kMaxBatchSize, hidden};
  plan.output_shape = {1, 1, kMaxBatchSize, vocab_per_device};
  plan.deallocate_input = compat != CompatMode::kTtV4;  // V4 dropped ttnn.deallocate(x).
  plan.dram_sharded =
      EstimateDramShardedMatmul(plan.program_config(), plan.Kt, plan.Nt, mesh.device.num_dram_banks,
                                plan.linear.compute_kernel_config);
  // forward_decode: mesh_scatter is commented out in V3 and active in V4 and the seed.
  LMHEAD_ASSIGN_OR_RETURN(
      plan.mesh_scatter,
      PlanMeshScatter(mesh.shape, options.input_row_idx, compat != CompatMode::kTtV3,
                      /*sharded_input=*/true, compat, "forward_decode"));
  return plan;
}

}  // namespace lmhead
