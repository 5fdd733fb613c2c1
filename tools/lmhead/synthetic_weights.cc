// SPDX-License-Identifier: Apache-2.0
// Synthetic weights for the demo and the benchmark: synth once, convert (cached).
#include "synthetic_weights.h"

#include <cstdio>
#include <filesystem>
#include <random>

#include "lmhead/convert.h"

namespace lmhead::cli {

namespace fs = std::filesystem;

Result<SyntheticWeights> EnsureSyntheticWeights(const std::string& work_dir,
                                                const ModelDims& model, const MeshShape& mesh,
                                                const std::string& device, uint64_t seed,
                                                int num_threads) {
  SyntheticWeights out;
  const fs::path checkpoint = fs::path(work_dir) / "checkpoint";
  out.checkpoint = checkpoint.string();
  if (fs::exists(checkpoint / "config.json")) {
    std::fprintf(stderr, "      checkpoint: reusing %s\n", out.checkpoint.c_str());
  } else {
    SynthOptions synth;
    synth.out_dir = out.checkpoint;
    synth.model = model;
    synth.seed = seed;
    synth.num_threads = num_threads;
    LMHEAD_ASSIGN_OR_RETURN(SynthReport report, SynthesizeCheckpoint(synth));
    std::fprintf(stderr, "      checkpoint: wrote %s (%s, %.2f GB) in %.1f s\n", out.checkpoint.c_str(),
                report.tensor_name.c_str(), static_cast<double>(report.head_bytes) / 1e9,
                report.seconds);
  }
  std::fflush(stderr);
  ConvertOptions convert;
  convert.checkpoint = out.checkpoint;
  convert.out_dir = (fs::path(work_dir) / "weights").string();
  convert.mesh = mesh;
  convert.device = device;
  convert.num_threads = num_threads;
  LMHEAD_ASSIGN_OR_RETURN(ConvertReport report, ConvertCheckpoint(convert));
  out.weights = convert.out_dir;
  std::fprintf(stderr, "      weights: %s, %d shards (%d reused, %d written, %.1f MB) in %.1f s\n",
              out.weights.c_str(), report.num_devices, report.shards_reused,
              report.shards_written, static_cast<double>(report.bytes_written) / 1e6,
              report.seconds);
  std::fflush(stderr);
  return out;
}

std::vector<float> SyntheticHiddenStates(int64_t rows, int64_t hidden, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(rows * hidden));
  for (float& v : x) v = normal(rng);
  return x;
}

}  // namespace lmhead::cli
