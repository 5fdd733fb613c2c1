// SPDX-License-Identifier: Apache-2.0
// The per-device weight plan and its DRAM bank layout.
#include "planner/weights_plan.h"

#include <fmt/format.h>

#include <algorithm>

#include "planner/compat_error.h"
#include "planner/tt_helpers.h"

namespace lmhead {

Status CheckWeightDims(const ModelDims& model, const MeshDesc& mesh, CompatMode compat) {
  const int64_t num_devices = mesh.shape.num_devices();
  if (model.vocab_size % num_devices != 0) {
    return PlanError(
        compat, "convert_weights",
        fmt::format("vocab_size {} is not divisible by the {} devices of the {}x{} mesh ({} % {} "
                    "= {}); shard_tensor_to_mesh_mapper(mesh, -1) splits the vocab into equal "
                    "per-device slices",
                    model.vocab_size, num_devices, mesh.shape.rows, mesh.shape.cols,
                    model.vocab_size, num_devices, model.vocab_size % num_devices),
        fmt::format("pad vocab to {} (divisible by {}) or {} (tile-aligned slices, no per-device "
                    "padding) with zero weight columns, or use a mesh whose device count divides "
                    "{}",
                    SuggestPaddedVocab(model.vocab_size, num_devices, 1), num_devices,
                    SuggestPaddedVocab(model.vocab_size, num_devices), model.vocab_size));
  }
  if (model.hidden_size % kTileSize != 0) {
    return PlanError(
        compat, "convert_weights",
        fmt::format("hidden_size {} is not a multiple of the tile size 32 ({} % 32 = {}); the "
                    "weight's DRAM shard [{}, w] of a TILE tensor must be tile aligned",
                    model.hidden_size, model.hidden_size, model.hidden_size % kTileSize,
                    model.hidden_size),
        fmt::format("pad hidden_size to {} (zero weight rows and zero activation columns leave "
                    "the logits unchanged)",
                    RoundUp(model.hidden_size, kTileSize)));
  }
  return Status::Ok();
}

WeightPlan PlanWeights(const ModelDims& model, const MeshDesc& mesh) {
  WeightPlan weights;
  const int64_t vocab_per_device = model.vocab_size / mesh.shape.num_devices();
  weights.vocab_per_device = vocab_per_device;
  weights.Kt = DivUp(model.hidden_size, kTileSize);
  weights.Nt = DivUp(vocab_per_device, kTileSize);
  weights.per_device_shape = {model.hidden_size, vocab_per_device};
  weights.padded_shape = {weights.Kt * kTileSize, weights.Nt * kTileSize};
  weights.num_dram_banks = mesh.device.num_dram_banks;
  weights.memory_config =
      DramShardedWeightConfig(model.hidden_size, vocab_per_device, weights.num_dram_banks);
  weights.shard_width = weights.memory_config.shard_spec->shape[1];
  weights.shard_width_tiles = weights.shard_width / kTileSize;

  // Bank i holds columns [i*w, (i+1)*w) of the tile-padded matrix; the last banks may hold only
  // tile padding (columns V/D .. Nt*32) or nothing of the tensor at all.
  const int64_t padded_cols = weights.padded_shape[1];
  for (int64_t bank_idx = 0; bank_idx < weights.num_dram_banks; ++bank_idx) {
    DramBankSlice slice;
    slice.bank_idx = bank_idx;
    slice.col_begin = bank_idx * weights.shard_width;
    slice.col_end = slice.col_begin + weights.shard_width;
    slice.num_real_cols =
        std::max<int64_t>(0, std::min(slice.col_end, vocab_per_device) - slice.col_begin);
    slice.num_tile_padding_cols = std::max<int64_t>(
        0, std::min(slice.col_end, padded_cols) - std::max(slice.col_begin, vocab_per_device));
    slice.num_shard_padding_cols =
        weights.shard_width - slice.num_real_cols - slice.num_tile_padding_cols;
    weights.banks.push_back(slice);
  }
  return weights;
}

int64_t SuggestPaddedVocab(int64_t vocab_size, int64_t num_devices, int64_t multiple_per_device) {
  return RoundUp(vocab_size, num_devices * multiple_per_device);
}

}  // namespace lmhead
