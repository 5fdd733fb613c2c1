// SPDX-License-Identifier: Apache-2.0
// The planner: HuggingFace model dims + a TT device mesh -> every TTNN config of the LM head.
//
// Design goals:
// - Reproduce the integers, shapes and core ranges TT-Metal's DeepSeek-V3 `LMHead` computes
//   (shared/seed/LMHead_ops.md, shared/spec/ttnn-lmhead.md), for any model dims, mesh, core grid
//   and DRAM bank count.
// - `Plan()` is a pure function: no I/O, no globals. Everything it needs arrives in its arguments;
//   everything downstream code needs (converter, engine) is a plain field of `LmHeadPlan`, filled
//   in once here and never re-derived elsewhere.
// - Three semantics (`CompatMode`): the seed document with TT's intended checks, or one of two
//   TT-Metal versions reproduced exactly, including every failure TT raises on the way.
// Non-goals: running anything, reading weights, choosing configs TT would not choose.
//
// Names of TT types and fields are kept verbatim (`in0_block_w`, `per_core_M`, ...), so a plan can
// be diffed line by line against TT's printout. Thread-compatible: every type here is a value.
#ifndef LMHEAD_PLAN_H_
#define LMHEAD_PLAN_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "lmhead/status.h"

namespace lmhead {

// ---------------------------------------------------------------------------------------------
// TT constants (spec §1).

inline constexpr int64_t kTileSize = 32;           // ttnn.TILE_SIZE: tiles are 32x32.
inline constexpr int64_t kMaxBatchSize = 32;       // MAX_BATCH_SIZE (V3) = USERS_PER_ROW (V4):
                                                   // decode rows, one tile row.
inline constexpr int64_t kSeqLenChunkSize = 1024;  // SEQ_LEN_CHUNK_SIZE = cfg["max_rows"].

// ---------------------------------------------------------------------------------------------
// Inputs.

// The two HuggingFace config.json fields the LM head depends on.
struct ModelDims {
  int64_t hidden_size = 0;  // H: rows of the [H, V] weight (K of the matmul).
  int64_t vocab_size = 0;   // V: columns of the weight, split over the mesh devices.
  std::string name;         // "deepseek-v3", or the config.json path it was read from.
};

// Reads `hidden_size` and `vocab_size` from a HuggingFace config.json. Fails with NotFound for a
// missing file and InvalidArgument for bad JSON or a field that is missing or not a positive
// integer.
Result<ModelDims> LoadModelDims(const std::string& config_path);

// Built-in models by name ("deepseek-v3": 7168 x 129280). Fails with the list of known names.
Result<ModelDims> FindModelPreset(std::string_view name);
std::vector<std::string> ModelPresetNames();

// A Tensix core (x = column, y = row) or a grid size, as TT's CoreCoord.
struct CoreCoord {
  int64_t x = 0;
  int64_t y = 0;
  friend bool operator==(const CoreCoord&, const CoreCoord&) = default;
};

// An inclusive rectangle of cores, as TT's CoreRange.
struct CoreRange {
  CoreCoord start;
  CoreCoord end;
  int64_t num_cores() const { return (end.x - start.x + 1) * (end.y - start.y + 1); }
  friend bool operator==(const CoreRange&, const CoreRange&) = default;
};

// Ranges in TT's order (no merging), as TT's CoreRangeSet.
struct CoreRangeSet {
  std::vector<CoreRange> ranges;
  int64_t num_cores() const;
  friend bool operator==(const CoreRangeSet&, const CoreRangeSet&) = default;
};

// One chip as TTNN reports it (spec §2).
struct DeviceSpec {
  std::string name;            // Preset name, e.g. "wormhole_b0-galaxy".
  std::string arch;            // "wormhole_b0" or "blackhole".
  CoreCoord core_grid;         // compute_with_storage_grid_size() = mesh_device.core_grid.
  int64_t num_dram_banks = 0;  // dram_grid_size().x; dram_grid_size().y is always 1.
  int64_t l1_bytes = 0;        // worker_l1_size per Tensix core.
  std::string description;     // Where the facts come from, for the report.
};

// Device presets: wormhole_b0-galaxy (default), wormhole_b0-n300, wormhole_b0-n150,
// blackhole-p150, blackhole-p150-harvested. Fails for an unknown name, listing the known ones.
Result<DeviceSpec> FindDevicePreset(std::string_view name);
std::vector<std::string> DevicePresetNames();
inline constexpr std::string_view kDefaultDevicePreset = "wormhole_b0-galaxy";

// mesh_device.shape: rows x cols of chips; D = rows * cols.
struct MeshShape {
  int64_t rows = 1;
  int64_t cols = 1;
  int64_t num_devices() const { return rows * cols; }
  friend bool operator==(const MeshShape&, const MeshShape&) = default;
};

// Parses "RxC" (e.g. "4x8") into a mesh shape, "XxY" (e.g. "8x8") into a core grid. Both fail
// with InvalidArgument for malformed text, zero or out-of-range values.
Result<MeshShape> ParseMeshShape(std::string_view text);
Result<CoreCoord> ParseCoreGrid(std::string_view text);

// The mesh the plan is for: its shape and the (identical) chip at every coordinate.
struct MeshDesc {
  MeshShape shape;
  DeviceSpec device;
};

// Which semantics Plan() follows.
enum class CompatMode {
  kSeed,  // The seed document: mesh_scatter in decode, prefill PC from the full seq_len, with TT's
          // intended checks (tile-based divisibility, output-core check on the vocab shard).
  kTtV3,  // tt-metal lm_head.py @ 013cdda4, exactly, including its failures.
  kTtV4,  // tt-metal lm_head.py @ f2e3e3d6, exactly, including its failures.
};
const char* ToString(CompatMode compat);  // "seed", "tt-v3", "tt-v4".
Result<CompatMode> ParseCompatMode(std::string_view text);

// Which paths to plan.
enum class PlanMode { kDecode, kPrefill, kBoth };
const char* ToString(PlanMode mode);  // "decode", "prefill", "both".
Result<PlanMode> ParsePlanMode(std::string_view text);

struct PlanOptions {
  PlanMode mode = PlanMode::kBoth;
  CompatMode compat = CompatMode::kSeed;
  int64_t seq_len = 1024;     // Prefill rows S (per user), >= 1.
  int64_t input_row_idx = 0;  // Mesh row holding the input; mesh_scatter(scatter_idx=(r, None)).
  // decode_model_config's optional overrides; 0 means TT's default (Python's `or` fallback).
  int64_t input_num_cores = 0;
  int64_t output_num_cores = 0;
};

// ---------------------------------------------------------------------------------------------
// TTNN configs as plain data (names verbatim from TTNN).

enum class TensorMemoryLayout { kInterleaved, kWidthSharded, kHeightSharded, kBlockSharded };
enum class BufferType { kDram, kL1 };
enum class ShardOrientation { kRowMajor, kColMajor };
enum class MathFidelity { kLoFi, kHiFi2, kHiFi3, kHiFi4 };
enum class Topology { kLinear, kRing };
const char* ToString(TensorMemoryLayout layout);     // "WIDTH_SHARDED", ...
const char* ToString(BufferType type);               // "DRAM", "L1"
const char* ToString(ShardOrientation orientation);  // "ROW_MAJOR", "COL_MAJOR"
const char* ToString(MathFidelity fidelity);         // "LoFi", "HiFi2", ...
const char* ToString(Topology topology);             // "Linear", "Ring"

struct ShardSpec {
  CoreRangeSet grid;               // Tensix cores (L1) or DRAM bank coordinates (DRAM).
  std::array<int64_t, 2> shape{};  // [height, width] of one shard, in elements.
  ShardOrientation orientation = ShardOrientation::kRowMajor;
  friend bool operator==(const ShardSpec&, const ShardSpec&) = default;
};

struct MemoryConfig {
  TensorMemoryLayout memory_layout = TensorMemoryLayout::kInterleaved;
  BufferType buffer_type = BufferType::kDram;
  std::optional<ShardSpec> shard_spec;  // Empty when interleaved (or "computed by the op").
  friend bool operator==(const MemoryConfig&, const MemoryConfig&) = default;
};

// Decode: ttnn.MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig.
struct MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig {
  int64_t in0_block_w = 0;  // K tiles per inner block.
  int64_t per_core_M = 0;   // M tiles per core (always 1: decode is one tile row).
  int64_t per_core_N = 0;   // N tiles per output *storage* core.
  std::optional<std::string> fused_activation;  // Always None for the LM head.
};

// Prefill: ttnn.MatmulMultiCoreReuseMultiCastProgramConfig (2D multicast).
struct MatmulMultiCoreReuseMultiCastProgramConfig {
  CoreCoord compute_with_storage_grid_size;
  int64_t in0_block_w = 0;
  int64_t out_subblock_h = 0;
  int64_t out_subblock_w = 0;
  int64_t per_core_M = 0;
  int64_t per_core_N = 0;
  bool transpose_mcast = false;
  std::optional<std::string> fused_activation;
  bool fuse_batch = false;
};

using ProgramConfig = std::variant<MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig,
                                   MatmulMultiCoreReuseMultiCastProgramConfig>;
const char* ProgramConfigTypeName(const ProgramConfig& config);  // The TTNN class name.

// ttnn.WormholeComputeKernelConfig; the LM head uses COMPUTE_KERNEL_CONFIG_LOFI (the defaults).
struct WormholeComputeKernelConfig {
  MathFidelity math_fidelity = MathFidelity::kLoFi;
  bool math_approx_mode = false;
  bool fp32_dest_acc_en = false;
  bool packer_l1_acc = true;
  bool dst_full_sync_en = false;  // Not set by TT, so the struct default.
};

// get_dest_reg_count: 16 tiles, halved without dst_full_sync_en, halved again with fp32 (LOFI: 8).
int64_t DestRegCount(const WormholeComputeKernelConfig& config);

// The kwargs of ttnn.linear.
struct LinearConfig {
  ProgramConfig program_config;
  MemoryConfig memory_config;  // Of the output.
  WormholeComputeKernelConfig compute_kernel_config;
};

// AllGatherAsyncConfig: built by TT's LMHead but never invoked (quirk 7).
struct AllGatherConfig {
  int64_t cluster_axis = 1;
  int64_t dim = -1;
  MemoryConfig memory_config;
  Topology topology = Topology::kLinear;
};

// A chip in the mesh, (row, col).
struct MeshCoord {
  int64_t row = 0;
  int64_t col = 0;
  friend bool operator==(const MeshCoord&, const MeshCoord&) = default;
};

// One ttnn.point_to_point call of mesh_scatter (spec §3.12).
struct PointToPointTransfer {
  MeshCoord sender;
  MeshCoord receiver;
  int64_t hops = 0;      // Linear topology over 1D fabric: |delta| along one mesh dim.
  int64_t mesh_dim = 0;  // 0 when sender and receiver share a column, 1 when they share a row.
  bool forward = true;   // Direction: receiver index > sender index.
};

// mesh_scatter(x, mesh_shape, scatter_idx=(from_row, None)): per column, the shard of row
// `from_row` is broadcast to every other row.
struct MeshScatterPlan {
  MeshShape mesh_shape;
  int64_t from_row = 0;             // scatter_idx[0] = input_row_idx.
  std::optional<int64_t> from_col;  // scatter_idx[1]; always None for the LM head.
  Topology topology = Topology::kLinear;
  bool invoked = true;  // False for tt-v3 decode, where the call is commented out (quirk 6).
  // The input is sharded, so it is converted to interleaved (p2p cannot send sharded tensors) and
  // back, then copied into the original buffer.
  bool converts_sharded_input = false;
  std::vector<PointToPointTransfer> transfers;  // In TT's call order.
};

// What one DRAM bank holds of a device's tile-padded [Kt*32, Nt*32] weight (spec §3.5).
struct DramBankSlice {
  int64_t bank_idx = 0;
  int64_t col_begin = 0;               // Columns [col_begin, col_end) of the per-device matrix;
  int64_t col_end = 0;                 // col_end - col_begin = shard width.
  int64_t num_real_cols = 0;           // Columns < V/D: real vocab entries.
  int64_t num_tile_padding_cols = 0;   // In [V/D, Nt*32): tile padding of the last tile.
  int64_t num_shard_padding_cols = 0;  // >= Nt*32: bank padding beyond the tensor.
};

// The per-device LM-head weight: bfloat4_b tiles, DRAM width-sharded over the banks.
struct WeightPlan {
  std::string dtype = "bfloat4_b";
  std::string layout = "TILE";
  std::array<int64_t, 2> per_device_shape{};  // [H, V/D]: logical.
  std::array<int64_t, 2> padded_shape{};      // [Kt*32, Nt*32]: tile padded.
  int64_t vocab_per_device = 0;               // V/D; device k holds vocab [k*V/D, (k+1)*V/D).
  int64_t Kt = 0;                             // divup(H, 32).
  int64_t Nt = 0;                             // divup(V/D, 32).
  int64_t num_dram_banks = 0;
  int64_t shard_width = 0;        // Elements per bank: roundup(divup(V/D, banks), 32).
  int64_t shard_width_tiles = 0;  // shard_width / 32.
  MemoryConfig memory_config;     // dram_sharded_weight_config(H, V/D, dram_grid).
  std::vector<DramBankSlice> banks;
};

// Device k of the row-major device order (shard_tensor_to_mesh_mapper): (k / cols, k % cols).
MeshCoord DeviceMeshCoord(const MeshShape& shape, int64_t device_idx);

// What the TTNN DRAM-sharded matmul factory derives from the decode config (spec §3.14, §4.1).
struct DramShardedMatmulInternals {
  int64_t num_worker_cores = 0;         // One Tensix worker per DRAM bank.
  int64_t per_core_N_unpadded = 0;      // ceil(Nt / banks): in1 columns per worker.
  int64_t out_subblock_w = 0;           // After TT's padding search.
  int64_t per_core_N_compute = 0;       // Padded per-worker output tiles.
  int64_t num_blocks = 0;               // Kt / in0_block_w.
  int64_t in0_cb_bytes = 0;             // 2 * per_core_M * in0_block_w bf16 tiles.
  int64_t in1_cb_bytes = 0;             // 3 * per_core_N_unpadded * in0_block_w bfp4_b tiles.
  int64_t out_cb_bytes = 0;             // per_core_M * per_core_N_compute bf16 tiles (worker).
  int64_t output_reshard_cb_bytes = 0;  // per_core_M * per_core_N bf16 tiles (storage core).
  int64_t worker_l1_bytes = 0;          // in0 + in1 + out: per worker core.
};

struct DecodePlan {
  int64_t M = kMaxBatchSize;  // Rows the config is built for (users); data may be fewer.
  int64_t Mt = 0, Kt = 0, Nt = 0;
  std::array<int64_t, 4> input_shape{};   // [1, 1, 32, H]
  std::array<int64_t, 4> output_shape{};  // [1, 1, 32, V/D]
  int64_t input_num_cores = 0;
  int64_t output_num_cores = 0;
  MeshScatterPlan mesh_scatter;
  MemoryConfig input_memory_config;   // L1 width-sharded over input_num_cores.
  MemoryConfig output_memory_config;  // L1 width-sharded over output_num_cores.
  LinearConfig linear;                // DRAM-sharded program config.
  AllGatherConfig all_gather;
  bool deallocate_input = true;  // ttnn.deallocate(x) after the matmul (not in tt-v4).
  DramShardedMatmulInternals dram_sharded;

  const MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig& program_config() const {
    return std::get<MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig>(linear.program_config);
  }
};

// Circular-buffer L1 use of the 2D multicast prefill matmul per core (spec §3.14, §4.2).
struct PrefillL1Estimate {
  int64_t in0_cb_bytes = 0;  // 2 * per_core_M * in0_block_w bf16 tiles.
  int64_t in1_cb_bytes = 0;  // 2 * per_core_N * in0_block_w bfp4_b tiles.
  int64_t out_cb_bytes = 0;  // per_core_M * per_core_N bf16 tiles (shared with interm0).
  int64_t total_bytes = 0;
  int64_t l1_bytes = 0;  // The device's worker L1.
  bool fits = true;      // total_bytes <= l1_bytes (an estimate: allocatable L1 is smaller).
};

struct PrefillPlan {
  int64_t seq_len = 0;  // S requested.
  int64_t max_rows = kSeqLenChunkSize;
  int64_t padded_seq_len = 0;  // Rows the matmul sees: S, or roundup(S, 1024) when padded.
  bool chunked = false;        // padded_seq_len > 1024: reshape to [1, num_chunks, 1024, H].
  int64_t num_chunks = 1;
  int64_t chunk_rows = 0;                // Rows per batch of the matmul: min(padded_seq_len, 1024).
  int64_t pc_seq_len = 0;                // seq_len _get_prefill_pc is called with (full or chunk).
  int64_t Mt = 0, Kt = 0, Nt = 0;        // Mt per batch (fuse_batch = False).
  int64_t num_blocks_x = 0;              // ceil(Nt / per_core_N) <= grid.x
  int64_t num_blocks_y = 0;              // ceil(Mt / per_core_M) <= grid.y
  std::array<int64_t, 4> input_shape{};  // Of the matmul: [1, num_chunks, chunk_rows, H].
  std::array<int64_t, 4> output_shape{};  // After de-chunking: [1, 1, padded_seq_len, V/D].
  MeshScatterPlan mesh_scatter;
  MemoryConfig input_memory_config;   // DRAM interleaved.
  MemoryConfig output_memory_config;  // DRAM interleaved.
  LinearConfig linear;                // 2D multicast program config.
  AllGatherConfig all_gather;
  bool deallocate_input = true;
  PrefillL1Estimate l1;

  const MatmulMultiCoreReuseMultiCastProgramConfig& program_config() const {
    return std::get<MatmulMultiCoreReuseMultiCastProgramConfig>(linear.program_config);
  }
};

// Everything the LM head needs on one mesh. Decode/prefill are present as PlanOptions::mode asks.
struct LmHeadPlan {
  ModelDims model;
  MeshDesc mesh;
  PlanOptions options;
  WeightPlan weights;
  std::optional<DecodePlan> decode;
  std::optional<PrefillPlan> prefill;
  std::vector<std::string> notes;  // One per quirk or estimate that applies, for people.
};

// ---------------------------------------------------------------------------------------------
// Planning.

// Derives every config. Fails with InvalidArgument naming the rule (in tt-v3/tt-v4 mode the TT
// check that fails, in TT's order), the values, and a fix (e.g. a vocab padding that works).
Result<LmHeadPlan> Plan(const ModelDims& model, const MeshDesc& mesh, const PlanOptions& options);

// Checks a plan against the rules TTNN's matmul validates (spec §3.14); Plan() output passes.
Status ValidatePlan(const LmHeadPlan& plan);

// The smallest V' >= vocab_size with V' % (num_devices * multiple_per_device) == 0. With the
// default multiple (32) every device's vocab slice is tile aligned; with 1, V' only divides evenly.
int64_t SuggestPaddedVocab(int64_t vocab_size, int64_t num_devices,
                           int64_t multiple_per_device = kTileSize);

// The structure of `lmhead plan --json` (see docs/plan_fields.md), pretty-printed.
std::string PlanToJson(const LmHeadPlan& plan);

// A report for people bringing up a model: the seed's example table, per-device shapes, the
// mesh_scatter schedule, the DRAM bank layout, L1 estimates and notes.
std::string PlanToReport(const LmHeadPlan& plan);

// TT-style one-line dumps, e.g.
// "MemoryConfig(memory_layout=TensorMemoryLayout::WIDTH_SHARDED,...)".
std::string ToString(const CoreRangeSet& set);
std::string ToString(const MemoryConfig& config);
std::string ToString(const ProgramConfig& config);
std::string ToString(const WormholeComputeKernelConfig& config);

}  // namespace lmhead

#endif  // LMHEAD_PLAN_H_
