// SPDX-License-Identifier: Apache-2.0
// `lmhead synth`: writes a synthetic HuggingFace checkpoint with a trained-like head.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>

#include "command.h"
#include "lmhead/convert.h"
#include "lmhead/plan.h"
#include "lmhead/safetensors.h"

namespace lmhead::cli {
namespace {

// The subcommand's flags: name, default and help side by side.
struct SynthFlags {
  std::string model;            // --model NAME
  int64_t hidden_size = 0;      // --hidden-size H (overrides the model's)
  int64_t vocab_size = 0;       // --vocab-size V (overrides the model's)
  std::string out;              // --out DIR
  std::string dtype = "bf16";   // --dtype bf16|f16|f32
  uint64_t seed = 0;            // --seed N
  bool tied_embedding = false;  // --tied-embedding
  int shards = 1;               // --shards N
  int threads = 0;              // --threads N (0 = all)
};

void AddFlags(CLI::App& sub, SynthFlags& flags) {
  sub.add_option("--model", flags.model, "Built-in model whose head to imitate: deepseek-v3");
  sub.add_option("--hidden-size", flags.hidden_size, "Hidden size H (columns of the head)");
  sub.add_option("--vocab-size", flags.vocab_size, "Vocabulary size V (rows of the head)");
  sub.add_option("--out", flags.out, "Checkpoint directory to write")->required();
  sub.add_option("--dtype", flags.dtype, "Head dtype: bf16, f16 or f32")->capture_default_str();
  sub.add_option("--seed", flags.seed, "Seed; the same seed gives the same bytes")
      ->capture_default_str();
  sub.add_flag("--tied-embedding", flags.tied_embedding,
               "Store the head as model.embed_tokens.weight with tie_word_embeddings: true");
  sub.add_option("--shards", flags.shards,
                 "Number of safetensors files; > 1 writes model.safetensors.index.json")
      ->capture_default_str();
  AddThreadsOption(sub, flags.threads);
}

Result<SafetensorsDtype> ParseDtype(const std::string& text) {
  if (text == "bf16" || text == "bfloat16" || text == "BF16") return SafetensorsDtype::kBF16;
  if (text == "f16" || text == "float16" || text == "F16") return SafetensorsDtype::kF16;
  if (text == "f32" || text == "float32" || text == "F32") return SafetensorsDtype::kF32;
  return Status::InvalidArgument(
      fmt::format("[synth] --dtype {} is not a head dtype; use bf16, f16 or f32", text));
}

Result<SynthOptions> MakeOptions(const SynthFlags& flags) {
  SynthOptions options;
  if (!flags.model.empty()) {
    LMHEAD_ASSIGN_OR_RETURN(options.model, FindModelPreset(flags.model));
  } else if (flags.hidden_size == 0 || flags.vocab_size == 0) {
    return Status::InvalidArgument(
        "[synth] no model dims; pass --model deepseek-v3 or both --hidden-size and --vocab-size");
  } else {
    options.model.name = "custom";
  }
  if (flags.hidden_size != 0) options.model.hidden_size = flags.hidden_size;
  if (flags.vocab_size != 0) options.model.vocab_size = flags.vocab_size;
  options.out_dir = flags.out;
  LMHEAD_ASSIGN_OR_RETURN(options.dtype, ParseDtype(flags.dtype));
  options.seed = flags.seed;
  options.tied_embedding = flags.tied_embedding;
  options.num_shards = flags.shards;
  options.num_threads = flags.threads;
  return options;
}

int Run(const SynthFlags& flags) {
  Result<SynthOptions> options = MakeOptions(flags);
  if (!options.ok()) return ReportStatus(options.status());
  Result<SynthReport> report = SynthesizeCheckpoint(*options);
  if (!report.ok()) return ReportStatus(report.status());
  std::printf("wrote %s: %s [%lld, %lld] %s (%.2f GB, seed %llu) in %s; files %s; %.1f s\n",
              options->out_dir.c_str(), report->tensor_name.c_str(),
              static_cast<long long>(options->model.vocab_size),
              static_cast<long long>(options->model.hidden_size), ToString(options->dtype),
              static_cast<double>(report->head_bytes) / 1e9,
              static_cast<unsigned long long>(options->seed), report->head_file.c_str(),
              fmt::format("{}", fmt::join(report->files, ", ")).c_str(), report->seconds);
  return kExitOk;
}

}  // namespace

CommandMain RegisterSynthCommand(CLI::App& sub) {
  auto flags = std::make_shared<SynthFlags>();
  AddFlags(sub, *flags);
  return [flags] { return Run(*flags); };
}

}  // namespace lmhead::cli
