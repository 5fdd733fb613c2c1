// SPDX-License-Identifier: Apache-2.0
// lmhead synth: writes a HuggingFace-style checkpoint with a synthetic head.
#include <fmt/format.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "base/thread_pool.h"
#include "convert/parallel.h"
#include "convert/synth_values.h"
#include "formats/half.h"
#include "io/file_util.h"
#include "lmhead/convert.h"

namespace lmhead {
namespace {

namespace fs = std::filesystem;

// Rows generated per work item: 32 rows of DeepSeek-V3 are 458 KB of bf16,
// big enough to amortise a pwrite, small enough to balance two threads.
constexpr int64_t kRowsPerBlock = 32;
// Dimensions are stored as int32 in shard headers; larger is not a real model.
constexpr int64_t kMaxDim = int64_t{1} << 30;

struct FilePlan {
  std::string name;
  std::vector<SafetensorsTensorSpec> tensors;
  bool has_head = false;
};

// Converts fp32 values to the dtype's little-endian bytes.
void Encode(SafetensorsDtype dtype, std::span<const float> values, std::byte* out) {
  for (size_t idx = 0; idx < values.size(); ++idx) {
    if (dtype == SafetensorsDtype::kF32) {
      std::memcpy(out + 4 * idx, &values[idx], 4);
      continue;
    }
    const uint16_t bits =
        dtype == SafetensorsDtype::kBF16 ? Fp32ToBf16(values[idx]) : Fp32ToF16(values[idx]);
    std::memcpy(out + 2 * idx, &bits, 2);
  }
}

std::vector<FilePlan> PlanFiles(const SynthOptions& options, const std::string& head_name) {
  const int num_files = options.num_shards;
  const int head_file = options.tied_embedding ? 0 : num_files - 1;
  const int64_t hidden = options.model.hidden_size;
  std::vector<FilePlan> files(static_cast<size_t>(num_files));
  for (int file_idx = 0; file_idx < num_files; ++file_idx) {
    FilePlan& file = files[static_cast<size_t>(file_idx)];
    file.name = num_files == 1
                    ? "model.safetensors"
                    : fmt::format("model-{:05d}-of-{:05d}.safetensors", file_idx + 1, num_files);
    if (file_idx == head_file) {
      file.has_head = true;
      file.tensors.push_back({head_name, options.dtype, {options.model.vocab_size, hidden}});
      file.tensors.push_back({"model.norm.weight", options.dtype, {hidden}});
    } else {
      file.tensors.push_back({fmt::format("model.layers.{}.input_layernorm.weight", file_idx),
                              options.dtype,
                              {hidden}});
    }
  }
  return files;
}

Status WriteHead(const SynthOptions& options, const TempFile& file, uint64_t offset) {
  const int64_t hidden = options.model.hidden_size;
  const int64_t vocab = options.model.vocab_size;
  const size_t elem_bytes = static_cast<size_t>(DtypeBytes(options.dtype));
  const SynthGenerator generator(options.seed, hidden);
  const int64_t num_blocks = (vocab + kRowsPerBlock - 1) / kRowsPerBlock;
  const int threads = ResolveThreads(options.num_threads, num_blocks);
  struct Scratch {
    std::vector<float> row;
    std::vector<std::byte> bytes;
  };
  std::vector<Scratch> scratch(static_cast<size_t>(threads));
  return ParallelFor(threads, num_blocks, [&](int thread_idx, int64_t block) -> Status {
    Scratch& s = scratch[static_cast<size_t>(thread_idx)];
    s.row.resize(static_cast<size_t>(hidden));
    s.bytes.resize(static_cast<size_t>(kRowsPerBlock * hidden) * elem_bytes);
    const int64_t row_begin = block * kRowsPerBlock;
    const int64_t num_rows = std::min(kRowsPerBlock, vocab - row_begin);
    for (int64_t row_idx = 0; row_idx < num_rows; ++row_idx) {
      generator.Row(row_begin + row_idx, s.row);
      Encode(options.dtype, s.row, s.bytes.data() + row_idx * hidden * elem_bytes);
    }
    const size_t bytes = static_cast<size_t>(num_rows * hidden) * elem_bytes;
    return file.WriteAt(offset + static_cast<uint64_t>(row_begin * hidden) * elem_bytes,
                        std::span(s.bytes.data(), bytes));
  });
}

Status WriteFile(const SynthOptions& options, const FilePlan& plan, uint64_t* tensor_bytes) {
  static const std::map<std::string, std::string> kMetadata = {{"format", "pt"}};
  LMHEAD_ASSIGN_OR_RETURN(SafetensorsLayout layout, LayoutSafetensors(plan.tensors, kMetadata));
  LMHEAD_ASSIGN_OR_RETURN(TempFile file,
                          TempFile::Create((fs::path(options.out_dir) / plan.name).string()));
  LMHEAD_RETURN_IF_ERROR(file.Reserve(layout.file_bytes));
  LMHEAD_RETURN_IF_ERROR(file.WriteAt(0, std::as_bytes(std::span(layout.header_bytes))));
  for (size_t tensor_idx = 0; tensor_idx < plan.tensors.size(); ++tensor_idx) {
    const SafetensorsTensorSpec& spec = plan.tensors[tensor_idx];
    if (plan.has_head && tensor_idx == 0) {
      LMHEAD_RETURN_IF_ERROR(WriteHead(options, file, layout.file_offsets[0]));
      continue;
    }
    // Norm weights: ones, as a freshly initialised RMSNorm holds.
    const std::vector<float> ones(static_cast<size_t>(spec.shape[0]), 1.0f);
    std::vector<std::byte> bytes(ones.size() * static_cast<size_t>(DtypeBytes(spec.dtype)));
    Encode(spec.dtype, ones, bytes.data());
    LMHEAD_RETURN_IF_ERROR(file.WriteAt(layout.file_offsets[tensor_idx], bytes));
  }
  *tensor_bytes += layout.file_bytes - layout.header_bytes.size();
  return file.Commit();
}

std::string ConfigJson(const SynthOptions& options) {
  const char* torch_dtype = options.dtype == SafetensorsDtype::kBF16  ? "bfloat16"
                            : options.dtype == SafetensorsDtype::kF16 ? "float16"
                                                                      : "float32";
  nlohmann::ordered_json config = {
      {"architectures", {"DeepseekV3ForCausalLM"}},
      {"model_type", "deepseek_v3"},
      {"hidden_size", options.model.hidden_size},
      {"vocab_size", options.model.vocab_size},
      {"tie_word_embeddings", options.tied_embedding},
      {"torch_dtype", torch_dtype},
      {"num_hidden_layers", std::max(1, options.num_shards - 1)},
      {"rms_norm_eps", 1e-6},
      {"bos_token_id", 0},
      {"eos_token_id", 1},
      {"transformers_version", "4.46.3"},
      {"lmhead_synthetic",
       {{"generator", "lmhead synth"},
        {"model", options.model.name},
        {"seed", options.seed},
        {"distribution",
         "w[v,h] = 0.02 * lognormal(0, 0.35)[v] * outlier_scale[h] * scale_mixture_gaussian"}}},
  };
  return config.dump(2) + "\n";
}

Status ValidateSynthOptions(const SynthOptions& options) {
  const ModelDims& model = options.model;
  if (model.hidden_size <= 0 || model.vocab_size <= 0 || model.hidden_size > kMaxDim ||
      model.vocab_size > kMaxDim) {
    return Status::InvalidArgument(fmt::format(
        "[Synth] model dims hidden_size {} x vocab_size {} must be in [1, {}]; pass --model or "
        "positive --hidden-size/--vocab-size",
        model.hidden_size, model.vocab_size, kMaxDim));
  }
  if (options.dtype != SafetensorsDtype::kBF16 && options.dtype != SafetensorsDtype::kF16 &&
      options.dtype != SafetensorsDtype::kF32) {
    return Status::InvalidArgument(fmt::format(
        "[Synth] dtype {} is not a head dtype; use bf16, f16 or f32", ToString(options.dtype)));
  }
  if (options.num_shards < 1 || options.num_shards > 99999) {
    return Status::InvalidArgument(fmt::format(
        "[Synth] --shards {} must be in [1, 99999] (HF names files model-NNNNN-of-NNNNN)",
        options.num_shards));
  }
  if (options.out_dir.empty())
    return Status::InvalidArgument("[Synth] --out is empty; name a directory");
  LMHEAD_RETURN_IF_ERROR(CheckThreadCount(options.num_threads, "[Synth]"));
  return Status::Ok();
}

}  // namespace

float SynthValue(uint64_t seed, int64_t hidden_size, int64_t row, int64_t col) {
  return SynthGenerator(seed, hidden_size).Value(row, col);
}

Result<SynthReport> SynthesizeCheckpoint(const SynthOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  LMHEAD_RETURN_IF_ERROR(ValidateSynthOptions(options));
  LMHEAD_ASSIGN_OR_RETURN(OutputDirectory out_dir,
                          OutputDirectory::Create(options.out_dir, "[Synth]"));
  LMHEAD_RETURN_IF_ERROR(RemoveStaleTempFiles(options.out_dir, {"model", "config.json"}).status());
  SynthReport report;
  report.tensor_name = options.tied_embedding ? "model.embed_tokens.weight" : "lm_head.weight";
  report.head_bytes = static_cast<uint64_t>(options.model.vocab_size * options.model.hidden_size *
                                            DtypeBytes(options.dtype));
  const std::vector<FilePlan> files = PlanFiles(options, report.tensor_name);
  uint64_t total_bytes = 0;
  nlohmann::ordered_json weight_map = nlohmann::ordered_json::object();
  for (const FilePlan& file : files) {
    LMHEAD_RETURN_IF_ERROR(WriteFile(options, file, &total_bytes));
    for (const SafetensorsTensorSpec& tensor : file.tensors) weight_map[tensor.name] = file.name;
    if (file.has_head) report.head_file = file.name;
    report.files.push_back(file.name);
  }
  const std::string index_path =
      (fs::path(options.out_dir) / "model.safetensors.index.json").string();
  if (files.size() > 1) {
    const nlohmann::ordered_json index = {{"metadata", {{"total_size", total_bytes}}},
                                          {"weight_map", weight_map}};
    LMHEAD_RETURN_IF_ERROR(WriteFileAtomically(index_path, index.dump(2) + "\n"));
    report.files.push_back("model.safetensors.index.json");
  } else {
    // A stale index from an earlier sharded run would shadow the new file.
    std::error_code ec;
    fs::remove(index_path, ec);
  }
  LMHEAD_RETURN_IF_ERROR(WriteFileAtomically((fs::path(options.out_dir) / "config.json").string(),
                                             ConfigJson(options)));
  report.files.push_back("config.json");
  out_dir.Keep();
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace lmhead
