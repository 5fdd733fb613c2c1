// SPDX-License-Identifier: Apache-2.0
// Golden references outside the emulated device: the unquantised head and TT's PCC check.
//
// TT's LM-head test compares the device's logits with torch's fp32
// `nn.Linear(H, V, bias=False)` on the unquantised weights and asserts
// comp_pcc >= 0.98 (shared/spec/ttnn-lmhead.md §6). These functions give the
// same reference and the same check without torch.
#ifndef LMHEAD_REFERENCE_H_
#define LMHEAD_REFERENCE_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "lmhead/status.h"

namespace lmhead {

// Logits [rows, V] of x [rows, H] (fp32, used as given) times the checkpoint's
// head W [V, H] (BF16, F16 or F32, widened exactly), accumulated in fp32 like
// torch's CPU linear (summation order differs; differences ~1e-7 relative).
// `checkpoint` is a directory or .safetensors file; `tensor` empty picks
// lm_head.weight (or model.embed_tokens.weight when tied). Errors as
// ConvertCheckpoint's for a missing or malformed tensor, and InvalidArgument
// when x's width is not H.
Result<std::vector<float>> UnquantizedLogits(const std::string& checkpoint,
                                             const std::string& tensor, std::span<const float> x,
                                             int64_t rows, int num_threads);

// TT's comp_pcc (models/common/utility_functions.py): the Pearson correlation
// of the flattened tensors after casting `calculated` to the golden's dtype
// (pass golden_is_bf16 when TT would hold the golden as bf16), with NaN/Inf
// replaced by 0; 1.0 when both are all NaN or exactly equal, 0.0 when exactly
// one is all NaN or all zero.
double CompPcc(std::span<const float> golden, std::span<const float> calculated,
               bool golden_is_bf16);

}  // namespace lmhead

#endif  // LMHEAD_REFERENCE_H_
