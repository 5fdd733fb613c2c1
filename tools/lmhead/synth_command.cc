// SPDX-License-Identifier: Apache-2.0
// PLACEHOLDER: replaced by the synth subcommand.
#include "command.h"

namespace lmhead::cli {

CommandMain RegisterSynthCommand(CLI::App&) {
  return [] { return ReportStatus(Status::NotSupported("[synth] not built yet")); };
}

}  // namespace lmhead::cli
