// SPDX-License-Identifier: Apache-2.0
// PLACEHOLDER: replaced by the inspect subcommand.
#include "command.h"

namespace lmhead::cli {

CommandMain RegisterInspectCommand(CLI::App&) {
  return [] { return ReportStatus(Status::NotSupported("[inspect] not built yet")); };
}

}  // namespace lmhead::cli
