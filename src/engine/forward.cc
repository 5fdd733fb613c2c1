// SPDX-License-Identifier: Apache-2.0
// The decode and prefill paths of the seed, op for op, and the combine after them.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "engine/forward_combine.h"
#include "engine/lm_head_impl.h"
#include "lmhead/formats.h"
#include "mesh/mesh_scatter.h"

namespace lmhead {
namespace {

constexpr int kMaxTopK = 1024;  // Candidates per device per row; enough for any sampler.

using Clock = std::chrono::steady_clock;
double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

Status ValidateForwardOptions(const ForwardOptions& options) {
  if (options.reduction == Reduction::kTopK && (options.k < 1 || options.k > kMaxTopK)) {
    return Status::InvalidArgument(fmt::format(
        "[LmHead] top-k needs 1 <= k <= {} (k={}); use a smaller k", kMaxTopK, options.k));
  }
  return Status::Ok();
}

// Rows [first_row, first_row + num_rows) of x as bf16 (round to nearest even
// for fp32 input), followed by zero rows up to padded_rows: TT's padded input.
Result<std::vector<uint16_t>> InputAsBf16(const Activations& x, int64_t hidden_size,
                                          int64_t first_row, int64_t num_rows, int64_t padded_rows,
                                          bool allow_nonfinite) {
  const bool is_fp32 = !x.fp32.empty();
  const size_t have = is_fp32 ? x.fp32.size() : x.bf16.size();
  if (x.cols != hidden_size || x.rows < 1 || have != static_cast<size_t>(x.rows * x.cols)) {
    return Status::InvalidArgument(fmt::format(
        "[LmHead] activations must be [rows >= 1, hidden_size={}] (got [{}, {}] holding {} "
        "values); pass the final hidden states of the model",
        hidden_size, x.rows, x.cols, have));
  }
  const std::array<int64_t, 2> dims{x.rows, x.cols};
  if (!allow_nonfinite) {
    LMHEAD_RETURN_IF_ERROR(is_fp32 ? CheckFinite(x.fp32, dims) : CheckFiniteBf16(x.bf16, dims));
  }
  std::vector<uint16_t> rows(static_cast<size_t>(padded_rows * hidden_size), 0);
  const size_t begin = static_cast<size_t>(first_row * hidden_size);
  const size_t count = static_cast<size_t>(num_rows * hidden_size);
  if (is_fp32) {
    for (size_t idx = 0; idx < count; ++idx) rows[idx] = Fp32ToBf16(x.fp32[begin + idx]);
  } else {
    std::memcpy(rows.data(), x.bf16.data() + begin, count * sizeof(uint16_t));
  }
  return rows;
}

// The host writes the input to the devices of row from_row (or to every device
// when mesh_scatter is not invoked, as TT's test replicates it), then
// mesh_scatter brings it to the other rows. Each process writes its own devices.
Result<MeshTensor> PlaceInput(MeshDevice& mesh, std::vector<uint16_t> rows, TensorSpec spec,
                              const MeshScatterPlan& scatter) {
  MeshTensor x = mesh.Allocate(spec);
  auto bytes = std::make_shared<std::vector<std::byte>>(rows.size() * sizeof(uint16_t));
  std::memcpy(bytes->data(), rows.data(), bytes->size());
  const Blob blob = std::move(bytes);  // shared by every device written below
  for (int64_t device_idx = 0; device_idx < mesh.num_devices(); ++device_idx) {
    const bool source_row = DeviceMeshCoord(mesh.shape(), device_idx).row == scatter.from_row;
    if (mesh.IsLocal(device_idx) && (source_row || !scatter.invoked)) {
      LMHEAD_RETURN_IF_ERROR(mesh.Write(x, device_idx, blob));
    }
  }
  mesh.RecordOp({"ttnn.from_torch",
                 fmt::format("shape=[{}, {}, {}, {}], dtype=BFLOAT16, layout=TILE, to mesh row {}",
                             spec.shape[0], spec.shape[1], spec.shape[2], spec.shape[3],
                             scatter.invoked ? std::to_string(scatter.from_row) : "all"),
                 0, 0});
  LMHEAD_RETURN_IF_ERROR(MeshScatter(mesh, x, scatter));
  return x;
}

// ttnn.linear on this process's devices over `num_rows` rows of `x`, in passes
// of at most pass_rows rows, then the combine. Logits are written straight
// into their concatenated place (result.logits when this process holds every
// device, else its slab for the gather); reductions use a scratch of one pass.
Status LinearAndCombine(LmHead::Impl& impl, const MeshTensor& x, int64_t num_rows,
                        int64_t pass_rows, bool decode, const LofiOptions& lofi,
                        const ForwardOptions& options, ForwardResult& result) {
  const int64_t hidden = impl.plan.model.hidden_size;
  const int64_t cols = impl.plan.model.vocab_size / impl.ranks.num_mesh_devices;
  const int64_t num_local = impl.ranks.num_local_devices();
  const int64_t stride = num_local * cols;  // V when this process holds every device.
  std::vector<const uint16_t*> inputs;
  for (int64_t local_idx = 0; local_idx < num_local; ++local_idx) {
    LMHEAD_ASSIGN_OR_RETURN(std::span<const std::byte> bytes,
                            impl.mesh->Read(x, impl.ranks.first_device() + local_idx));
    inputs.push_back(reinterpret_cast<const uint16_t*>(bytes.data()));
  }
  const bool full_logits = options.reduction == Reduction::kLogits;
  LogitBuffer slab;
  LogitBuffer& logits = impl.ranks.distributed() ? slab : result.logits;
  if (full_logits && options.reuse_logits != nullptr && !impl.ranks.distributed()) {
    logits = std::move(*options.reuse_logits);
    options.reuse_logits->clear();
    logits.clear();  // Keeps the storage; a growing resize then copies nothing.
  }
  // Not zeroed: the passes below write every element.
  if (full_logits) logits.resize(static_cast<size_t>(num_rows * stride));
  std::vector<float> scratch;
  if (!full_logits) scratch.resize(static_cast<size_t>(std::min(pass_rows, num_rows) * stride));

  for (int64_t row_begin = 0, pass_len = 0; row_begin < num_rows; row_begin += pass_len) {
    pass_len = std::min(pass_rows, num_rows - row_begin);
    float* out = full_logits ? logits.data() + row_begin * stride : scratch.data();
    MeshMatmulCall call;
    call.m = pass_len;
    call.decode = decode;
    call.lofi = lofi;
    call.y_stride = stride;
    for (int64_t local_idx = 0; local_idx < num_local; ++local_idx) {
      call.x.push_back(inputs[static_cast<size_t>(local_idx)] + row_begin * hidden);
      call.y.push_back(out + local_idx * cols);
    }
    auto start = Clock::now();
    impl.matmul->Run(call, *impl.pool);
    result.times.matmul += SecondsSince(start);
    start = Clock::now();
    if (!full_logits) {
      LMHEAD_RETURN_IF_ERROR(ReducePass(impl, out, stride, row_begin, pass_len, options, result));
    }
    result.times.combine += SecondsSince(start);
  }
  const auto start = Clock::now();
  LMHEAD_RETURN_IF_ERROR(FinishLogits(impl, std::move(slab), options, result));
  result.times.combine += SecondsSince(start);
  return Status::Ok();
}

void FinishTrace(LmHead::Impl& impl, ForwardResult& result, Clock::time_point start) {
  for (const OpRecord& record : impl.mesh->trace()) {
    result.trace.push_back(fmt::format("{}({})", record.op, record.detail));
    if (record.op == "ttnn.point_to_point") {
      result.num_transfers += 1;
      result.transfer_bytes += record.bytes_moved;
    }
  }
  result.scatter_network = impl.mesh->network();
  impl.mesh->ClearTrace();
  // This process's share: all of it unless the mesh spans processes.
  result.weight_bytes = impl.matmul->weight_bytes();
  result.flops = 2.0 * static_cast<double>(result.rows) *
                 static_cast<double>(impl.plan.model.hidden_size) *
                 static_cast<double>(impl.plan.model.vocab_size) /
                 static_cast<double>(impl.ranks.num_processes);
  result.times.total = SecondsSince(start);
}

std::string LinearRecord(const LinearConfig& linear, int64_t rows) {
  return fmt::format("rows={}, program_config={}, memory_config={}, compute_kernel_config={}", rows,
                     ToString(linear.program_config), ToString(linear.memory_config),
                     ToString(linear.compute_kernel_config));
}

// The decode input as TT's padded bf16 rows, after every per-call check.
Result<std::vector<uint16_t>> DecodeInput(const LmHead::Impl& impl, const Activations& x,
                                          const ForwardOptions& options) {
  LMHEAD_RETURN_IF_ERROR(ValidateForwardOptions(options));
  const DecodePlan& plan = *impl.plan.decode;
  if (x.rows > plan.M) {
    return Status::InvalidArgument(fmt::format(
        "[Decode] {} rows exceed MAX_BATCH_SIZE={} (decode is one tile row of users); split "
        "the batch or use prefill",
        x.rows, plan.M));
  }
  return InputAsBf16(x, impl.plan.model.hidden_size, 0, x.rows, plan.M, options.allow_nonfinite);
}

struct PrefillInput {
  LmHeadPlan planned;  // Its prefill plan is set.
  int64_t seq_len = 0;
  std::vector<uint16_t> rows;
};

// The prefill plan for this call and its padded bf16 input rows.
Result<PrefillInput> PrefillInputOf(const LmHead::Impl& impl, const Activations& x,
                                    const ForwardOptions& options) {
  LMHEAD_RETURN_IF_ERROR(ValidateForwardOptions(options));
  PrefillInput input;
  // Production stacks slice the last position before the head; the head then
  // runs a one-row prefill with the config planned for it.
  const int64_t first_row = options.last_token_only ? x.rows - 1 : 0;
  input.seq_len = options.last_token_only ? 1 : x.rows;
  PlanOptions plan_options = impl.plan.options;
  plan_options.mode = PlanMode::kPrefill;
  plan_options.seq_len = std::max<int64_t>(input.seq_len, 1);
  // The program config depends on S (per_core_M), so prefill plans per call (microseconds).
  LMHEAD_ASSIGN_OR_RETURN(input.planned, Plan(impl.plan.model, impl.plan.mesh, plan_options));
  if (!input.planned.prefill.has_value()) {
    return Status::Internal("[Prefill] the planner returned no prefill plan for mode=prefill");
  }
  LMHEAD_ASSIGN_OR_RETURN(
      input.rows,
      InputAsBf16(x, impl.plan.model.hidden_size, std::max<int64_t>(first_row, 0), input.seq_len,
                  input.planned.prefill->padded_seq_len, options.allow_nonfinite));
  return input;
}

}  // namespace

Result<ForwardResult> RunDecode(LmHead::Impl& impl, const Activations& x,
                                const ForwardOptions& options) {
  const auto start = Clock::now();
  impl.mesh->ClearTrace();
  const DecodePlan& plan = *impl.plan.decode;
  Result<std::vector<uint16_t>> input_rows = DecodeInput(impl, x, options);
  // Each process checked its own copy of the input: one bad copy stops them all.
  LMHEAD_RETURN_IF_ERROR(impl.comm->Agree(input_rows.status(), "LmHead::Decode"));
  ForwardResult result;
  PrepareOutputs(impl, x.rows, options, result);

  auto stage = Clock::now();
  TensorSpec spec{plan.input_shape, DType::kBf16, plan.input_memory_config};
  LMHEAD_ASSIGN_OR_RETURN(MeshTensor input, PlaceInput(*impl.mesh, std::move(input_rows).value(),
                                                       spec, plan.mesh_scatter));
  result.times.scatter = SecondsSince(stage);

  // Only the caller's rows are computed: the padding rows are zeros whose
  // logits (zeros) nobody reads.
  impl.mesh->RecordOp({"ttnn.linear", LinearRecord(plan.linear, plan.M), 0, 0});
  const LofiOptions lofi{plan.program_config().in0_block_w,
                         plan.linear.compute_kernel_config.packer_l1_acc};
  LMHEAD_RETURN_IF_ERROR(
      LinearAndCombine(impl, input, x.rows, plan.M, /*decode=*/true, lofi, options, result));
  LMHEAD_RETURN_IF_ERROR(impl.mesh->Deallocate(input));
  if (!plan.deallocate_input) {
    // tt-v4 leaves x to Python's garbage collector; the emulator frees it here.
    impl.mesh->RecordOp({"(tt-v4: no ttnn.deallocate(x) in forward_decode)", "", 0, 0});
  }
  FinishTrace(impl, result, start);
  return result;
}

Result<ForwardResult> RunPrefill(LmHead::Impl& impl, const Activations& x,
                                 const ForwardOptions& options) {
  const auto start = Clock::now();
  impl.mesh->ClearTrace();
  Result<PrefillInput> prepared = PrefillInputOf(impl, x, options);
  LMHEAD_RETURN_IF_ERROR(impl.comm->Agree(prepared.status(), "LmHead::Prefill"));
  const PrefillPlan& plan = prepared->planned.prefill.value();
  const int64_t seq_len = prepared->seq_len;
  const int64_t hidden = impl.plan.model.hidden_size;
  ForwardResult result;
  PrepareOutputs(impl, seq_len, options, result);

  auto stage = Clock::now();
  TensorSpec spec{{1, 1, plan.padded_seq_len, hidden}, DType::kBf16, plan.input_memory_config};
  LMHEAD_ASSIGN_OR_RETURN(
      MeshTensor input, PlaceInput(*impl.mesh, std::move(prepared->rows), spec, plan.mesh_scatter));
  result.times.scatter = SecondsSince(stage);
  if (plan.chunked) {
    impl.mesh->RecordOp({"ttnn.reshape",
                         fmt::format("[1, {}, {}, {}]", plan.num_chunks, plan.chunk_rows, hidden),
                         0, 0});
  }
  impl.mesh->RecordOp({"ttnn.linear", LinearRecord(plan.linear, plan.padded_seq_len), 0, 0});
  // Chunks are independent rows, so one chunk is one pass; rows past S are the
  // zero padding and are not computed.
  const LofiOptions lofi{plan.program_config().in0_block_w,
                         plan.linear.compute_kernel_config.packer_l1_acc};
  LMHEAD_RETURN_IF_ERROR(LinearAndCombine(impl, input, seq_len, plan.chunk_rows,
                                          /*decode=*/false, lofi, options, result));
  LMHEAD_RETURN_IF_ERROR(impl.mesh->Deallocate(input));
  if (plan.chunked) {
    impl.mesh->RecordOp({"ttnn.reshape",
                         fmt::format("[1, 1, {}, {}] (de-chunk; padding rows "
                                     "beyond S={} dropped)",
                                     plan.padded_seq_len, plan.output_shape[3], seq_len),
                         0, 0});
  }
  FinishTrace(impl, result, start);
  return result;
}

}  // namespace lmhead
