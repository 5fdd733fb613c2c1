// SPDX-License-Identifier: Apache-2.0
// The combine: per-device partials, their gather to rank 0, exact merges in device order.
#include "engine/forward_combine.h"

#include <cstring>
#include <limits>
#include <span>

#include "engine/combine.h"
#include "mesh/device_gather.h"

namespace lmhead {
namespace {

// Fills a device's unused top-k slots (a device holding fewer than k real
// tokens, e.g. --pad-vocab columns): no token has id -1, so these never merge.
constexpr Candidate kNoCandidate{std::numeric_limits<float>::quiet_NaN(), 0, -1};

int64_t DeviceCols(const LmHead::Impl& impl) {
  return impl.plan.model.vocab_size / impl.ranks.num_mesh_devices;
}

// This process's blocks [rows][local devices][per_device] as every device's
// [rows][devices][per_device] at rank 0 (empty on the other ranks). With one
// process the local blocks already are every device's.
template <typename Vector>
Result<Vector> GatherBlocks(LmHead::Impl& impl, Vector local, int64_t rows, int64_t per_device,
                            ForwardResult& result) {
  using T = typename Vector::value_type;
  if (!impl.ranks.distributed()) return local;
  const bool root = impl.ranks.process_rank == 0;
  Vector all(root ? static_cast<size_t>(rows * impl.ranks.num_mesh_devices * per_device) : 0);
  LMHEAD_RETURN_IF_ERROR(GatherDeviceBlocks(
      *impl.comm, impl.ranks, impl.mesh->shape(), rows, static_cast<size_t>(per_device) * sizeof(T),
      std::as_bytes(std::span<const T>(local)), std::as_writable_bytes(std::span<T>(all)),
      result.combine_network));
  return all;
}

Status TopKPass(LmHead::Impl& impl, const float* logits, int64_t stride, int64_t row_begin,
                int64_t num_rows, int k, ForwardResult& result) {
  const int64_t num_local = impl.ranks.num_local_devices();
  const int64_t cols = DeviceCols(impl);
  const size_t slots = static_cast<size_t>(k);
  std::vector<Candidate> local(static_cast<size_t>(num_rows * num_local) * slots, kNoCandidate);
  for (int64_t row = 0; row < num_rows; ++row) {
    for (int64_t local_idx = 0; local_idx < num_local; ++local_idx) {
      // Only real vocabulary competes: --pad-vocab columns never win.
      const int64_t valid = impl.shards[static_cast<size_t>(local_idx)].valid_cols();
      const int64_t device_idx = impl.ranks.first_device() + local_idx;
      const std::vector<Candidate> best =
          SelectTopK({logits + row * stride + local_idx * cols, static_cast<size_t>(valid)},
                     device_idx * cols, k);
      std::copy(best.begin(), best.end(),
                local.begin() + static_cast<std::ptrdiff_t>((row * num_local + local_idx)) *
                                    static_cast<std::ptrdiff_t>(slots));
    }
  }
  LMHEAD_ASSIGN_OR_RETURN(std::vector<Candidate> all,
                          GatherBlocks(impl, std::move(local), num_rows, k, result));
  if (all.empty()) return Status::Ok();  // Rank 0 merges.
  const int64_t num_devices = impl.ranks.num_mesh_devices;
  for (int64_t row = 0; row < num_rows; ++row) {
    std::vector<std::vector<Candidate>> partials(static_cast<size_t>(num_devices));
    for (int64_t device_idx = 0; device_idx < num_devices; ++device_idx) {
      const size_t at = static_cast<size_t>(row * num_devices + device_idx) * slots;
      for (size_t slot = 0; slot < slots && all[at + slot].token_id >= 0; ++slot) {
        partials[static_cast<size_t>(device_idx)].push_back(all[at + slot]);
      }
    }
    const std::vector<Candidate> best = MergeTopK(partials, k);
    for (size_t rank = 0; rank < best.size(); ++rank) {
      const size_t at = static_cast<size_t>((row_begin + row) * k) + rank;
      result.token_ids[at] = best[rank].token_id;
      result.values[at] = best[rank].value;
    }
  }
  return Status::Ok();
}

Status LogSumExpPass(LmHead::Impl& impl, const float* logits, int64_t stride, int64_t row_begin,
                     int64_t num_rows, ForwardResult& result) {
  const int64_t num_local = impl.ranks.num_local_devices();
  const int64_t cols = DeviceCols(impl);
  std::vector<LogSumExpPartial> local(static_cast<size_t>(num_rows * num_local));
  for (int64_t row = 0; row < num_rows; ++row) {
    for (int64_t local_idx = 0; local_idx < num_local; ++local_idx) {
      const int64_t valid = impl.shards[static_cast<size_t>(local_idx)].valid_cols();
      local[static_cast<size_t>(row * num_local + local_idx)] =
          PartialLogSumExp({logits + row * stride + local_idx * cols, static_cast<size_t>(valid)});
    }
  }
  LMHEAD_ASSIGN_OR_RETURN(std::vector<LogSumExpPartial> all,
                          GatherBlocks(impl, std::move(local), num_rows, 1, result));
  if (all.empty()) return Status::Ok();
  const int64_t num_devices = impl.ranks.num_mesh_devices;
  for (int64_t row = 0; row < num_rows; ++row) {
    // Merged in device order on every mesh split: the same doubles, the same result.
    LogSumExpPartial total;
    for (int64_t device_idx = 0; device_idx < num_devices; ++device_idx) {
      total = MergeLogSumExp(total, all[static_cast<size_t>(row * num_devices + device_idx)]);
    }
    result.logsumexp[static_cast<size_t>(row_begin + row)] = FinishLogSumExp(total);
  }
  return Status::Ok();
}

}  // namespace

void PrepareOutputs(const LmHead::Impl& impl, int64_t rows, const ForwardOptions& options,
                    ForwardResult& result) {
  result.rows = rows;
  result.vocab_size = impl.valid_vocab_size;
  result.process_rank = impl.ranks.process_rank;
  result.num_processes = impl.ranks.num_processes;
  result.first_device = impl.ranks.first_device();
  result.num_local_devices = impl.ranks.num_local_devices();
  const int64_t num_devices = impl.ranks.num_mesh_devices;
  const bool root = impl.ranks.process_rank == 0;
  if (options.reduction == Reduction::kTopK) {
    if (root) {
      result.token_ids.assign(static_cast<size_t>(rows * options.k), -1);
      result.values.assign(static_cast<size_t>(rows * options.k), 0.0f);
    }
    result.combine_bytes = rows * num_devices * options.k * static_cast<int64_t>(sizeof(Candidate));
  } else if (options.reduction == Reduction::kLogSumExp) {
    if (root) result.logsumexp.assign(static_cast<size_t>(rows), 0.0);
    result.combine_bytes = rows * num_devices * static_cast<int64_t>(sizeof(LogSumExpPartial));
  }
}

Status ReducePass(LmHead::Impl& impl, const float* logits, int64_t stride, int64_t row_begin,
                  int64_t num_rows, const ForwardOptions& options, ForwardResult& result) {
  if (options.reduction == Reduction::kTopK) {
    return TopKPass(impl, logits, stride, row_begin, num_rows, options.k, result);
  }
  return LogSumExpPass(impl, logits, stride, row_begin, num_rows, result);
}

Status FinishLogits(LmHead::Impl& impl, LogitBuffer slab, const ForwardOptions& options,
                    ForwardResult& result) {
  if (options.reduction != Reduction::kLogits) return Status::Ok();
  const int64_t vocab = impl.plan.model.vocab_size;
  const int64_t cols = DeviceCols(impl);
  const int64_t num_local = impl.ranks.num_local_devices();
  const bool distributed = impl.ranks.distributed();
  const LogitBuffer& local = distributed ? slab : result.logits;
  const int64_t stride = num_local * cols;
  result.combine_bytes = result.rows * vocab * static_cast<int64_t>(sizeof(float));
  if (options.keep_per_device) {
    for (int64_t local_idx = 0; local_idx < num_local; ++local_idx) {
      std::vector<float> slice(static_cast<size_t>(result.rows * cols));
      for (int64_t row = 0; row < result.rows; ++row) {
        std::memcpy(slice.data() + row * cols, local.data() + row * stride + local_idx * cols,
                    static_cast<size_t>(cols) * sizeof(float));
      }
      result.per_device_logits.push_back(std::move(slice));
    }
  }
  if (distributed) {
    if (!options.gather_logits) {
      result.combine_bytes = 0;
      return Status::Ok();
    }
    LMHEAD_ASSIGN_OR_RETURN(result.logits,
                            GatherBlocks(impl, std::move(slab), result.rows, cols, result));
    if (result.logits.empty()) return Status::Ok();  // Only rank 0 holds the logits.
  }
  const int64_t valid = impl.valid_vocab_size;
  if (valid == vocab) return Status::Ok();
  // --pad-vocab appended zero columns at the end of the vocabulary: compact rows in place.
  for (int64_t row = 0; row < result.rows; ++row) {
    std::memmove(result.logits.data() + row * valid, result.logits.data() + row * vocab,
                 static_cast<size_t>(valid) * sizeof(float));
  }
  result.logits.resize(static_cast<size_t>(result.rows * valid));
  return Status::Ok();
}

}  // namespace lmhead
