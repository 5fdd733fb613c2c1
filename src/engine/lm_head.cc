// SPDX-License-Identifier: Apache-2.0
// LmHead::Open: plan, check and map the weights, choose kernels, once.
#include "lmhead/lm_head.h"

#include <fmt/format.h>

#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "engine/lm_head_impl.h"
#include "io/file_util.h"
#include "io/mapped_file.h"
#include "kernels/cpu_features.h"
#include "mesh/host_cpus.h"

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
    device.banks.push_back(
        BankView{TileMatrixView{bank.tiles, shard.geometry().format, bank.k_tiles, bank.n_tiles},
                 bank.col_begin, bank.cols});
  }
  return device;
}

// Every rank must run the same conversion: the XXH3 of manifest.json's bytes
// is exchanged before anything is mapped, so a host with other weights stops
// every rank with one message instead of computing different logits.
Status CheckSameManifest(CommunicatorImpl& comm, const std::string& weights_dir) {
  struct Fingerprint {
    uint64_t xxh3 = 0;
    uint64_t present = 0;  // 0: this rank cannot read manifest.json (reported by the open).
  };
  const Result<uint64_t> hash =
      HashFileXxh3((std::filesystem::path(weights_dir) / "manifest.json").string());
  const Fingerprint mine{hash.ok() ? *hash : 0, hash.ok() ? 1u : 0u};
  std::vector<Fingerprint> all(static_cast<size_t>(comm.size()));
  LMHEAD_RETURN_IF_ERROR(comm.AllGather(std::as_bytes(std::span<const Fingerprint>(&mine, 1)),
                                        std::as_writable_bytes(std::span<Fingerprint>(all)),
                                        "LmHead::Open manifest check"));
  std::map<uint64_t, std::vector<int>> ranks_by_hash;
  for (int rank = 0; rank < comm.size(); ++rank) {
    const Fingerprint& seen = all[static_cast<size_t>(rank)];
    if (seen.present) ranks_by_hash[seen.xxh3].push_back(rank);
  }
  if (ranks_by_hash.size() <= 1) return Status::Ok();
  std::vector<std::string> groups;
  for (const auto& [xxh3, ranks] : ranks_by_hash) {
    groups.push_back(fmt::format("rank{} {} see xxh3 {}", ranks.size() == 1 ? "" : "s",
                                 fmt::join(ranks, ","), HexU64(xxh3)));
  }
  return Status::InvalidArgument(fmt::format(
      "[LmHead::Open] the ranks see different {}/manifest.json files ({}); every rank must see "
      "the same converted weights: copy the directory to every host or use a shared filesystem",
      weights_dir, fmt::join(groups, "; ")));
}

// Open's work on this process: plan, check and map this process's shards,
// choose kernels, build the mesh.
Status Prepare(LmHead::Impl& impl, const std::string& weights_dir, const OpenOptions& options,
               std::shared_ptr<CommunicatorImpl> comm, std::vector<int> cpus) {
  LMHEAD_RETURN_IF_ERROR(CheckThreadCount(options.num_threads, "[LmHead::Open]"));
  impl.options = options;
  LMHEAD_ASSIGN_OR_RETURN(impl.weights, WeightsDir::Open(weights_dir));
  const WeightsManifest& manifest = impl.weights.manifest();
  const ShardGeometry& geometry = manifest.geometry;

  ModelDims model{geometry.hidden_size, geometry.vocab_size, manifest.source_checkpoint};
  LMHEAD_ASSIGN_OR_RETURN(MeshDesc mesh, MeshOfWeights(manifest));
  PlanOptions plan_options;
  plan_options.compat = options.compat;
  plan_options.input_row_idx = options.input_row_idx;
  LMHEAD_ASSIGN_OR_RETURN(impl.plan, Plan(model, mesh, plan_options));
  LMHEAD_RETURN_IF_ERROR(impl.weights.CheckMatches(ExpectationOf(impl.plan, geometry.format)));
  impl.valid_vocab_size = geometry.valid_vocab_size;
  LMHEAD_ASSIGN_OR_RETURN(impl.ranks,
                          SplitMesh(geometry.num_devices(), comm->rank(), comm->size()));

  // Only this process's devices: a rank's memory is about 1/N of the head.
  const VerifyLevel verify = options.verify_checksums ? VerifyLevel::kFull : VerifyLevel::kHeader;
  std::vector<DeviceWeights> devices;
  for (int64_t device_idx = impl.ranks.first_device(); device_idx < impl.ranks.end_device();
       ++device_idx) {
    LMHEAD_ASSIGN_OR_RETURN(DeviceShard shard, impl.weights.MapDevice(device_idx, verify));
    devices.push_back(ViewsOf(shard));
    impl.shards.push_back(std::move(shard));
  }

  // The best kernels this CPU may run (capped by $LMHEAD_KERNELS), chosen once.
  LMHEAD_ASSIGN_OR_RETURN(CpuFeatures cpu, CpuFeaturesForKernels());
  LMHEAD_ASSIGN_OR_RETURN(impl.kernels, FindMatmulKernels(geometry.format, options.numerics, cpu));
  impl.matmul =
      std::make_unique<MeshMatmul>(std::move(devices), geometry.hidden_size, impl.kernels);
  if (impl.kernels->layout != TileLayout::kTtRowMajor) {
    // The kernels stream MeshMatmul's packed copy; the mapped shard pages are
    // not read again, so they leave the resident set (they stay in the page cache).
    for (const DeviceShard& shard : impl.shards) {
      for (const BankTiles& bank : shard.banks()) ReleaseMappedPages(bank.tiles, bank.bytes);
    }
  }
  impl.pool = std::make_unique<ThreadPool>(options.num_threads, std::move(cpus));
  impl.mesh = std::make_unique<MeshDevice>(mesh.shape,
                                           MeshTransport{impl.ranks, comm, options.scatter_route});
  impl.comm = std::move(comm);
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<LmHead>> LmHead::Open(const std::string& weights_dir,
                                             const OpenOptions& options) {
  std::shared_ptr<CommunicatorImpl> comm =
      options.communicator ? options.communicator->impl() : MakeSingleCommunicator(60.0);
  if (comm->size() > 1) LMHEAD_RETURN_IF_ERROR(CheckSameManifest(*comm, weights_dir));
  // The CPUs the pool may take: ranks of one host left on the same CPUs by
  // their launcher split them, so that by default the host runs one thread
  // per CPU, and no two ranks pin their workers to the same CPU.
  std::vector<int> cpus = AllowedCpus();
  if (comm->size() > 1) {
    LMHEAD_ASSIGN_OR_RETURN(cpus, HostCpuShare(*comm, cpus));
  }
  auto impl = std::make_unique<Impl>();
  // A rank that cannot open its part stops every rank, with its reason.
  LMHEAD_RETURN_IF_ERROR(
      comm->Agree(Prepare(*impl, weights_dir, options, comm, std::move(cpus)), "LmHead::Open"));
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
