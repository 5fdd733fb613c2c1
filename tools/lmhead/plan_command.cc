// SPDX-License-Identifier: Apache-2.0
// `lmhead plan`: a dry run that prints every TTNN config of the LM head for a model and a mesh.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>

#include "command.h"
#include "lmhead/plan.h"

namespace lmhead::cli {
namespace {

// The subcommand's flags: name, default and help side by side (--help is generated from them).
struct PlanFlags {
  std::string model;                                       // --model NAME
  std::string config;                                      // --config PATH
  std::string mesh = "4x8";                                // --mesh RxC
  std::string device = std::string(kDefaultDevicePreset);  // --device NAME
  std::string core_grid;                                   // --core-grid XxY (override)
  int64_t dram_banks = 0;                                  // --dram-banks N (override; 0 = preset)
  std::string mode = "both";                               // --mode decode|prefill|both
  int64_t seq_len = 1024;                                  // --seq-len S
  int64_t input_row_idx = 0;                               // --input-row-idx R
  std::string compat = "seed";                             // --compat seed|tt-v3|tt-v4
  int64_t input_num_cores = 0;                             // --input-num-cores N (0 = TT's default)
  int64_t output_num_cores = 0;  // --output-num-cores N (0 = TT's default)
  bool json = false;             // --json
};

void AddFlags(CLI::App& sub, PlanFlags& flags) {
  auto* model = sub.add_option("--model", flags.model,
                               "Built-in model: deepseek-v3 (hidden 7168, vocab 129280); the "
                               "default when --config is not given");
  auto* config = sub.add_option("--config", flags.config,
                                "HuggingFace config.json (or its model directory) to read "
                                "hidden_size and vocab_size from");
  model->excludes(config);
  sub.add_option("--mesh", flags.mesh, "Mesh shape RxC (rows x cols); D = R*C")
      ->capture_default_str();
  sub.add_option("--device", flags.device,
                 fmt::format("Device preset: {}", fmt::join(DevicePresetNames(), ", ")))
      ->capture_default_str();
  sub.add_option("--core-grid", flags.core_grid,
                 "Override the preset's core grid XxY (compute_with_storage_grid_size)");
  sub.add_option("--dram-banks", flags.dram_banks,
                 "Override the preset's DRAM bank count (0 = the preset's)");
  sub.add_option("--mode", flags.mode, "Paths to plan: decode, prefill or both")
      ->capture_default_str();
  sub.add_option("--seq-len", flags.seq_len, "Prefill sequence length S")->capture_default_str();
  sub.add_option("--input-row-idx", flags.input_row_idx,
                 "Mesh row holding the input: mesh_scatter(scatter_idx=(R, None))")
      ->capture_default_str();
  sub.add_option("--compat", flags.compat,
                 "seed (the seed document with TT's intended checks), tt-v3 or tt-v4 (TT-Metal's "
                 "lm_head.py versions, failures included)")
      ->capture_default_str();
  sub.add_option("--input-num-cores", flags.input_num_cores,
                 "decode_model_config override (0 = TT's default)");
  sub.add_option("--output-num-cores", flags.output_num_cores,
                 "decode_model_config override (0 = TT's default)");
  sub.add_flag("--json", flags.json, "Print the plan as JSON (docs/plan_fields.md)");
}

Result<MeshDesc> MakeMesh(const PlanFlags& flags) {
  MeshDesc mesh;
  LMHEAD_ASSIGN_OR_RETURN(mesh.shape, ParseMeshShape(flags.mesh));
  LMHEAD_ASSIGN_OR_RETURN(mesh.device, FindDevicePreset(flags.device));
  if (!flags.core_grid.empty()) {
    LMHEAD_ASSIGN_OR_RETURN(mesh.device.core_grid, ParseCoreGrid(flags.core_grid));
    mesh.device.description += fmt::format("; core grid overridden to {}", flags.core_grid);
  }
  if (flags.dram_banks != 0) {
    if (flags.dram_banks < 0) {
      return Status::InvalidArgument(fmt::format(
          "[plan] --dram-banks {} is negative; pass a bank count >= 1 (Wormhole 12, Blackhole 8)",
          flags.dram_banks));
    }
    mesh.device.num_dram_banks = flags.dram_banks;
    mesh.device.description += fmt::format("; DRAM banks overridden to {}", flags.dram_banks);
  }
  return mesh;
}

Status RunPlan(const PlanFlags& flags) {
  ModelDims model;
  if (!flags.config.empty()) {
    LMHEAD_ASSIGN_OR_RETURN(model, LoadModelDims(flags.config));
  } else {
    LMHEAD_ASSIGN_OR_RETURN(model,
                            FindModelPreset(flags.model.empty() ? "deepseek-v3" : flags.model));
  }
  LMHEAD_ASSIGN_OR_RETURN(MeshDesc mesh, MakeMesh(flags));
  PlanOptions options;
  LMHEAD_ASSIGN_OR_RETURN(options.mode, ParsePlanMode(flags.mode));
  LMHEAD_ASSIGN_OR_RETURN(options.compat, ParseCompatMode(flags.compat));
  options.seq_len = flags.seq_len;
  options.input_row_idx = flags.input_row_idx;
  options.input_num_cores = flags.input_num_cores;
  options.output_num_cores = flags.output_num_cores;
  LMHEAD_ASSIGN_OR_RETURN(LmHeadPlan plan, Plan(model, mesh, options));
  const std::string text = flags.json ? PlanToJson(plan) : PlanToReport(plan);
  std::fwrite(text.data(), 1, text.size(), stdout);
  return Status::Ok();
}

}  // namespace

CommandMain RegisterPlanCommand(CLI::App& sub) {
  auto flags = std::make_shared<PlanFlags>();
  AddFlags(sub, *flags);
  return [flags] { return ReportStatus(RunPlan(*flags)); };
}

}  // namespace lmhead::cli
