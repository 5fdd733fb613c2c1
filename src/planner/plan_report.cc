// SPDX-License-Identifier: Apache-2.0
// PlanToReport: the plan as a readable report for an engineer bringing up a model.
#include <fmt/format.h>

#include <string>

#include "lmhead/plan.h"
#include "planner/l1_estimate.h"
#include "planner/tt_helpers.h"

namespace lmhead {
namespace {

// The transfer table lists this many rows; larger meshes get a summary line for the rest.
constexpr size_t kMaxTransferRows = 64;

std::string Commas(int64_t value) {
  const std::string digits = std::to_string(value < 0 ? -value : value);
  std::string out = value < 0 ? "-" : "";
  for (size_t idx = 0; idx < digits.size(); ++idx) {
    if (idx > 0 && (digits.size() - idx) % 3 == 0) out += ',';
    out += digits[idx];
  }
  return out;
}

std::string Percent(int64_t part, int64_t whole) {
  return fmt::format("{:.1f}%", 100.0 * static_cast<double>(part) / static_cast<double>(whole));
}

template <size_t N>
std::string Shape(const std::array<int64_t, N>& shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

std::string ShardText(const MemoryConfig& config) {
  if (!config.shard_spec)
    return fmt::format("{} {}", ToString(config.memory_layout), ToString(config.buffer_type));
  return fmt::format("[{}, {}] on {}", config.shard_spec->shape[0], config.shard_spec->shape[1],
                     ToString(config.shard_spec->grid));
}

void Row(std::string& out, std::string_view name, const std::string& value,
         std::string_view derivation) {
  out += fmt::format("  {:<22} {:<44} {}\n", name, value, derivation);
}

void AppendHeader(const LmHeadPlan& plan, std::string& out) {
  const DeviceSpec& device = plan.mesh.device;
  out += fmt::format(
      "lmhead plan: {} (hidden_size {}, vocab_size {}) on a {}x{} mesh of {} ({} "
      "devices), compat {}\n",
      plan.model.name, plan.model.hidden_size, plan.model.vocab_size, plan.mesh.shape.rows,
      plan.mesh.shape.cols, device.name, plan.mesh.shape.num_devices(),
      ToString(plan.options.compat));
  out +=
      fmt::format("device: {}x{} core grid ({} cores), {} DRAM banks, {} B L1 per core; {}\n\n",
                  device.core_grid.x, device.core_grid.y, device.core_grid.x * device.core_grid.y,
                  device.num_dram_banks, Commas(device.l1_bytes), device.description);
}

// The seed document's "Example instantiation", with each value's derivation.
void AppendExampleTable(const LmHeadPlan& plan, std::string& out) {
  const WeightPlan& w = plan.weights;
  const int64_t max_cores = plan.mesh.device.core_grid.x * plan.mesh.device.core_grid.y;
  out += "Example instantiation (shared/seed/LMHead_ops.md)\n";
  Row(out, "mesh", fmt::format("{} x {}", plan.mesh.shape.rows, plan.mesh.shape.cols),
      fmt::format("D = {}", plan.mesh.shape.num_devices()));
  Row(out, "HF dims", fmt::format("H = {}, V = {}", plan.model.hidden_size, plan.model.vocab_size),
      "hidden_size, vocab_size");
  Row(out, "V/D", std::to_string(w.vocab_per_device),
      fmt::format("{} / {}", plan.model.vocab_size, plan.mesh.shape.num_devices()));
  Row(out, "weight shard shape", Shape(w.per_device_shape), "bfloat4_b, DRAM width-sharded");
  Row(out, "K_tiles", std::to_string(w.Kt), fmt::format("divup({}, 32)", plan.model.hidden_size));
  Row(out, "N_tiles", std::to_string(w.Nt), fmt::format("divup({}, 32)", w.vocab_per_device));
  if (plan.decode) {
    const DecodePlan& d = *plan.decode;
    const auto& pc = d.program_config();
    Row(out, "input_num_cores", std::to_string(d.input_num_cores),
        fmt::format("largest divisor of K_tiles {} <= {} cores", d.Kt, max_cores));
    Row(out, "in0_block_w", std::to_string(pc.in0_block_w),
        fmt::format("find_largest_divisor({} / {})", d.Kt, d.input_num_cores));
    Row(out, "output_num_cores", std::to_string(d.output_num_cores),
        fmt::format("largest divisor of N_tiles {} <= {} cores", d.Nt, max_cores));
    Row(out, "per_core_N", std::to_string(pc.per_core_N),
        fmt::format("{} / {}", d.Nt, d.output_num_cores));
    Row(out, "decode input shard", ShardText(d.input_memory_config), "L1 width-sharded");
    Row(out, "decode output shard", ShardText(d.output_memory_config), "L1 width-sharded");
  }
  Row(out, "weight DRAM shard",
      fmt::format("[{}, {}] on {} banks", w.memory_config.shard_spec->shape[0], w.shard_width,
                  w.num_dram_banks),
      fmt::format("roundup(divup({}, {}), 32)", w.vocab_per_device, w.num_dram_banks));
  out += "\n";
}

void AppendShapes(const LmHeadPlan& plan, std::string& out) {
  out += "Per-device shapes\n";
  Row(out, "weight", Shape(plan.weights.per_device_shape),
      fmt::format("tile padded {}", Shape(plan.weights.padded_shape)));
  if (plan.decode) {
    Row(out, "decode input", Shape(plan.decode->input_shape), "M_decode <= 32 rows used");
    Row(out, "decode output", Shape(plan.decode->output_shape), "");
  }
  if (plan.prefill) {
    const PrefillPlan& p = *plan.prefill;
    Row(out, "prefill input (matmul)", Shape(p.input_shape),
        p.chunked
            ? fmt::format("[1, 1, {}, H] reshaped into {} chunks", p.padded_seq_len, p.num_chunks)
            : "not chunked (S <= 1024)");
    Row(out, "prefill output", Shape(p.output_shape),
        p.chunked ? "de-chunked from [1, chunks, 1024, V/D]" : "");
  }
  out += "\n";
}

void AppendDecode(const LmHeadPlan& plan, std::string& out) {
  const DecodePlan& d = *plan.decode;
  const DramShardedMatmulInternals& in = d.dram_sharded;
  const int64_t l1 = plan.mesh.device.l1_bytes;
  out += "Decode (ops in order)\n";
  if (d.mesh_scatter.invoked) {
    out += fmt::format(
        "  1. mesh_scatter(x, mesh_shape=({}, {}), scatter_idx=({}, None)): {} "
        "point_to_point transfers\n",
        plan.mesh.shape.rows, plan.mesh.shape.cols, d.mesh_scatter.from_row,
        d.mesh_scatter.transfers.size());
  } else {
    out += "  1. mesh_scatter: not called (commented out in tt-v3)\n";
  }
  out += "  2. ttnn.linear(x, **linear)\n";
  out += d.deallocate_input ? "  3. ttnn.deallocate(x)\n" : "  3. (no deallocate in tt-v4)\n";
  out += fmt::format("  input_memory_config:  {}\n", ToString(d.input_memory_config));
  out += fmt::format("  output_memory_config: {}\n", ToString(d.output_memory_config));
  out += fmt::format("  program_config:       {}\n", ToString(d.linear.program_config));
  out += fmt::format("  memory_config:        {}\n", ToString(d.linear.memory_config));
  out += fmt::format("  compute_kernel_config: {}\n", ToString(d.linear.compute_kernel_config));
  out += fmt::format(
      "  DRAM-sharded matmul (estimate): {} bank workers, each {} N tiles padded to {} "
      "(out_subblock_w {}), {} K blocks of {} tiles\n",
      in.num_worker_cores, in.per_core_N_unpadded, in.per_core_N_compute, in.out_subblock_w,
      in.num_blocks, d.program_config().in0_block_w);
  out += fmt::format(
      "  L1 per worker: in0 {} + in1 {} + out {} = {} B ({} of {} B); output reshard {} B on "
      "each of {} storage cores ({})\n\n",
      Commas(in.in0_cb_bytes), Commas(in.in1_cb_bytes), Commas(in.out_cb_bytes),
      Commas(in.worker_l1_bytes), Percent(in.worker_l1_bytes, l1), Commas(l1),
      Commas(in.output_reshard_cb_bytes), d.output_num_cores,
      Percent(in.output_reshard_cb_bytes, l1));
}

void AppendPrefill(const LmHeadPlan& plan, std::string& out) {
  const PrefillPlan& p = *plan.prefill;
  const auto& pc = p.program_config();
  const CoreCoord grid = plan.mesh.device.core_grid;
  out += fmt::format("Prefill, seq_len {} (ops in order)\n", p.seq_len);
  out += fmt::format(
      "  1. mesh_scatter(x, mesh_shape=({}, {}), scatter_idx=({}, None)): {} "
      "transfers\n",
      plan.mesh.shape.rows, plan.mesh.shape.cols, p.mesh_scatter.from_row,
      p.mesh_scatter.transfers.size());
  if (p.chunked) {
    out += fmt::format("  2. ttnn.reshape(x, [1, {}, 1024, {}])\n", p.num_chunks,
                       plan.model.hidden_size);
  } else {
    out += "  2. no chunking (S <= 1024)\n";
  }
  out += fmt::format("  3. ttnn.linear(x, program_config=_get_prefill_pc(seq_len={}), **linear)\n",
                     p.pc_seq_len);
  out += "  4. ttnn.deallocate(x)\n";
  if (p.chunked) out += fmt::format("  5. ttnn.reshape(y, [1, 1, {}, V/D])\n", p.padded_seq_len);
  out += fmt::format("  program_config: {}\n", ToString(p.linear.program_config));
  out += fmt::format("  memory_config (input, output, linear): {}\n",
                     ToString(p.linear.memory_config));
  out += fmt::format(
      "  grid use: Mt {} per chunk -> num_blocks_y {} of {}; Nt {} -> num_blocks_x "
      "{} of {}\n",
      p.Mt, p.num_blocks_y, grid.y, p.Nt, p.num_blocks_x, grid.x);
  const PrefillL1Estimate& l1 = p.l1;
  out += fmt::format(
      "  L1 per core (estimate): in0 2*{}*{} bf16 tiles {} + in1 2*{}*{} bfp4_b tiles {} + out "
      "{}*{} bf16 tiles {} = {} B, {} of {} B{}\n\n",
      pc.per_core_M, pc.in0_block_w, Commas(l1.in0_cb_bytes), pc.per_core_N, pc.in0_block_w,
      Commas(l1.in1_cb_bytes), pc.per_core_M, pc.per_core_N, Commas(l1.out_cb_bytes),
      Commas(l1.total_bytes), Percent(l1.total_bytes, l1.l1_bytes), Commas(l1.l1_bytes),
      l1.fits ? "" : "  ** exceeds L1 **");
}

void AppendTransfers(const MeshScatterPlan& scatter, std::string& out) {
  out += fmt::format(
      "mesh_scatter transfer schedule (from row {}, Linear topology, TT's call "
      "order)\n",
      scatter.from_row);
  if (scatter.transfers.empty()) {
    out += "  no transfers (the mesh has one row)\n\n";
    return;
  }
  out += "  #    sender   receiver  hops  direction\n";
  int64_t total_hops = 0;
  for (size_t idx = 0; idx < scatter.transfers.size(); ++idx) {
    const PointToPointTransfer& t = scatter.transfers[idx];
    total_hops += t.hops;
    if (idx >= kMaxTransferRows) continue;
    out += fmt::format("  {:<4} ({},{})    ({},{})     {:<5} {} along mesh dim {}\n", idx + 1,
                       t.sender.row, t.sender.col, t.receiver.row, t.receiver.col, t.hops,
                       t.forward ? "forward" : "backward", t.mesh_dim);
  }
  if (scatter.transfers.size() > kMaxTransferRows) {
    out += fmt::format("  ... {} more\n", scatter.transfers.size() - kMaxTransferRows);
  }
  out += fmt::format("  total: {} transfers, {} hops\n\n", scatter.transfers.size(), total_hops);
}

// Which vocab slice each device holds: row-major device order (shard_tensor_to_mesh_mapper).
void AppendVocabSplit(const LmHeadPlan& plan, std::string& out) {
  const int64_t num_devices = plan.mesh.shape.num_devices();
  const int64_t slice = plan.weights.vocab_per_device;
  out +=
      fmt::format("Vocab split (device k at mesh (k / {}, k % {}) holds vocab [k*{}, (k+1)*{}))\n",
                  plan.mesh.shape.cols, plan.mesh.shape.cols, slice, slice);
  constexpr int64_t kPerLine = 4;
  for (int64_t device_idx = 0; device_idx < num_devices; ++device_idx) {
    const MeshCoord coord = DeviceMeshCoord(plan.mesh.shape, device_idx);
    const std::string range = fmt::format("[{}, {})", device_idx * slice, (device_idx + 1) * slice);
    out += fmt::format("{}({},{}) {:<18}", device_idx % kPerLine == 0 ? "  " : "", coord.row,
                       coord.col, range);
    if (device_idx % kPerLine == kPerLine - 1 || device_idx + 1 == num_devices) out += "\n";
  }
  out += "\n";
}

void AppendBanks(const WeightPlan& w, std::string& out) {
  const int64_t bank_bytes = w.Kt * w.shard_width_tiles * kBfloat4bTileBytes;
  out += fmt::format(
      "Weight DRAM bank layout (per device; bank i holds tile-padded columns "
      "[i*{}, (i+1)*{}); {} B of bfloat4_b per bank, {} B per device)\n",
      w.shard_width, w.shard_width, Commas(bank_bytes), Commas(bank_bytes * w.num_dram_banks));
  out += "  bank  columns          real  tile pad  bank pad\n";
  for (const DramBankSlice& bank : w.banks) {
    const char* what = bank.num_real_cols == 0              ? "padding only"
                       : bank.num_real_cols < w.shard_width ? "partly padding"
                                                            : "";
    const std::string columns = fmt::format("[{}, {})", bank.col_begin, bank.col_end);
    out += fmt::format("  {:<5} {:<16} {:<5} {:<9} {:<8} {}\n", bank.bank_idx, columns,
                       bank.num_real_cols, bank.num_tile_padding_cols, bank.num_shard_padding_cols,
                       what);
  }
  out += "\n";
}

}  // namespace

std::string PlanToReport(const LmHeadPlan& plan) {
  std::string out;
  AppendHeader(plan, out);
  AppendExampleTable(plan, out);
  AppendShapes(plan, out);
  if (plan.decode) AppendDecode(plan, out);
  if (plan.prefill) AppendPrefill(plan, out);
  if (plan.prefill) {
    AppendTransfers(plan.prefill->mesh_scatter, out);
  } else if (plan.decode && plan.decode->mesh_scatter.invoked) {
    AppendTransfers(plan.decode->mesh_scatter, out);
  }
  AppendVocabSplit(plan, out);
  AppendBanks(plan.weights, out);
  out += "Notes\n";
  for (const std::string& note : plan.notes) out += fmt::format("  - {}\n", note);
  // Tables pad their last column; drop the trailing blanks.
  std::string trimmed;
  size_t line_begin = 0;
  while (line_begin < out.size()) {
    const size_t line_end = out.find('\n', line_begin);
    std::string_view line(out.data() + line_begin, line_end - line_begin);
    while (!line.empty() && line.back() == ' ') line.remove_suffix(1);
    trimmed.append(line);
    trimmed += '\n';
    line_begin = line_end + 1;
  }
  return trimmed;
}

}  // namespace lmhead
