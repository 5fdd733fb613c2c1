// SPDX-License-Identifier: Apache-2.0
// `lmhead convert`: HF checkpoint head -> per-device DRAM-bank-sharded tile shards + manifest.
#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>

#include "command.h"
#include "lmhead/convert.h"
#include "lmhead/formats.h"
#include "lmhead/plan.h"

namespace lmhead::cli {
namespace {

// The subcommand's flags: name, default and help side by side.
struct ConvertFlags {
  std::string checkpoint;                                  // --checkpoint DIR
  std::string mesh = "4x8";                                // --mesh RxC
  std::string device = std::string(kDefaultDevicePreset);  // --device NAME
  std::string out;                                         // --out WDIR
  std::string tensor;                                      // --tensor NAME
  std::string format = "bfp4_b";                           // --format bfp4_b|bfp8_b|bf16|fp32
  bool pad_vocab = false;                                  // --pad-vocab
  int threads = 0;                                         // --threads N (0 = all)
  bool quiet = false;                                      // --quiet
};

void AddFlags(CLI::App& sub, ConvertFlags& flags) {
  sub.add_option("--checkpoint", flags.checkpoint,
                 "HuggingFace checkpoint directory (config.json + safetensors, single-file or "
                 "model.safetensors.index.json)")
      ->required();
  sub.add_option("--mesh", flags.mesh, "Mesh shape RxC; device k holds vocab slice k")
      ->capture_default_str();
  sub.add_option("--device", flags.device,
                 fmt::format("Device preset: {}", fmt::join(DevicePresetNames(), ", ")))
      ->capture_default_str();
  sub.add_option("--out", flags.out, "Weights directory to write (shards + manifest.json)")
      ->required();
  sub.add_option("--tensor", flags.tensor,
                 "Head tensor name (default lm_head.weight, or model.embed_tokens.weight for "
                 "tied embeddings)");
  sub.add_option("--format", flags.format, "Tile format: bfp4_b, bfp8_b, bf16 or fp32")
      ->capture_default_str();
  sub.add_flag("--pad-vocab", flags.pad_vocab,
               "Pad the vocabulary with zero columns when the device count does not divide it");
  AddThreadsOption(sub, flags.threads);
  sub.add_flag("--quiet,-q", flags.quiet, "No progress output");
}

// A progress bar on a terminal; plain lines at each 10% otherwise.
ConvertProgressFn MakeProgress(bool tty) {
  auto last_decile = std::make_shared<int64_t>(-1);
  return [tty, last_decile](const ConvertProgress& p) {
    const int64_t percent = p.units_total > 0 ? p.units_done * 100 / p.units_total : 100;
    if (tty) {
      constexpr int kWidth = 30;
      const int filled = static_cast<int>(percent * kWidth / 100);
      std::fprintf(stderr, "\r[%s%s] %3lld%%  %lld/%lld banks  %d reused  %.0f MB written",
                   std::string(static_cast<size_t>(filled), '#').c_str(),
                   std::string(static_cast<size_t>(kWidth - filled), '.').c_str(),
                   static_cast<long long>(percent), static_cast<long long>(p.units_done),
                   static_cast<long long>(p.units_total), p.devices_reused,
                   static_cast<double>(p.bytes_written) / 1e6);
      if (p.units_done == p.units_total) std::fprintf(stderr, "\n");
      std::fflush(stderr);
    } else if (percent / 10 > *last_decile) {
      *last_decile = percent / 10;
      std::fprintf(stderr, "convert: %lld%% (%lld/%lld banks, %d shards reused)\n",
                   static_cast<long long>(percent), static_cast<long long>(p.units_done),
                   static_cast<long long>(p.units_total), p.devices_reused);
    }
  };
}

int Run(const ConvertFlags& flags) {
  ConvertOptions options;
  options.checkpoint = flags.checkpoint;
  options.out_dir = flags.out;
  options.device = flags.device;
  options.tensor = flags.tensor;
  options.pad_vocab = flags.pad_vocab;
  options.num_threads = flags.threads;
  Result<MeshShape> mesh = ParseMeshShape(flags.mesh);
  if (!mesh.ok()) return ReportStatus(mesh.status());
  options.mesh = *mesh;
  Result<TileFormat> format = ParseTileFormat(flags.format);
  if (!format.ok()) return ReportStatus(format.status());
  options.format = *format;
  if (!flags.quiet) options.progress = MakeProgress(isatty(fileno(stderr)) != 0);
  Result<ConvertReport> report = ConvertCheckpoint(options);
  if (!report.ok()) return ReportStatus(report.status());
  std::printf(
      "converted %s -> %d shards (%s, mesh %s, %s): %d written, %d reused, %.1f MB, %lld pad "
      "vocab cols, %.2f s\nmanifest: %s\n",
      report->tensor_name.c_str(), report->num_devices, ToString(options.format),
      flags.mesh.c_str(), flags.device.c_str(), report->shards_written, report->shards_reused,
      static_cast<double>(report->bytes_written) / 1e6,
      static_cast<long long>(report->pad_vocab_cols), report->seconds,
      report->manifest_path.c_str());
  return kExitOk;
}

}  // namespace

CommandMain RegisterConvertCommand(CLI::App& sub) {
  auto flags = std::make_shared<ConvertFlags>();
  AddFlags(sub, *flags);
  return [flags] { return Run(*flags); };
}

}  // namespace lmhead::cli
