// SPDX-License-Identifier: Apache-2.0
// The whole pipeline in one page: synth a small checkpoint, convert it for a
// 2x4 mesh, open the head and decode one token to its top-5 token ids.
// Usage: minimal [WORK_DIR]   (default: ./lmhead-minimal)
#include <cstdio>
#include <string>
#include <vector>

#include "lmhead/convert.h"
#include "lmhead/lm_head.h"

namespace {

lmhead::Status Run(const std::string& work_dir) {
  // 1. A checkpoint like HuggingFace's: config.json + model.safetensors with lm_head.weight.
  lmhead::SynthOptions synth;
  synth.out_dir = work_dir + "/checkpoint";
  synth.model = lmhead::ModelDims{256, 4096, "tiny"};
  LMHEAD_RETURN_IF_ERROR(lmhead::SynthesizeCheckpoint(synth).status());

  // 2. Stage 1: per-device bfloat4_b shards, DRAM-bank-sharded as TTNN lays them out.
  lmhead::ConvertOptions convert;
  convert.checkpoint = synth.out_dir;
  convert.out_dir = work_dir + "/weights";
  convert.mesh = lmhead::MeshShape{2, 4};
  LMHEAD_RETURN_IF_ERROR(lmhead::ConvertCheckpoint(convert).status());

  // 3. Stages 2 and 3: plan and prepare once (tt-lofi numerics by default)...
  LMHEAD_ASSIGN_OR_RETURN(std::unique_ptr<lmhead::LmHead> head,
                          lmhead::LmHead::Open(convert.out_dir, {}));
  const lmhead::DecodePlan& plan = *head->plan().decode;
  std::printf("decode: %s\n", lmhead::ToString(plan.linear.program_config).c_str());

  // ...then run: one user's final hidden state in, its five best tokens out.
  std::vector<float> hidden(256);
  for (size_t k = 0; k < hidden.size(); ++k) hidden[k] = (k % 7 == 0) ? 1.0f : -0.25f;
  lmhead::ForwardOptions top5;
  top5.reduction = lmhead::Reduction::kTopK;
  top5.k = 5;
  LMHEAD_ASSIGN_OR_RETURN(lmhead::ForwardResult result,
                          head->Decode(lmhead::Activations{hidden, {}, 1, 256}, top5));
  std::printf("top-5 token ids:");
  for (int64_t id : result.token_ids) std::printf(" %lld", static_cast<long long>(id));
  std::printf("\n");
  return lmhead::Status::Ok();
}

}  // namespace

int main(int argc, char** argv) {
  const lmhead::Status status = Run(argc > 1 ? argv[1] : "lmhead-minimal");
  if (!status.ok()) std::fprintf(stderr, "minimal: %s\n", status.ToString().c_str());
  return status.ok() ? 0 : 1;
}
