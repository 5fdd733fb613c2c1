// SPDX-License-Identifier: Apache-2.0
// Notes for people: which TT quirks (spec §5) and estimates apply to a finished plan.
#ifndef LMHEAD_PLANNER_NOTES_H_
#define LMHEAD_PLANNER_NOTES_H_

#include <string>
#include <vector>

#include "lmhead/plan.h"

namespace lmhead {

// One sentence per quirk or estimate that applies, each naming its values and spec section.
std::vector<std::string> CollectNotes(const LmHeadPlan& plan);

}  // namespace lmhead

#endif  // LMHEAD_PLANNER_NOTES_H_
