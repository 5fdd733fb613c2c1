// SPDX-License-Identifier: Apache-2.0
// Builds the planner's InvalidArgument messages: "[Plan] <mode> <where>: <what>; <fix>".
#ifndef LMHEAD_PLANNER_COMPAT_ERROR_H_
#define LMHEAD_PLANNER_COMPAT_ERROR_H_

#include <fmt/format.h>

#include <string>
#include <string_view>

#include "lmhead/plan.h"
#include "lmhead/status.h"

namespace lmhead {

// `where` names TT's function (decode_model_config, forward_prefill, ...), `what` the failing
// check with its values and why, `fix` what the user can do. In seed mode the mode is omitted.
inline Status PlanError(CompatMode compat, std::string_view where, std::string_view what,
                        std::string_view fix) {
  const std::string mode = compat == CompatMode::kSeed ? "" : std::string(ToString(compat)) + " ";
  return Status::InvalidArgument(fmt::format("[Plan] {}{}: {}; {}", mode, where, what, fix));
}

inline bool IsTtCompat(CompatMode compat) { return compat != CompatMode::kSeed; }

}  // namespace lmhead

#endif  // LMHEAD_PLANNER_COMPAT_ERROR_H_
