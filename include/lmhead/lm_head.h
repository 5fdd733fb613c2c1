// SPDX-License-Identifier: Apache-2.0
// LmHead: the DeepSeek-V3 LM head running on an emulated Tenstorrent mesh.   <- start here
//
// Design goals:
//  - The seed's two forward paths op for op (shared/seed/LMHead_ops.md):
//    decode = mesh_scatter, DRAM-sharded matmul, deallocate; prefill =
//    mesh_scatter, chunk reshape, 2D-multicast matmul, deallocate, de-chunk;
//    with the shapes, memory configs and program configs of the planner, on a
//    mesh of virtual devices that each hold their converted weight shard.
//  - Two numerics: tt-lofi reproduces a Wormhole LoFi matmul (the golden for
//    bring-up), fp32 is the accurate serving mode.
//  - The combine TT leaves downstream: full logits concatenated in row-major
//    device order, or fused argmax / top-k / logsumexp merged from per-device
//    partials so no device ships its V/D logits.
//  - Open() does all the expensive work once (validation, mapping, kernel
//    choice); Decode()/Prefill() only bind pointers and run.
//  - The same code on N processes (OpenOptions::communicator, docs/mpi.md):
//    each maps and computes only its D/N devices, mesh_scatter and the combine
//    become messages, and rank 0's results are identical bit for bit.
// Non-goals: sampling, KV caches, anything before the final norm.
//
// Thread-compatible: one LmHead serves one caller at a time (each call uses
// all of its worker threads).
#ifndef LMHEAD_LM_HEAD_H_
#define LMHEAD_LM_HEAD_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lmhead/communicator.h"
#include "lmhead/numerics.h"
#include "lmhead/plan.h"
#include "lmhead/status.h"
#include "lmhead/threads.h"

namespace lmhead {

struct OpenOptions {
  Numerics numerics = Numerics::kTtLofi;
  CompatMode compat = CompatMode::kSeed;
  int64_t input_row_idx = 0;      // Mesh row the host writes the input to.
  // 0: one per CPU this process may run on (its affinity mask). With a
  // communicator, the ranks of a host whose masks are the same split that
  // mask between them: 0 then means one per CPU of the rank's slice, and N
  // threads are pinned within the slice where they fit it. At most kMaxThreads.
  int num_threads = 0;
  bool verify_checksums = false;  // Hash every shard byte at Open (slow for full size).
  // The processes the mesh's devices are spread over; null: this process holds
  // every device. Every rank calls Open, Decode and Prefill with the same
  // arguments; each maps only its own devices' shards.
  std::shared_ptr<Communicator> communicator;
  // How mesh_scatter's transfers cross processes (docs/mpi.md).
  ScatterRoute scatter_route = ScatterRoute::kForward;
};

// What the caller wants back.
enum class Reduction {
  kLogits,     // [rows, V] float32.
  kTopK,       // [rows, k] token ids (best first) and their logits; argmax is k = 1.
  kLogSumExp,  // [rows] log(sum(exp(logits))) over the vocabulary.
};

// std::allocator whose resize() leaves new elements uninitialised: the
// engine writes every logit, so a prefill's full logits (2048 x 129280 fp32
// is 1 GB) are not zeroed by one thread first; their pages are first touched
// by the threads that compute them.
template <typename T>
struct UninitializedAllocator : std::allocator<T> {
  template <typename U>
  struct rebind {
    using other = UninitializedAllocator<U>;
  };
  UninitializedAllocator() = default;
  template <typename U>
  UninitializedAllocator(const UninitializedAllocator<U>&) noexcept {}  // NOLINT: rebinding
  template <typename U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;  // default-initialised: no write
  }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

// Full logits: a std::vector<float> in all but its allocator.
using LogitBuffer = std::vector<float, UninitializedAllocator<float>>;

struct ForwardOptions {
  Reduction reduction = Reduction::kLogits;
  int k = 1;                     // For kTopK: 1 <= k <= 1024.
  bool last_token_only = false;  // Prefill: logits of the final position only.
  bool allow_nonfinite = false;  // Otherwise NaN/Inf in the input is an error.
  bool keep_per_device = false;  // Keep each device's [rows, V/D] logits (this process's devices).
  // Several processes: bring the full logits to rank 0. False leaves each
  // process only its devices' logits (keep_per_device), moving nothing.
  bool gather_logits = true;
  // One process: storage for the full logits, taken over (left empty) when
  // set, e.g. the logits of the previous call handed back. Its pages are
  // already faulted in; fresh ones cost a 1 GB prefill about 8% of its time.
  LogitBuffer* reuse_logits = nullptr;
};

// Host activations [rows, H], row-major: float32 values, or bf16 bit patterns.
struct Activations {
  std::span<const float> fp32;
  std::span<const uint16_t> bf16;  // Used when fp32 is empty.
  int64_t rows = 0;
  int64_t cols = 0;
};

// Wall time of each stage of one call, in seconds.
struct StageTimes {
  double scatter = 0;  // Host write + mesh_scatter.
  double matmul = 0;   // ttnn.linear on every device.
  double combine = 0;  // Concatenation or the fused reduction (with its messages).
  double total = 0;
};

// With several processes, logits, token_ids, values and logsumexp are filled
// on rank 0 only; times, traffic and per_device_logits are this process's.
struct ForwardResult {
  int64_t rows = 0;  // Output rows (1 with last_token_only).
  int64_t vocab_size = 0;
  LogitBuffer logits;              // kLogits: [rows, vocab_size].
  std::vector<int64_t> token_ids;  // kTopK: [rows, k].
  std::vector<float> values;       // kTopK: [rows, k].
  std::vector<double> logsumexp;   // kLogSumExp: [rows].
  // keep_per_device: [rows, V/D] for each of devices first_device, first_device + 1, ...
  std::vector<std::vector<float>> per_device_logits;
  StageTimes times;
  int64_t num_transfers = 0;       // point_to_point calls of mesh_scatter.
  int64_t transfer_bytes = 0;      // Bytes those calls carried.
  int64_t combine_bytes = 0;       // Bytes that left the devices for the combine.
  int64_t weight_bytes = 0;        // Weight bytes this process's matmul streamed.
  double flops = 0;                // 2 * rows * H * V / num_processes: this process's share.
  std::vector<std::string> trace;  // The TTNN ops run, one line each.
  int process_rank = 0;            // This process, of num_processes.
  int num_processes = 1;
  int64_t first_device = 0;        // This process holds num_local_devices devices
  int64_t num_local_devices = 0;   // from first_device on.
  NetworkTraffic scatter_network;  // mesh_scatter's point_to_point messages of this process.
  NetworkTraffic combine_network;  // The gather of logits or of per-device partials.
};

class LmHead {
 public:
  // Opens a converted weights directory (lmhead convert), re-plans for its
  // model and mesh, checks the manifest matches, maps every device's shard and
  // chooses kernels. NotFound/Corruption for bad weights, InvalidArgument for
  // options the plan rejects.
  static Result<std::unique_ptr<LmHead>> Open(const std::string& weights_dir,
                                              const OpenOptions& options);
  ~LmHead();

  // The plan for decode (and prefill of `seq_len` rows when planned with it).
  const LmHeadPlan& plan() const;
  // The chosen kernel set, e.g. "matmul/bfp4b/tt-lofi/ref".
  std::string kernel_name() const;
  int num_threads() const;

  // Decode: 1 <= rows <= 32 users, cols = H. Padded to 32 rows as TT does.
  Result<ForwardResult> Decode(const Activations& x, const ForwardOptions& options);
  // Prefill: rows = S >= 1 tokens, cols = H; chunked by 1024 (seed: padded to
  // a multiple of 1024 when longer; tt-v3/v4: TT's error).
  Result<ForwardResult> Prefill(const Activations& x, const ForwardOptions& options);

  // The prepared state, opaque to callers (src/engine/lm_head_impl.h).
  struct Impl;

 private:
  explicit LmHead(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lmhead

#endif  // LMHEAD_LM_HEAD_H_
