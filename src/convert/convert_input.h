// SPDX-License-Identifier: Apache-2.0
// Resolves convert's inputs: checkpoint, config.json, head tensor, plan, geometry.
#ifndef LMHEAD_CONVERT_CONVERT_INPUT_H_
#define LMHEAD_CONVERT_CONVERT_INPUT_H_

#include <string>

#include "convert/bank_packer.h"
#include "io/shard_file.h"
#include "lmhead/convert.h"
#include "lmhead/plan.h"
#include "lmhead/safetensors.h"
#include "lmhead/weights.h"

namespace lmhead {

// Everything ConvertCheckpoint needs, validated.
struct ConvertInput {
  Checkpoint checkpoint;
  std::string tensor_name;
  CheckpointTensor tensor;  // Keeps the source file mapped.
  HeadSource source;        // [valid vocab, H] view of the tensor.
  ShardSourceDtype source_dtype = ShardSourceDtype::kBF16;
  LmHeadPlan plan;  // For the (possibly padded) vocabulary.
  ShardGeometry geometry;
  std::string plan_json;  // The plan's model, mesh and weights, for the manifest.
  std::vector<WeightsManifest::SourceFile> source_files;
};

// Opens the checkpoint, reads config.json, finds and checks the head (dtype,
// shape against config.json), pads the vocabulary if asked and allowed, and
// plans. Errors are the user errors listed for ConvertCheckpoint.
Result<ConvertInput> ResolveConvertInput(const ConvertOptions& options);

}  // namespace lmhead

#endif  // LMHEAD_CONVERT_CONVERT_INPUT_H_
