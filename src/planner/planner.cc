// SPDX-License-Identifier: Apache-2.0
// Plan(): checks the inputs, then derives weights, decode and prefill configs in TT's order.
#include <fmt/format.h>

#include <optional>

#include "lmhead/plan.h"
#include "planner/compat_error.h"
#include "planner/decode_plan.h"
#include "planner/limits.h"
#include "planner/matmul_validation.h"
#include "planner/notes.h"
#include "planner/prefill_plan.h"
#include "planner/tt_helpers.h"
#include "planner/weights_plan.h"

namespace lmhead {
namespace {

// How far FindVocabTtAccepts looks: 4096 vocab sizes in steps of D (a few ms at most); the
// DeepSeek-V3 cases of spec §4.1 find one within 260 steps.
constexpr int64_t kVocabSearchSteps = 4096;

Status CheckRange(std::string_view what, int64_t value, int64_t min, int64_t max,
                  std::string_view fix) {
  if (value >= min && value <= max) return Status::Ok();
  return Status::InvalidArgument(
      fmt::format("[Plan] {} is {}, outside [{}, {}]; {}", what, value, min, max, fix));
}

// User errors that no TT version gets as far as checking: shapes must be positive and bounded.
Status CheckInputs(const ModelDims& model, const MeshDesc& mesh, const PlanOptions& options) {
  LMHEAD_RETURN_IF_ERROR(
      CheckRange("hidden_size", model.hidden_size, 1, kMaxModelDim, "fix the model config"));
  LMHEAD_RETURN_IF_ERROR(
      CheckRange("vocab_size", model.vocab_size, 1, kMaxModelDim, "fix the model config"));
  LMHEAD_RETURN_IF_ERROR(CheckRange("mesh rows", mesh.shape.rows, 1, kMaxMeshDim, "use e.g. 4x8"));
  LMHEAD_RETURN_IF_ERROR(CheckRange("mesh cols", mesh.shape.cols, 1, kMaxMeshDim, "use e.g. 4x8"));
  LMHEAD_RETURN_IF_ERROR(CheckRange("number of mesh devices", mesh.shape.num_devices(), 1,
                                    kMaxMeshDevices, "use a smaller mesh"));
  LMHEAD_RETURN_IF_ERROR(CheckRange("core grid x", mesh.device.core_grid.x, 1, kMaxCoreGridDim,
                                    "use e.g. --core-grid 8x8"));
  LMHEAD_RETURN_IF_ERROR(CheckRange("core grid y", mesh.device.core_grid.y, 1, kMaxCoreGridDim,
                                    "use e.g. --core-grid 8x8"));
  LMHEAD_RETURN_IF_ERROR(CheckRange("number of DRAM banks", mesh.device.num_dram_banks, 1,
                                    kMaxDramBanks, "Wormhole has 12, Blackhole P150 8"));
  LMHEAD_RETURN_IF_ERROR(CheckRange("device L1 bytes", mesh.device.l1_bytes, 1, int64_t{1} << 40,
                                    "use a device preset"));
  if (options.mode != PlanMode::kDecode) {
    LMHEAD_RETURN_IF_ERROR(CheckRange("prefill seq_len", options.seq_len, 1, kMaxSeqLen,
                                      "pass --seq-len S with S >= 1 (e.g. 1024)"));
  }
  const int64_t max_cores = mesh.device.core_grid.x * mesh.device.core_grid.y;
  LMHEAD_RETURN_IF_ERROR(CheckRange("input_num_cores override", options.input_num_cores, 0,
                                    max_cores, "use 0 for TT's default"));
  LMHEAD_RETURN_IF_ERROR(CheckRange("output_num_cores override", options.output_num_cores, 0,
                                    max_cores, "use 0 for TT's default"));
  return Status::Ok();
}

// The smallest vocab >= V that the tt-v3/tt-v4 decode config accepts on this mesh, if any.
std::optional<int64_t> FindVocabTtAccepts(const ModelDims& model, const MeshDesc& mesh,
                                          const PlanOptions& options) {
  const int64_t num_devices = mesh.shape.num_devices();
  // TT's hidden-size asserts (hidden_size % input_num_cores, even_int_div(hidden_size, D)) do not
  // depend on the vocab: no padding can help them, so do not search.
  const int64_t max_cores = mesh.device.core_grid.x * mesh.device.core_grid.y;
  const int64_t input_num_cores =
      options.input_num_cores > 0
          ? options.input_num_cores
          : *GetActivationShardingCoreCountsForDramMatmul(model.hidden_size, max_cores).rbegin();
  if (model.hidden_size % input_num_cores != 0 || model.hidden_size % num_devices != 0) {
    return std::nullopt;
  }
  PlanOptions trial_options = options;
  trial_options.input_row_idx = 0;  // Only the vocab is varied.
  ModelDims trial = model;
  trial.vocab_size = RoundUp(model.vocab_size, num_devices);
  for (int64_t step = 0; step < kVocabSearchSteps; ++step, trial.vocab_size += num_devices) {
    if (PlanDecode(trial, mesh, trial_options).ok()) return trial.vocab_size;
  }
  return std::nullopt;
}

Status WithVocabSuggestion(const Status& status, const ModelDims& model, const MeshDesc& mesh,
                           const PlanOptions& options) {
  const std::optional<int64_t> vocab = FindVocabTtAccepts(model, mesh, options);
  if (!vocab || *vocab == model.vocab_size) return status;
  return Status::InvalidArgument(fmt::format(
      "{}; or pad vocab to {} (zero weight columns), the smallest vocab {} accepts on this mesh",
      status.message(), *vocab, ToString(options.compat)));
}

bool PlansDecode(PlanMode mode) { return mode != PlanMode::kPrefill; }
bool PlansPrefill(PlanMode mode) { return mode != PlanMode::kDecode; }

}  // namespace

Result<LmHeadPlan> Plan(const ModelDims& model, const MeshDesc& mesh, const PlanOptions& options) {
  LMHEAD_RETURN_IF_ERROR(CheckInputs(model, mesh, options));
  const CompatMode compat = options.compat;
  // The seed checks the weight split first (TT's intended order: convert, then configs); the tt
  // modes let TT's own config asserts speak first, as running TT's code shows them.
  if (!IsTtCompat(compat)) LMHEAD_RETURN_IF_ERROR(CheckWeightDims(model, mesh, compat));
  LmHeadPlan plan;
  plan.model = model;
  plan.mesh = mesh;
  plan.options = options;
  if (PlansDecode(options.mode)) {
    Result<DecodePlan> decode = PlanDecode(model, mesh, options);
    if (!decode.ok()) {
      return IsTtCompat(compat) ? WithVocabSuggestion(decode.status(), model, mesh, options)
                                : decode.status();
    }
    plan.decode = std::move(decode).value();
  }
  if (PlansPrefill(options.mode)) {
    LMHEAD_ASSIGN_OR_RETURN(plan.prefill, PlanPrefill(model, mesh, options));
  }
  if (IsTtCompat(compat)) LMHEAD_RETURN_IF_ERROR(CheckWeightDims(model, mesh, compat));
  plan.weights = PlanWeights(model, mesh);
  // ttnn.linear validates the configs when the forward pass runs.
  if (plan.decode) {
    Status status = ValidateDecodeMatmul(*plan.decode, plan.weights, mesh);
    if (!status.ok()) {
      return PlanError(compat, "forward_decode ttnn.linear", status.message(),
                       "choose other input/output core counts");
    }
  }
  if (plan.prefill) {
    Status status = ValidatePrefillMatmul(*plan.prefill, plan.weights, mesh);
    if (!status.ok()) {
      return PlanError(compat, "forward_prefill ttnn.linear", status.message(),
                       "this config cannot run on this device");
    }
  }
  plan.notes = CollectNotes(plan);
  return plan;
}

Status ValidatePlan(const LmHeadPlan& plan) {
  if (plan.decode) {
    Status status = ValidateDecodeMatmul(*plan.decode, plan.weights, plan.mesh);
    if (!status.ok()) {
      return Status::InvalidArgument(
          fmt::format("[ValidatePlan] decode: {}; re-plan with Plan() instead of editing the plan",
                      status.message()));
    }
  }
  if (plan.prefill) {
    Status status = ValidatePrefillMatmul(*plan.prefill, plan.weights, plan.mesh);
    if (!status.ok()) {
      return Status::InvalidArgument(
          fmt::format("[ValidatePlan] prefill: {}; re-plan with Plan() instead of editing the plan",
                      status.message()));
    }
  }
  return Status::Ok();
}

}  // namespace lmhead
