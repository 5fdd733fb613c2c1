// SPDX-License-Identifier: Apache-2.0
// ResolveConvertInput: every user-facing check of lmhead convert's inputs.
#include "convert/convert_input.h"

#include <fmt/format.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/thread_pool.h"
#include "io/file_util.h"

namespace lmhead {
namespace {

namespace fs = std::filesystem;

constexpr const char* kHeadName = "lm_head.weight";
constexpr const char* kEmbeddingName = "model.embed_tokens.weight";
// A HuggingFace config.json is a few KB.
constexpr uint64_t kMaxConfigBytes = uint64_t{16} << 20;

struct CheckpointConfig {
  ModelDims model;
  bool tie_word_embeddings = false;
};

Result<CheckpointConfig> ReadConfig(const std::string& dir) {
  const std::string path = (fs::path(dir) / "config.json").string();
  Result<std::string> text = ReadFileToString(path, kMaxConfigBytes);
  if (!text.ok() && text.status().code() == StatusCode::kNotFound) {
    return Status::NotFound(fmt::format(
        "[Convert] {} is missing; convert reads hidden_size and vocab_size from the checkpoint's "
        "config.json",
        path));
  }
  if (!text.ok()) return text.status();
  CheckpointConfig config;
  LMHEAD_ASSIGN_OR_RETURN(config.model, LoadModelDims(path));
  const nlohmann::json json = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  const auto tie = json.is_object() ? json.find("tie_word_embeddings") : json.end();
  config.tie_word_embeddings = tie != json.end() && tie->is_boolean() && tie->get<bool>();
  return config;
}

Result<std::string> ChooseTensor(const ConvertOptions& options, const Checkpoint& checkpoint,
                                 bool tied) {
  std::string name = options.tensor;
  if (name.empty()) {
    name = kHeadName;
    if (!checkpoint.Contains(kHeadName) && tied && checkpoint.Contains(kEmbeddingName)) {
      name = kEmbeddingName;  // Tied embeddings: the head is the input embedding.
    }
  }
  if (!checkpoint.Contains(name)) {
    return Status::NotFound(fmt::format(
        "[Convert] checkpoint {} has no tensor '{}'{}; pass --tensor NAME with the head's name. "
        "It holds {}",
        checkpoint.dir(), name,
        options.tensor.empty() && !tied ? " (and config.json does not tie the embeddings)" : "",
        DescribeTensorNames(checkpoint.TensorNames(), 20)));
  }
  return name;
}

Status CheckHead(const TensorView& view, const std::string& name, const ModelDims& model) {
  const SafetensorsDtype dtype = view.info->dtype;
  if (dtype != SafetensorsDtype::kBF16 && dtype != SafetensorsDtype::kF16 &&
      dtype != SafetensorsDtype::kF32) {
    return Status::InvalidArgument(
        fmt::format("[Convert] tensor '{}' has dtype {}; convert reads BF16, F16 or F32 heads, so "
                    "dequantize or cast the checkpoint first",
                    name, ToString(dtype)));
  }
  const std::vector<int64_t>& shape = view.info->shape;
  if (shape.size() != 2 || shape[0] != model.vocab_size || shape[1] != model.hidden_size) {
    return Status::InvalidArgument(fmt::format(
        "[Convert] tensor '{}' has shape [{}] but config.json says [vocab_size, hidden_size] = "
        "[{}, {}]; the config and the weights disagree (or --tensor names the wrong tensor)",
        name, fmt::join(shape, ", "), model.vocab_size, model.hidden_size));
  }
  return Status::Ok();
}

// Plans the model on the mesh. Only the weight layout matters here, so a
// mode whose activation configs TT rejects is skipped for one that works.
Result<LmHeadPlan> PlanWeights(const ModelDims& model, const MeshDesc& mesh) {
  Status first_error;
  for (PlanMode mode : {PlanMode::kBoth, PlanMode::kDecode, PlanMode::kPrefill}) {
    PlanOptions options;
    options.mode = mode;
    Result<LmHeadPlan> plan = Plan(model, mesh, options);
    if (plan.ok()) return plan;
    if (first_error.ok()) first_error = plan.status();
  }
  return first_error;
}

// TT's dtype name of a tile format, as the plan spells weight dtypes.
const char* TtDtypeName(TileFormat format) {
  switch (format) {
    case TileFormat::kBfp4b: return "bfloat4_b";
    case TileFormat::kBfp8b: return "bfloat8_b";
    case TileFormat::kBf16: return "bfloat16";
    case TileFormat::kFp32: return "float32";
  }
  return "?";
}

// The plan's model, mesh and weights sections. The planner plans TT's
// bfloat4_b head; --format may choose another dtype, which the copy records.
std::string PlanSubsetJson(const LmHeadPlan& plan, TileFormat format) {
  const nlohmann::ordered_json full =
      nlohmann::ordered_json::parse(PlanToJson(plan), nullptr, /*allow_exceptions=*/false);
  nlohmann::ordered_json subset = nlohmann::ordered_json::object();
  for (const char* key : {"compat", "mode", "model", "mesh", "weights"}) {
    if (full.is_object() && full.contains(key)) subset[key] = full[key];
  }
  if (subset.contains("weights") && subset["weights"].is_object()) {
    subset["weights"]["dtype"] = TtDtypeName(format);
  }
  return subset.dump();
}

Status PlanAndLayout(const ConvertOptions& options, const ModelDims& model, ConvertInput* input) {
  LMHEAD_ASSIGN_OR_RETURN(DeviceSpec device, FindDevicePreset(options.device));
  const int64_t num_devices = options.mesh.num_devices();
  ModelDims planned = model;
  if (num_devices > 0 && model.vocab_size % num_devices != 0) {
    const int64_t padded = SuggestPaddedVocab(model.vocab_size, num_devices, 1);
    if (!options.pad_vocab) {
      return Status::InvalidArgument(fmt::format(
          "[Convert] vocab_size {} is not divisible by the {} devices of the {}x{} mesh; re-run "
          "with --pad-vocab to add {} zero columns (vocab {}; {} is tile-aligned per device), or "
          "use a mesh whose device count divides {}",
          model.vocab_size, num_devices, options.mesh.rows, options.mesh.cols,
          padded - model.vocab_size, padded, SuggestPaddedVocab(model.vocab_size, num_devices),
          model.vocab_size));
    }
    planned.vocab_size = padded;
  }
  LMHEAD_ASSIGN_OR_RETURN(input->plan, PlanWeights(planned, MeshDesc{options.mesh, device}));
  const WeightPlan& weights = input->plan.weights;
  ShardGeometry& g = input->geometry;
  g.format = options.format;
  g.hidden_size = model.hidden_size;
  g.vocab_size = planned.vocab_size;
  g.valid_vocab_size = model.vocab_size;
  g.mesh_rows = options.mesh.rows;
  g.mesh_cols = options.mesh.cols;
  g.num_banks = weights.num_dram_banks;
  g.shard_w = weights.shard_width;
  LMHEAD_RETURN_IF_ERROR(ValidateShardGeometry(g));
  input->plan_json = PlanSubsetJson(input->plan, options.format);
  return Status::Ok();
}

Status RecordSourceFiles(ConvertInput* input) {
  std::vector<std::string> names = {"config.json"};
  if (input->checkpoint.indexed()) names.push_back("model.safetensors.index.json");
  names.push_back(fs::path(input->tensor.file->path()).filename().string());
  for (const std::string& name : names) {
    LMHEAD_ASSIGN_OR_RETURN(uint64_t bytes,
                            FileBytes((fs::path(input->checkpoint.dir()) / name).string()));
    input->source_files.push_back({name, bytes});
  }
  return Status::Ok();
}

}  // namespace

Result<ConvertInput> ResolveConvertInput(const ConvertOptions& options) {
  if (options.out_dir.empty()) {
    return Status::InvalidArgument("[Convert] --out is empty; name the weights directory");
  }
  LMHEAD_RETURN_IF_ERROR(CheckThreadCount(options.num_threads, "[Convert]"));
  ConvertInput input;
  LMHEAD_ASSIGN_OR_RETURN(input.checkpoint, Checkpoint::Open(options.checkpoint));
  LMHEAD_ASSIGN_OR_RETURN(const CheckpointConfig config, ReadConfig(input.checkpoint.dir()));
  LMHEAD_ASSIGN_OR_RETURN(input.tensor_name,
                          ChooseTensor(options, input.checkpoint, config.tie_word_embeddings));
  LMHEAD_ASSIGN_OR_RETURN(input.tensor, input.checkpoint.Load(input.tensor_name));
  const TensorView& view = input.tensor.view;
  LMHEAD_RETURN_IF_ERROR(CheckHead(view, input.tensor_name, config.model));
  input.source = {view.data, view.info->dtype, config.model.vocab_size, config.model.hidden_size};
  LMHEAD_ASSIGN_OR_RETURN(input.source_dtype, ShardSourceDtypeFromName(ToString(view.info->dtype)));
  LMHEAD_RETURN_IF_ERROR(PlanAndLayout(options, config.model, &input));
  LMHEAD_RETURN_IF_ERROR(RecordSourceFiles(&input));
  return input;
}

}  // namespace lmhead
