// SPDX-License-Identifier: Apache-2.0
// Notes on the quirks (spec §5) and L1 estimates that apply to a plan.
#include "planner/notes.h"

#include <fmt/format.h>

#include <algorithm>
#include <string_view>

#include "planner/decode_plan.h"
#include "planner/tt_helpers.h"

namespace lmhead {
namespace {

// Above this share of worker_l1_size a circular-buffer estimate is called marginal: the
// allocatable L1 is smaller than worker_l1_size (firmware, kernels and banks take a part).
constexpr double kMarginalL1Fraction = 0.75;

void AddQuirk1Notes(const LmHeadPlan& plan, std::vector<std::string>& notes) {
  const DecodePlan& decode = *plan.decode;
  const int64_t hidden = plan.model.hidden_size;
  const int64_t num_devices = plan.mesh.shape.num_devices();
  if (plan.options.compat == CompatMode::kSeed) {
    PlanOptions tt_options = plan.options;
    tt_options.compat = CompatMode::kTtV3;
    tt_options.input_row_idx = 0;
    const Result<DecodePlan> tt = PlanDecode(plan.model, plan.mesh, tt_options);
    if (!tt.ok()) {
      // Quote TT's failure without its "[Plan] tt-v3" prefix and its "use --compat seed" fix.
      std::string_view failure = tt.status().message();
      failure.remove_prefix(std::min(failure.size(), std::string_view("[Plan] tt-v3 ").size()));
      failure = failure.substr(0, failure.find("; use --compat seed"));
      notes.push_back(fmt::format(
          "TT-Metal's own decode config (tt-v3 and tt-v4) fails on this mesh where the seed's "
          "intended checks pass: {}",
          failure));
      return;
    }
  }
  notes.push_back(fmt::format(
      "TT's decode assert checks even_int_div(hidden_size, num_devices) % output_num_cores "
      "({} % {} = 0) where the vocab shard's tile count was meant (spec §5 quirk 1); it passes "
      "here{}",
      hidden / num_devices, decode.output_num_cores,
      decode.output_num_cores == 1 ? " only because output_num_cores is 1" : ""));
}

void AddDecodeNotes(const LmHeadPlan& plan, std::vector<std::string>& notes) {
  const DecodePlan& decode = *plan.decode;
  const CoreCoord grid = plan.mesh.device.core_grid;
  if (decode.output_num_cores == 1 && plan.options.output_num_cores == 0) {
    notes.push_back(fmt::format(
        "decode output is stored on one core: N tiles {} have no divisor in 2..{} (the core "
        "count), so output_num_cores = 1 and per_core_N = {}; compute still runs on the {} DRAM "
        "bank workers, only storage and the final reshard are single-core (spec §5 quirk 5)",
        decode.Nt, grid.x * grid.y, decode.program_config().per_core_N,
        decode.dram_sharded.num_worker_cores));
  }
  AddQuirk1Notes(plan, notes);
  const MeshScatterPlan& scatter = decode.mesh_scatter;
  if (!scatter.invoked) {
    notes.push_back(fmt::format(
        "tt-v3 decode does not call mesh_scatter (commented out: \"This also calls "
        "point_to_point internally\"); the input must already be on every mesh row{} (spec §5 "
        "quirk 6)",
        scatter.from_row < 0 || scatter.from_row >= plan.mesh.shape.rows
            ? fmt::format(", and input_row_idx {} is never checked", scatter.from_row)
            : ""));
  } else if (plan.mesh.shape.rows == 1) {
    notes.push_back(
        "the mesh has one row, so decode mesh_scatter makes no transfers, but the "
        "sharded input still goes through the interleave/reshard round trip (spec §5 "
        "quirk 6)");
  } else {
    notes.push_back(fmt::format(
        "decode mesh_scatter converts the L1 width-sharded input to L1 interleaved (point_to_point "
        "cannot send sharded tensors), makes {} transfers, reshards and copies back into the "
        "original buffer (spec §3.12)",
        scatter.transfers.size()));
  }
  notes.push_back(fmt::format(
      "decode is configured for {} rows (MAX_BATCH_SIZE / USERS_PER_ROW): per_core_M = 1, and "
      "TTNN's DRAM-sharded matmul takes exactly one tile row, so at most 32 users per call (spec "
      "§5 quirk 8)",
      kMaxBatchSize));
  if (!decode.deallocate_input) {
    notes.push_back("tt-v4 decode does not deallocate its input after the matmul (V3 does)");
  }
}

void AddPrefillNotes(const LmHeadPlan& plan, std::vector<std::string>& notes) {
  const PrefillPlan& prefill = *plan.prefill;
  const auto& pc = prefill.program_config();
  const CoreCoord grid = plan.mesh.device.core_grid;
  if (prefill.padded_seq_len != prefill.seq_len) {
    notes.push_back(fmt::format(
        "seq_len {} is zero-padded by {} rows to {} = {} chunks of 1024 (TT reshapes S > 1024 "
        "with even_int_div(S, 1024), spec §5 quirk 9; TT's tests pad the same way); the engine "
        "slices the logits back to {} rows",
        prefill.seq_len, prefill.padded_seq_len - prefill.seq_len, prefill.padded_seq_len,
        prefill.num_chunks, prefill.seq_len));
  }
  if (prefill.chunked && plan.options.compat != CompatMode::kTtV4) {
    notes.push_back(fmt::format(
        "prefill per_core_M {} comes from the full seq_len {} while each chunk has {} tile rows: "
        "{} of {} core rows are used and the circular buffers grow with S; tt-v4 uses min(S, "
        "1024) and gets per_core_M {} (spec §5 quirk 3)",
        pc.per_core_M, prefill.pc_seq_len, prefill.Mt, prefill.num_blocks_y, grid.y,
        DivUp(kSeqLenChunkSize, kTileSize * grid.y)));
  }
  notes.push_back(fmt::format(
      "prefill out_subblock_w = find_largest_divisor(per_core_N {}, out_subblock_h) is always 1, "
      "because out_subblock_h = 1 is passed as max_divisor: valid but slow (spec §5 quirk 4)",
      pc.per_core_N));
  const PrefillL1Estimate& l1 = prefill.l1;
  if (!l1.fits) {
    notes.push_back(fmt::format(
        "prefill circular buffers need an estimated {} B per core (per_core_M {}), more than the "
        "{} B of L1: TT would fail at program creation with \"Statically allocated circular "
        "buffers ... beyond max L1 size\" (spec §4.2 estimate)",
        l1.total_bytes, pc.per_core_M, l1.l1_bytes));
  } else if (static_cast<double>(l1.total_bytes) >
             kMarginalL1Fraction * static_cast<double>(l1.l1_bytes)) {
    notes.push_back(fmt::format(
        "prefill circular buffers need an estimated {} B per core of the {} B L1: marginal, "
        "since the allocatable L1 is below worker_l1_size (spec §4.2 estimate)",
        l1.total_bytes, l1.l1_bytes));
  }
}

void AddWeightNotes(const LmHeadPlan& plan, std::vector<std::string>& notes) {
  const WeightPlan& weights = plan.weights;
  std::vector<int64_t> padding_only;
  for (const DramBankSlice& bank : weights.banks) {
    if (bank.num_real_cols == 0) {
      padding_only.push_back(bank.bank_idx);
    } else if (bank.num_real_cols < weights.shard_width) {
      notes.push_back(fmt::format(
          "DRAM bank {} is partly padding: {} real, {} tile-padding and {} bank-padding columns "
          "of {} (spec §3.5)",
          bank.bank_idx, bank.num_real_cols, bank.num_tile_padding_cols,
          bank.num_shard_padding_cols, weights.shard_width));
    }
  }
  if (!padding_only.empty()) {
    // Real columns fill the banks from 0, so the padding-only banks are the last ones.
    notes.push_back(fmt::format(
        "DRAM banks {}-{} ({} of {}) hold no real columns: the per-device vocab {} ({} tiles) "
        "fills only {} banks of {} columns (spec §3.5)",
        padding_only.front(), padding_only.back(), padding_only.size(), weights.num_dram_banks,
        weights.vocab_per_device, weights.Nt, weights.num_dram_banks - padding_only.size(),
        weights.shard_width));
  }
}

}  // namespace

std::vector<std::string> CollectNotes(const LmHeadPlan& plan) {
  std::vector<std::string> notes;
  if (plan.decode) AddDecodeNotes(plan, notes);
  if (plan.prefill) AddPrefillNotes(plan, notes);
  AddWeightNotes(plan, notes);
  notes.push_back(
      "all_gather (cluster_axis 1, dim -1, Linear) is configured but never invoked: "
      "combining the per-device logits is left to downstream code (spec §5 quirk 7)");
  if (plan.mesh.device.arch == "blackhole" && plan.prefill) {
    notes.push_back(
        "Blackhole: TT's source comment says SEQ_LEN_CHUNK_SIZE should be 512 here, "
        "but the code uses 1024 (spec §4.3)");
  }
  return notes;
}

}  // namespace lmhead
