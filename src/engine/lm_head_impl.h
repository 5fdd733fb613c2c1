// SPDX-License-Identifier: Apache-2.0
// LmHead::Impl: what Open() prepares once and every forward call reuses.
#ifndef LMHEAD_ENGINE_LM_HEAD_IMPL_H_
#define LMHEAD_ENGINE_LM_HEAD_IMPL_H_

#include <memory>
#include <vector>

#include "base/thread_pool.h"
#include "engine/mesh_matmul.h"
#include "lmhead/lm_head.h"
#include "lmhead/weights.h"
#include "mesh/communicator_impl.h"
#include "mesh/mesh_device.h"
#include "mesh/rank_devices.h"

namespace lmhead {

struct LmHead::Impl {
  OpenOptions options;
  LmHeadPlan plan;  // Decode, and prefill at the default seq_len.
  WeightsDir weights;
  // The devices this process computes: all of them, or D/N of them on one of
  // N processes. shards[i] and the matmul's device i are device first_device() + i.
  RankDevices ranks;
  std::shared_ptr<CommunicatorImpl> comm;  // Single-process when OpenOptions had none.
  std::vector<DeviceShard> shards;         // Mapped; MeshMatmul's views point into them.
  int64_t valid_vocab_size = 0;  // The checkpoint's V; columns above are --pad-vocab zeros.
  const MatmulKernels* kernels = nullptr;
  std::unique_ptr<MeshMatmul> matmul;
  std::unique_ptr<ThreadPool> pool;
  std::unique_ptr<MeshDevice> mesh;
};

// The forward paths (forward.cc), on a prepared Impl.
Result<ForwardResult> RunDecode(LmHead::Impl& impl, const Activations& x,
                                const ForwardOptions& options);
Result<ForwardResult> RunPrefill(LmHead::Impl& impl, const Activations& x,
                                 const ForwardOptions& options);

}  // namespace lmhead

#endif  // LMHEAD_ENGINE_LM_HEAD_IMPL_H_
