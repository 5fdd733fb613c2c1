// SPDX-License-Identifier: Apache-2.0
// PLACEHOLDER: replaced by the convert subcommand.
#include "command.h"

namespace lmhead::cli {

CommandMain RegisterConvertCommand(CLI::App&) {
  return [] { return ReportStatus(Status::NotSupported("[convert] not built yet")); };
}

}  // namespace lmhead::cli
