// SPDX-License-Identifier: Apache-2.0
// The contract between main.cc's dispatch table and each subcommand file.
#ifndef LMHEAD_TOOLS_LMHEAD_COMMAND_H_
#define LMHEAD_TOOLS_LMHEAD_COMMAND_H_

#include <functional>
#include <string>

#include <CLI/CLI.hpp>

#include "lmhead/status.h"
#include "lmhead/threads.h"

namespace lmhead::cli {

// Exit codes (shared/STYLE.md 5.14): 0 ok, 1 user error, 2 internal error.
inline constexpr int kExitOk = 0;
inline constexpr int kExitUserError = 1;
inline constexpr int kExitInternalError = 2;

// Runs a parsed subcommand and returns the process exit code.
using CommandMain = std::function<int()>;

// Adds the subcommand's flags to `sub` (bound to an options struct the
// registrar owns) and returns the function to call when `sub` is chosen.
using CommandRegistrar = CommandMain (*)(CLI::App& sub);

// Prints "lmhead: error: <message>" to stderr and returns 1 for a user error,
// 2 for an internal one. Returns 0 for OK.
int ReportStatus(const Status& status);

// Every command's --threads, bound to `threads` and checked against
// 0..kMaxThreads at parse time, before any work.
inline CLI::Option* AddThreadsOption(
    CLI::App& sub, int& threads,
    const std::string& help = "Worker threads (0: one per CPU this process may run on)") {
  return sub.add_option("--threads", threads, help)
      ->check(CLI::Range(0, kMaxThreads))
      ->capture_default_str();
}

CommandMain RegisterDemoCommand(CLI::App& sub);
CommandMain RegisterPlanCommand(CLI::App& sub);
CommandMain RegisterTilesCommand(CLI::App& sub);
CommandMain RegisterSynthCommand(CLI::App& sub);
CommandMain RegisterConvertCommand(CLI::App& sub);
CommandMain RegisterInspectCommand(CLI::App& sub);
CommandMain RegisterRunCommand(CLI::App& sub);
CommandMain RegisterBenchCommand(CLI::App& sub);
CommandMain RegisterInfoCommand(CLI::App& sub);

}  // namespace lmhead::cli

#endif  // LMHEAD_TOOLS_LMHEAD_COMMAND_H_
