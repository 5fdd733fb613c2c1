// SPDX-License-Identifier: Apache-2.0
// PLACEHOLDER: replaced by the plan subcommand.
#include "command.h"

namespace lmhead::cli {

CommandMain RegisterPlanCommand(CLI::App&) {
  return [] { return ReportStatus(Status::NotSupported("[plan] not built yet")); };
}

}  // namespace lmhead::cli
