// SPDX-License-Identifier: Apache-2.0
// PlanToJson: the `lmhead plan --json` structure (docs/plan_fields.md), TTNN names verbatim.
#include <nlohmann/json.hpp>
#include <string>

#include "lmhead/plan.h"

namespace lmhead {
namespace {

using Json = nlohmann::ordered_json;

Json ToJson(CoreCoord coord) { return Json::array({coord.x, coord.y}); }
Json ToJson(MeshCoord coord) { return Json::array({coord.row, coord.col}); }

Json ToJson(const CoreRangeSet& set) {
  Json ranges = Json::array();
  for (const CoreRange& range : set.ranges) {
    ranges.push_back(Json::array({ToJson(range.start), ToJson(range.end)}));
  }
  return ranges;
}

Json ToJson(const MemoryConfig& config) {
  Json shard_spec = nullptr;
  if (config.shard_spec) {
    shard_spec = {{"grid", ToJson(config.shard_spec->grid)},
                  {"shape", config.shard_spec->shape},
                  {"orientation", ToString(config.shard_spec->orientation)}};
  }
  return {{"memory_layout", ToString(config.memory_layout)},
          {"buffer_type", ToString(config.buffer_type)},
          {"shard_spec", shard_spec}};
}

Json OptionalString(const std::optional<std::string>& value) {
  return value ? Json(*value) : Json(nullptr);
}

Json ToJson(const ProgramConfig& config) {
  Json json = {{"type", ProgramConfigTypeName(config)}};
  if (const auto* dram =
          std::get_if<MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig>(&config)) {
    json["in0_block_w"] = dram->in0_block_w;
    json["per_core_M"] = dram->per_core_M;
    json["per_core_N"] = dram->per_core_N;
    json["fused_activation"] = OptionalString(dram->fused_activation);
    return json;
  }
  const auto& mcast = std::get<MatmulMultiCoreReuseMultiCastProgramConfig>(config);
  json["compute_with_storage_grid_size"] = ToJson(mcast.compute_with_storage_grid_size);
  json["in0_block_w"] = mcast.in0_block_w;
  json["out_subblock_h"] = mcast.out_subblock_h;
  json["out_subblock_w"] = mcast.out_subblock_w;
  json["per_core_M"] = mcast.per_core_M;
  json["per_core_N"] = mcast.per_core_N;
  json["transpose_mcast"] = mcast.transpose_mcast;
  json["fused_activation"] = OptionalString(mcast.fused_activation);
  json["fuse_batch"] = mcast.fuse_batch;
  return json;
}

Json ToJson(const WormholeComputeKernelConfig& config) {
  return {{"math_fidelity", ToString(config.math_fidelity)},
          {"math_approx_mode", config.math_approx_mode},
          {"fp32_dest_acc_en", config.fp32_dest_acc_en},
          {"packer_l1_acc", config.packer_l1_acc},
          {"dst_full_sync_en", config.dst_full_sync_en}};
}

Json ToJson(const LinearConfig& linear) {
  return {{"program_config", ToJson(linear.program_config)},
          {"memory_config", ToJson(linear.memory_config)},
          {"compute_kernel_config", ToJson(linear.compute_kernel_config)}};
}

Json ToJson(const AllGatherConfig& config) {
  return {{"cluster_axis", config.cluster_axis},
          {"dim", config.dim},
          {"memory_config", ToJson(config.memory_config)},
          {"topology", ToString(config.topology)},
          {"invoked", false}};
}

Json ToJson(const MeshScatterPlan& scatter) {
  Json transfers = Json::array();
  for (const PointToPointTransfer& transfer : scatter.transfers) {
    transfers.push_back({{"sender", ToJson(transfer.sender)},
                         {"receiver", ToJson(transfer.receiver)},
                         {"hops", transfer.hops},
                         {"mesh_dim", transfer.mesh_dim},
                         {"direction", transfer.forward ? "forward" : "backward"}});
  }
  return {{"mesh_shape", {scatter.mesh_shape.rows, scatter.mesh_shape.cols}},
          {"scatter_idx",
           {scatter.from_row, scatter.from_col ? Json(*scatter.from_col) : Json(nullptr)}},
          {"topology", ToString(scatter.topology)},
          {"invoked", scatter.invoked},
          {"converts_sharded_input", scatter.converts_sharded_input},
          {"transfers", transfers}};
}

Json ToJson(const WeightPlan& weights) {
  Json banks = Json::array();
  for (const DramBankSlice& bank : weights.banks) {
    banks.push_back({{"bank", bank.bank_idx},
                     {"columns", {bank.col_begin, bank.col_end}},
                     {"real_cols", bank.num_real_cols},
                     {"tile_padding_cols", bank.num_tile_padding_cols},
                     {"shard_padding_cols", bank.num_shard_padding_cols}});
  }
  return {{"dtype", weights.dtype},
          {"layout", weights.layout},
          {"per_device_shape", weights.per_device_shape},
          {"padded_shape", weights.padded_shape},
          {"memory_config", ToJson(weights.memory_config)},
          {"Kt", weights.Kt},
          {"Nt", weights.Nt},
          {"num_dram_banks", weights.num_dram_banks},
          {"shard_width", weights.shard_width},
          {"banks", banks}};
}

Json ToJson(const DramShardedMatmulInternals& internals) {
  return {{"num_worker_cores", internals.num_worker_cores},
          {"per_core_N_unpadded", internals.per_core_N_unpadded},
          {"out_subblock_w", internals.out_subblock_w},
          {"per_core_N_compute", internals.per_core_N_compute},
          {"num_blocks", internals.num_blocks},
          {"in0_cb_bytes", internals.in0_cb_bytes},
          {"in1_cb_bytes", internals.in1_cb_bytes},
          {"out_cb_bytes", internals.out_cb_bytes},
          {"worker_l1_bytes", internals.worker_l1_bytes},
          {"output_reshard_cb_bytes", internals.output_reshard_cb_bytes}};
}

Json ToJson(const DecodePlan& decode) {
  return {{"M", decode.M},
          {"Mt", decode.Mt},
          {"Kt", decode.Kt},
          {"Nt", decode.Nt},
          {"input_shape", decode.input_shape},
          {"output_shape", decode.output_shape},
          {"input_num_cores", decode.input_num_cores},
          {"output_num_cores", decode.output_num_cores},
          {"mesh_scatter", ToJson(decode.mesh_scatter)},
          {"input_memory_config", ToJson(decode.input_memory_config)},
          {"output_memory_config", ToJson(decode.output_memory_config)},
          {"linear", ToJson(decode.linear)},
          {"all_gather", ToJson(decode.all_gather)},
          {"deallocate_input", decode.deallocate_input},
          {"dram_sharded_matmul", ToJson(decode.dram_sharded)}};
}

Json ToJson(const PrefillPlan& prefill) {
  const PrefillL1Estimate& l1 = prefill.l1;
  return {{"seq_len", prefill.seq_len},
          {"max_rows", prefill.max_rows},
          {"padded_seq_len", prefill.padded_seq_len},
          {"chunked", prefill.chunked},
          {"num_chunks", prefill.num_chunks},
          {"chunk_rows", prefill.chunk_rows},
          {"pc_seq_len", prefill.pc_seq_len},
          {"Mt", prefill.Mt},
          {"Kt", prefill.Kt},
          {"Nt", prefill.Nt},
          {"num_blocks_x", prefill.num_blocks_x},
          {"num_blocks_y", prefill.num_blocks_y},
          {"input_shape", prefill.input_shape},
          {"output_shape", prefill.output_shape},
          {"mesh_scatter", ToJson(prefill.mesh_scatter)},
          {"input_memory_config", ToJson(prefill.input_memory_config)},
          {"output_memory_config", ToJson(prefill.output_memory_config)},
          {"linear", ToJson(prefill.linear)},
          {"all_gather", ToJson(prefill.all_gather)},
          {"deallocate_input", prefill.deallocate_input},
          {"l1_estimate",
           {{"in0_cb_bytes", l1.in0_cb_bytes},
            {"in1_cb_bytes", l1.in1_cb_bytes},
            {"out_cb_bytes", l1.out_cb_bytes},
            {"total_bytes", l1.total_bytes},
            {"l1_bytes", l1.l1_bytes},
            {"fits", l1.fits}}}};
}

// Strings up to this length stay inline in a compact array (e.g. ["LoFi"]); notes do not.
constexpr size_t kMaxInlineString = 32;

// True for values printed on one line: numbers, booleans, null, short strings, and arrays of
// those (shapes, coordinates, core ranges).
bool IsCompact(const Json& json) {
  if (json.is_object()) return false;
  if (json.is_string()) return json.get_ref<const std::string&>().size() <= kMaxInlineString;
  if (!json.is_array()) return true;
  for (const Json& element : json) {
    if (!IsCompact(element)) return false;
  }
  return true;
}

void Compact(const Json& json, std::string& out) {
  if (!json.is_array()) {
    out += json.dump();
    return;
  }
  out += '[';
  for (size_t idx = 0; idx < json.size(); ++idx) {
    if (idx > 0) out += ", ";
    Compact(json[idx], out);
  }
  out += ']';
}

// Table rows (a transfer, a bank) print on one line when they fit this width.
constexpr size_t kMaxInlineRow = 120;

// {"k": v, ...} on one line if the object is flat (all values compact) and short.
bool InlineRow(const Json& json, std::string& out) {
  if (!json.is_object()) return false;
  std::string row = "{";
  for (auto it = json.begin(); it != json.end(); ++it) {
    if (!IsCompact(*it)) return false;
    if (row.size() > 1) row += ", ";
    row += Json(it.key()).dump() + ": ";
    Compact(*it, row);
  }
  row += "}";
  if (row.size() > kMaxInlineRow) return false;
  out += row;
  return true;
}

// Like json.dump(2), but shapes, core ranges and table rows (transfers, banks) stay on one line
// so a plan reads like TT's dump.
void Pretty(const Json& json, int indent, std::string& out) {
  if (!json.is_structured() || IsCompact(json)) {
    Compact(json, out);
    return;
  }
  if (indent > 0 && json.is_object() && InlineRow(json, out)) return;
  const bool is_object = json.is_object();
  const std::string pad(static_cast<size_t>(indent + 2), ' ');
  out += is_object ? "{\n" : "[\n";
  size_t idx = 0;
  for (auto it = json.begin(); it != json.end(); ++it, ++idx) {
    out += pad;
    if (is_object) out += Json(it.key()).dump() + ": ";
    Pretty(*it, indent + 2, out);
    out += idx + 1 < json.size() ? ",\n" : "\n";
  }
  out += std::string(static_cast<size_t>(indent), ' ') + (is_object ? "}" : "]");
}

}  // namespace

std::string PlanToJson(const LmHeadPlan& plan) {
  const DeviceSpec& device = plan.mesh.device;
  Json json = {
      {"compat", ToString(plan.options.compat)},
      {"mode", ToString(plan.options.mode)},
      {"model",
       {{"name", plan.model.name},
        {"hidden_size", plan.model.hidden_size},
        {"vocab_size", plan.model.vocab_size}}},
      {"mesh",
       {{"shape", {plan.mesh.shape.rows, plan.mesh.shape.cols}},
        {"num_devices", plan.mesh.shape.num_devices()},
        {"device", device.name},
        {"arch", device.arch},
        {"core_grid", ToJson(device.core_grid)},
        {"dram_grid", {device.num_dram_banks, 1}},
        {"l1_bytes", device.l1_bytes}}},
      {"weights", ToJson(plan.weights)},
      {"decode", plan.decode ? ToJson(*plan.decode) : Json(nullptr)},
      {"prefill", plan.prefill ? ToJson(*plan.prefill) : Json(nullptr)},
      {"notes", plan.notes},
  };
  std::string out;
  Pretty(json, 0, out);
  return out + "\n";
}

}  // namespace lmhead
