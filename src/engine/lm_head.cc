// SPDX-License-Identifier: Apache-2.0
// LmHead::Open: plan, check and map the weights, choose kernels, once.
#include "lmhead/lm_head.h"

#include <fmt/format.h>

#include "engine/lm_head_impl.h"

namespace lmhead {
namespace {

// The mesh the weights were converted for, with the device preset they name.
// The bank count comes from the shards themselves (it may have been overridden).
Result<MeshDesc> MeshOfWeights(const WeightsManifest& manifest) {
  LMHEAD_ASSIGN_OR_RETURN(DeviceSpec device, FindDevicePreset(manifest.device));
  device.num_dram_banks = manifest.geometry.num_banks;
  return MeshDesc{MeshShape{manifest.geometry.mesh_rows, manifest.geometry.mesh_cols}, device};
}

WeightsExpectation ExpectationOf(const LmHeadPlan& plan, TileFormat format) {
  WeightsExpectation expected;
  expected.hidden_size = plan.model.hidden_size;
  expected.vocab_size = plan.model.vocab_size;
  expected.mesh_rows = plan.mesh.shape.rows;
  expected.mesh_cols = plan.mesh.shape.cols;
  expected.device = plan.mesh.device.name;
  expected.format = format;
  expected.num_banks = plan.weights.num_dram_banks;
  expected.shard_w = plan.weights.shard_width;
  return expected;
}

DeviceWeights ViewsOf(const DeviceShard& shard) {
  DeviceWeights device;
  device.cols = shard.geometry().cols();
  for (const BankTiles& bank : shard.banks()) {
    device.banks.push_back(BankView{
        TileMatrixView{bank.tiles, shard.geometry().format, bank.k_tiles, bank.n_tiles},
        bank.col_begin, bank.cols});
  }
  return device;
}

}  // namespace

Result<std::unique_ptr<LmHead>> LmHead::Open(const std::string& weights_dir,
                                              const OpenOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  LMHEAD_ASSIGN_OR_RETURN(impl->weights, WeightsDir::Open(weights_dir));
  const WeightsManifest& manifest = impl->weights.manifest();
  const ShardGeometry& geometry = manifest.geometry;

  ModelDims model{geometry.hidden_size, geometry.vocab_size, manifest.source_checkpoint};
  LMHEAD_ASSIGN_OR_RETURN(MeshDesc mesh, MeshOfWeights(manifest));
  PlanOptions plan_options;
  plan_options.compat = options.compat;
  plan_options.input_row_idx = options.input_row_idx;
  LMHEAD_ASSIGN_OR_RETURN(impl->plan, Plan(model, mesh, plan_options));
  LMHEAD_RETURN_IF_ERROR(impl->weights.CheckMatches(ExpectationOf(impl->plan, geometry.format)));
  impl->valid_vocab_size = geometry.valid_vocab_size;

  const VerifyLevel verify = options.verify_checksums ? VerifyLevel::kFull : VerifyLevel::kHeader;
  std::vector<DeviceWeights> devices;
  for (int64_t device_idx = 0; device_idx < geometry.num_devices(); ++device_idx) {
    LMHEAD_ASSIGN_OR_RETURN(DeviceShard shard, impl->weights.MapDevice(device_idx, verify));
    devices.push_back(ViewsOf(shard));
    impl->shards.push_back(std::move(shard));
  }

  // Fast kernels register CPU requirements (issue 6); the scalar reference runs everywhere.
  LMHEAD_ASSIGN_OR_RETURN(impl->kernels,
                          FindMatmulKernels(geometry.format, options.numerics, CpuFeatures{}));
  impl->matmul = std::make_unique<MeshMatmul>(std::move(devices), geometry.hidden_size,
                                              impl->kernels);
  impl->pool = std::make_unique<ThreadPool>(options.num_threads);
  impl->mesh = std::make_unique<MeshDevice>(mesh.shape);
  return std::unique_ptr<LmHead>(new LmHead(std::move(impl)));
}

LmHead::LmHead(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LmHead::~LmHead() = default;

const LmHeadPlan& LmHead::plan() const { return impl_->plan; }
std::string LmHead::kernel_name() const { return impl_->kernels->name; }
int LmHead::num_threads() const { return impl_->pool->num_threads(); }

Result<ForwardResult> LmHead::Decode(const Activations& x, const ForwardOptions& options) {
  return RunDecode(*impl_, x, options);
}

Result<ForwardResult> LmHead::Prefill(const Activations& x, const ForwardOptions& options) {
  return RunPrefill(*impl_, x, options);
}

}  // namespace lmhead
