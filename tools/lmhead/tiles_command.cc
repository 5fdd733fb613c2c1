// SPDX-License-Identifier: Apache-2.0
// PLACEHOLDER: replaced by the tiles subcommand.
#include "command.h"

namespace lmhead::cli {

CommandMain RegisterTilesCommand(CLI::App&) {
  return [] { return ReportStatus(Status::NotSupported("[tiles] not built yet")); };
}

}  // namespace lmhead::cli
