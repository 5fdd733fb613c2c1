// SPDX-License-Identifier: Apache-2.0
// Numerics: which arithmetic the LM head's matmul emulates (--numerics fp32|tt-lofi).
#ifndef LMHEAD_NUMERICS_H_
#define LMHEAD_NUMERICS_H_

#include <string_view>

#include "lmhead/status.h"

namespace lmhead {

enum class Numerics {
  // bf16 activations (rounded to nearest even) x exactly decoded weights,
  // accumulated in fp32 or better, fp32 logits: the accurate serving mode.
  kFp32,
  // Tenstorrent LoFi with fp32_dest_acc_en=false, as spec tt-numerics.md §4.8
  // models it: the activations' last bf16 mantissa bit truncated, 16-term
  // chunks accumulated in a bf16 Dst with TF32-then-BF16 round-half-away,
  // packer L1 accumulation across K blocks of in0_block_w tiles, bf16 logits.
  kTtLofi,
};

// "fp32" or "tt-lofi" (the --numerics spellings).
const char* ToString(Numerics numerics);
// Accepts the ToString() spellings; InvalidArgument naming the valid ones otherwise.
Result<Numerics> ParseNumerics(std::string_view name);

}  // namespace lmhead

#endif  // LMHEAD_NUMERICS_H_
