// SPDX-License-Identifier: Apache-2.0
// Names of the numerics (lmhead/numerics.h).
#include "lmhead/numerics.h"

#include <fmt/format.h>

namespace lmhead {

const char* ToString(Numerics numerics) {
  switch (numerics) {
    case Numerics::kFp32:
      return "fp32";
    case Numerics::kTtLofi:
      return "tt-lofi";
  }
  return "unknown";
}

Result<Numerics> ParseNumerics(std::string_view name) {
  for (Numerics numerics : {Numerics::kFp32, Numerics::kTtLofi}) {
    if (name == ToString(numerics)) return numerics;
  }
  return Status::InvalidArgument(
      fmt::format("[ParseNumerics] unknown numerics '{}'; use fp32 or tt-lofi", name));
}

}  // namespace lmhead
