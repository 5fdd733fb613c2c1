// SPDX-License-Identifier: Apache-2.0
// `lmhead inspect`: summarise and verify a weights directory, or list a checkpoint's tensors.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "command.h"
#include "lmhead/npy.h"
#include "lmhead/safetensors.h"
#include "lmhead/weights.h"

namespace lmhead::cli {
namespace {

// The subcommand's flags: name, default and help side by side.
struct InspectFlags {
  std::string path;      // PATH: a weights directory or a checkpoint
  int64_t device = -1;   // --device K
  std::string dump_npy;  // --dump-npy OUT.npy
};

void AddFlags(CLI::App& sub, InspectFlags& flags) {
  sub.add_option("path", flags.path,
                 "A converted weights directory (with manifest.json) or a safetensors checkpoint")
      ->required();
  sub.add_option("--device", flags.device, "Device index K for --dump-npy");
  sub.add_option("--dump-npy", flags.dump_npy,
                 "Write device K's dequantised [H, V/D] float32 slice to this .npy file");
}

void PrintManifest(const WeightsDir& weights) {
  const WeightsManifest& m = weights.manifest();
  const ShardGeometry& g = m.geometry;
  std::printf("weights %s (format version %lld)\n", weights.dir().c_str(),
              static_cast<long long>(m.format_version));
  std::printf("  tiles      %s; hidden %lld x vocab %lld (checkpoint vocab %lld, %lld pad cols)\n",
              ToString(g.format), static_cast<long long>(g.hidden_size),
              static_cast<long long>(g.vocab_size), static_cast<long long>(g.valid_vocab_size),
              static_cast<long long>(g.vocab_size - g.valid_vocab_size));
  std::printf("  mesh       %lldx%lld = %lld devices of %s; per device [%lld, %lld]\n",
              static_cast<long long>(g.mesh_rows), static_cast<long long>(g.mesh_cols),
              static_cast<long long>(g.num_devices()), m.device.c_str(),
              static_cast<long long>(g.hidden_size), static_cast<long long>(g.cols()));
  std::printf("  layout     %lld DRAM banks x shard_w %lld; Kt %lld, Nt %lld\n",
              static_cast<long long>(g.num_banks), static_cast<long long>(g.shard_w),
              static_cast<long long>(g.k_tiles()), static_cast<long long>(g.n_tiles()));
  std::printf("  source     %s: %s %s [%s], xxh3 %016llx\n", m.source_checkpoint.c_str(),
              m.source_tensor.c_str(), m.source_dtype.c_str(),
              fmt::format("{}", fmt::join(m.source_shape, ", ")).c_str(),
              static_cast<unsigned long long>(m.source_xxh3));
  for (const auto& file : m.source_files) {
    std::printf("             %s (%llu bytes)\n", file.name.c_str(),
                static_cast<unsigned long long>(file.bytes));
  }
  std::printf("  %-6s %-8s %-8s %-10s %-18s %-12s %s\n", "device", "coord", "cols", "valid", "file",
              "bytes", "xxh3");
}

// Verifies every shard, printing one line each; OK only when all pass.
Status VerifyAll(const WeightsDir& weights) {
  const WeightsManifest& m = weights.manifest();
  int64_t failed = 0;
  std::string first_failure;
  for (const WeightsManifest::Shard& shard : m.shards) {
    const Status status = weights.VerifyShard(shard.device_idx);
    std::printf("  %-6lld (%lld,%lld)%*s %-8lld %-10lld %-18s %-12llu %016llx %s\n",
                static_cast<long long>(shard.device_idx), static_cast<long long>(shard.mesh_row),
                static_cast<long long>(shard.mesh_col), 2, "", static_cast<long long>(shard.cols),
                static_cast<long long>(shard.valid_cols), shard.file.c_str(),
                static_cast<unsigned long long>(shard.bytes),
                static_cast<unsigned long long>(shard.xxh3), status.ok() ? "ok" : "BAD");
    if (!status.ok()) {
      std::fprintf(stderr, "  %s: %s\n", shard.file.c_str(), status.message().c_str());
      if (failed++ == 0) first_failure = status.message();
    }
  }
  if (failed > 0) {
    return Status::Corruption(
        fmt::format("[inspect] {} of {} shards failed verification, first: {}", failed,
                    m.shards.size(), first_failure));
  }
  std::printf("all %zu shards verified (size, file XXH3, header and bank checksums)\n",
              m.shards.size());
  return Status::Ok();
}

Status DumpDevice(const WeightsDir& weights, int64_t device_idx, const std::string& path) {
  LMHEAD_ASSIGN_OR_RETURN(DeviceShard shard, weights.MapDevice(device_idx, VerifyLevel::kFull));
  const std::vector<float> values = DequantizeDeviceSlice(shard);
  const int64_t shape[] = {shard.geometry().hidden_size, shard.geometry().cols()};
  LMHEAD_RETURN_IF_ERROR(WriteNpy<float>(path, shape, values));
  std::printf("wrote %s: device %lld, float32 [%lld, %lld], vocab columns [%lld, %lld)\n",
              path.c_str(), static_cast<long long>(device_idx), static_cast<long long>(shape[0]),
              static_cast<long long>(shape[1]), static_cast<long long>(shard.col_offset()),
              static_cast<long long>(shard.col_offset() + shape[1]));
  return Status::Ok();
}

Status InspectCheckpoint(const std::string& path) {
  LMHEAD_ASSIGN_OR_RETURN(Checkpoint checkpoint, Checkpoint::Open(path));
  LMHEAD_ASSIGN_OR_RETURN(auto files, checkpoint.OpenAll());
  std::printf("checkpoint %s (%s, %zu file(s), %zu tensors)\n", checkpoint.dir().c_str(),
              checkpoint.indexed() ? "index form" : "single-file form", files.size(),
              checkpoint.TensorNames().size());
  for (const auto& file : files) {
    std::printf("  %s (%llu bytes)\n", file->path().c_str(),
                static_cast<unsigned long long>(file->file_bytes()));
    for (const SafetensorsTensorInfo& info : file->header().tensors) {
      std::printf("    %-48s %-8s [%s]\n", info.name.c_str(), ToString(info.dtype),
                  fmt::format("{}", fmt::join(info.shape, ", ")).c_str());
    }
  }
  return Status::Ok();
}

Status Inspect(const InspectFlags& flags) {
  if (!flags.dump_npy.empty() && flags.device < 0) {
    return Status::InvalidArgument("[inspect] --dump-npy needs --device K");
  }
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::path(flags.path) / "manifest.json", ec) &&
      flags.dump_npy.empty()) {
    return InspectCheckpoint(flags.path);
  }
  LMHEAD_ASSIGN_OR_RETURN(WeightsDir weights, WeightsDir::Open(flags.path));
  PrintManifest(weights);
  LMHEAD_RETURN_IF_ERROR(VerifyAll(weights));
  if (!flags.dump_npy.empty()) return DumpDevice(weights, flags.device, flags.dump_npy);
  return Status::Ok();
}

}  // namespace

CommandMain RegisterInspectCommand(CLI::App& sub) {
  auto flags = std::make_shared<InspectFlags>();
  AddFlags(sub, *flags);
  return [flags] { return ReportStatus(Inspect(*flags)); };
}

}  // namespace lmhead::cli
