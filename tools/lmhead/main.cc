// SPDX-License-Identifier: Apache-2.0
// lmhead: the command-line tool. One dispatch table; one file per subcommand.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "command.h"

namespace lmhead::cli {
namespace {

struct CommandEntry {
  const char* name;
  const char* summary;
  CommandRegistrar registrar;
};

constexpr CommandEntry kCommands[] = {
    {"demo", "The main job: DeepSeek-V3's head on an emulated 4x8 Galaxy, end to end",
     RegisterDemoCommand},
    {"plan", "Derive every TTNN config of the LM head for a model and a device mesh",
     RegisterPlanCommand},
    {"tiles", "Pack/unpack TT tiles (bfloat4_b, bfloat8_b, bfloat16, float32) from/to .npy",
     RegisterTilesCommand},
    {"synth", "Write a synthetic HuggingFace checkpoint with a trained-like lm_head.weight",
     RegisterSynthCommand},
    {"convert", "Convert a checkpoint's head into per-device DRAM-bank-sharded tile shards",
     RegisterConvertCommand},
    {"inspect", "Inspect a safetensors checkpoint or a converted weights directory",
     RegisterInspectCommand},
    {"bench", "Time decode and prefill of the whole head against in-run machine limits",
     RegisterBenchCommand},
    {"info", "CPU features, the kernels chosen, build options (--measure: machine limits)",
     RegisterInfoCommand},
    {"run", "Run decode or prefill on converted weights: logits, argmax, top-k or logsumexp",
     RegisterRunCommand},
};

int Main(int argc, char** argv) {
  CLI::App app{
      "lmhead: Tenstorrent's DeepSeek-V3 LM head (plans, tiles, weights, execution) in C++"};
  app.require_subcommand(1);
  std::vector<std::pair<CLI::App*, CommandMain>> subcommands;
  for (const CommandEntry& entry : kCommands) {
    CLI::App* sub = app.add_subcommand(entry.name, entry.summary);
    subcommands.emplace_back(sub, entry.registrar(*sub));
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUserError;
  }
  for (auto& [sub, run] : subcommands) {
    if (sub->parsed()) return run();
  }
  return kExitUserError;
}

}  // namespace

int ReportStatus(const Status& status) {
  if (status.ok()) return kExitOk;
  std::fprintf(stderr, "lmhead: error: %s\n", status.message().c_str());
  return status.IsUserError() ? kExitUserError : kExitInternalError;
}

}  // namespace lmhead::cli

int main(int argc, char** argv) {
  try {
    return lmhead::cli::Main(argc, argv);
  } catch (const std::exception& e) {
    // The library throws nothing; this catches allocation failures and bugs.
    std::fprintf(stderr, "lmhead: internal error: %s\n", e.what());
    return lmhead::cli::kExitInternalError;
  }
}
