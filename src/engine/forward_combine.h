// SPDX-License-Identifier: Apache-2.0
// The combine after the matmul: fused reductions per pass and the logits' gather,
// computed on this process's devices and merged in device order at rank 0.
#ifndef LMHEAD_ENGINE_FORWARD_COMBINE_H_
#define LMHEAD_ENGINE_FORWARD_COMBINE_H_

#include <cstdint>
#include <vector>

#include "engine/lm_head_impl.h"

namespace lmhead {

// Sizes the outputs of a call with `rows` output rows (on rank 0 only when
// the mesh spans processes) and records which devices this process holds.
void PrepareOutputs(const LmHead::Impl& impl, int64_t rows, const ForwardOptions& options,
                    ForwardResult& result);

// Fused top-k or logsumexp of one pass: `logits` holds this process's devices'
// logits of output rows [row_begin, row_begin + num_rows), `stride` floats
// apart. Each device reduces its own V/D columns; only the partials (k
// candidates or one (max, sum) per device and row) reach rank 0, which merges
// them in device order, exactly as one process holding every device does.
Status ReducePass(LmHead::Impl& impl, const float* logits, int64_t stride, int64_t row_begin,
                  int64_t num_rows, const ForwardOptions& options, ForwardResult& result);

// After the last pass of Reduction::kLogits: each device's copy
// (keep_per_device), the gather of `slab` (this process's [rows, local
// columns] logits; empty when this process holds every device and wrote
// result.logits directly) to rank 0, and dropping --pad-vocab columns.
Status FinishLogits(LmHead::Impl& impl, LogitBuffer slab, const ForwardOptions& options,
                    ForwardResult& result);

}  // namespace lmhead

#endif  // LMHEAD_ENGINE_FORWARD_COMBINE_H_
