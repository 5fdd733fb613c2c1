// SPDX-License-Identifier: Apache-2.0
// Synthetic DeepSeek-V3-sized weights for `lmhead demo` and `lmhead bench`, cached on disk.
#ifndef LMHEAD_TOOLS_LMHEAD_SYNTHETIC_WEIGHTS_H_
#define LMHEAD_TOOLS_LMHEAD_SYNTHETIC_WEIGHTS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "lmhead/plan.h"
#include "lmhead/status.h"

namespace lmhead::cli {

struct SyntheticWeights {
  std::string checkpoint;  // work_dir/checkpoint: config.json + model.safetensors (bf16).
  std::string weights;     // work_dir/weights: converted shards + manifest.json.
};

// Synthesises the checkpoint (unless work_dir/checkpoint/config.json, written
// last, says a finished one is there) and converts it for `mesh` of `device`
// (a re-run reuses valid shards). Prints one line per step to stderr.
Result<SyntheticWeights> EnsureSyntheticWeights(const std::string& work_dir,
                                                const ModelDims& model, const MeshShape& mesh,
                                                const std::string& device, uint64_t seed,
                                                int num_threads);

// Hidden states like a final RMSNorm's output: unit-normal values, [rows, hidden].
std::vector<float> SyntheticHiddenStates(int64_t rows, int64_t hidden, uint64_t seed);

}  // namespace lmhead::cli

#endif  // LMHEAD_TOOLS_LMHEAD_SYNTHETIC_WEIGHTS_H_
