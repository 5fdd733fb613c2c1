// SPDX-License-Identifier: Apache-2.0
// Prefill configs: chunking by SEQ_LEN_CHUNK_SIZE and the 2D multicast program config.
#include "planner/prefill_plan.h"

#include <fmt/format.h>

#include <algorithm>

#include "planner/compat_error.h"
#include "planner/l1_estimate.h"
#include "planner/mesh_scatter.h"
#include "planner/tt_helpers.h"

namespace lmhead {
namespace {

// forward_prefill: for S > 1024, x = ttnn.reshape(x, [1, even_int_div(S, 1024), 1024, -1]).
// TT's tests zero-pad S to a multiple of 1024 first; seed mode does the same (the engine pads
// and slices the logits back), tt modes fail as TT does.
Result<int64_t> ChunkPaddedSeqLen(int64_t seq_len, CompatMode compat) {
  if (seq_len <= kSeqLenChunkSize || seq_len % kSeqLenChunkSize == 0) return seq_len;
  if (!IsTtCompat(compat)) return RoundUp(seq_len, kSeqLenChunkSize);
  return PlanError(
      compat, "forward_prefill",
      fmt::format("ttnn.reshape(x, [1, even_int_div(S, 1024), 1024, -1]) fails: even_int_div({}, "
                  "1024) ({} % 1024 = {}); TT's prefill needs S > 1024 to be a multiple of "
                  "SEQ_LEN_CHUNK_SIZE (spec §5 quirk 9)",
                  seq_len, seq_len, seq_len % kSeqLenChunkSize),
      fmt::format("zero-pad the sequence to {} rows as TT's tests do, or use --compat seed (the "
                  "engine pads and slices)",
                  RoundUp(seq_len, kSeqLenChunkSize)));
}

}  // namespace

Result<PrefillPlan> PlanPrefill(const ModelDims& model, const MeshDesc& mesh,
                                const PlanOptions& options) {
  const CompatMode compat = options.compat;
  const int64_t num_devices = mesh.shape.num_devices();
  PrefillPlan plan;
  plan.seq_len = options.seq_len;
  // forward_prefill order: assert DRAM interleaved input (true by construction), mesh_scatter,
  // chunk reshape, then the matmul with _get_prefill_pc.
  LMHEAD_ASSIGN_OR_RETURN(plan.mesh_scatter,
                          PlanMeshScatter(mesh.shape, options.input_row_idx, /*invoked=*/true,
                                          /*sharded_input=*/false, compat, "forward_prefill"));
  LMHEAD_ASSIGN_OR_RETURN(plan.padded_seq_len, ChunkPaddedSeqLen(options.seq_len, compat));
  plan.chunked = plan.padded_seq_len > kSeqLenChunkSize;
  plan.num_chunks = plan.chunked ? plan.padded_seq_len / kSeqLenChunkSize : 1;
  plan.chunk_rows = std::min(plan.padded_seq_len, kSeqLenChunkSize);
  // V3 (and the seed) build the program config from the full seq_len (quirk 3); V4 from
  // effective_seq_len = min(seq_len, max_rows).
  plan.pc_seq_len = compat == CompatMode::kTtV4 ? plan.chunk_rows : plan.padded_seq_len;
  auto program_config = GetPrefillPc(plan.pc_seq_len, model.hidden_size, model.vocab_size,
                                     num_devices, mesh.device.core_grid);
  if (!program_config.ok()) {
    return PlanError(
        compat, "forward_prefill", program_config.status().message(),
        fmt::format("pad vocab to {}", SuggestPaddedVocab(model.vocab_size, num_devices, 1)));
  }
  plan.linear.program_config = *program_config;
  plan.linear.memory_config = MemoryConfig{};  // ttnn.DRAM_MEMORY_CONFIG.
  plan.input_memory_config = MemoryConfig{};
  plan.output_memory_config = MemoryConfig{};
  plan.all_gather.memory_config = MemoryConfig{};
  const int64_t vocab_per_device = model.vocab_size / num_devices;
  plan.Mt = DivUp(plan.chunk_rows, kTileSize);  // Per batch: fuse_batch = False.
  plan.Kt = DivUp(model.hidden_size, kTileSize);
  plan.Nt = DivUp(vocab_per_device, kTileSize);
  const auto& pc = plan.program_config();
  plan.num_blocks_x = DivUp(plan.Nt, pc.per_core_N);
  plan.num_blocks_y = DivUp(plan.Mt, pc.per_core_M);
  plan.input_shape = {1, plan.num_chunks, plan.chunk_rows, model.hidden_size};
  plan.output_shape = {1, 1, plan.padded_seq_len, vocab_per_device};
  plan.l1 = EstimatePrefillL1(pc, mesh.device.l1_bytes);
  return plan;
}

}  // namespace lmhead
