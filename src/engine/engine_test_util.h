// SPDX-License-Identifier: Apache-2.0
// What the engine tests share: a small synthetic model converted for a mesh, and activations.
#ifndef LMHEAD_ENGINE_ENGINE_TEST_UTIL_H_
#define LMHEAD_ENGINE_ENGINE_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "lmhead/convert.h"

namespace lmhead::engine_test {

// A synthetic checkpoint (hidden x vocab, `seed`) converted for `mesh`, in a
// fresh directory `root` (its checkpoint in root/ckpt); returns the weights
// directory, root/weights.
inline std::string MakeTestWeights(const std::filesystem::path& root, int64_t hidden, int64_t vocab,
                                   MeshShape mesh, uint64_t seed, bool pad_vocab = false) {
  std::filesystem::remove_all(root);
  SynthOptions synth;
  synth.out_dir = (root / "ckpt").string();
  synth.model = ModelDims{hidden, vocab, root.filename().string()};
  synth.seed = seed;
  auto synth_report = SynthesizeCheckpoint(synth);
  EXPECT_TRUE(synth_report.ok()) << synth_report.status().ToString();
  ConvertOptions convert;
  convert.checkpoint = synth.out_dir;
  convert.out_dir = (root / "weights").string();
  convert.mesh = mesh;
  convert.pad_vocab = pad_vocab;
  auto convert_report = ConvertCheckpoint(convert);
  EXPECT_TRUE(convert_report.ok()) << convert_report.status().ToString();
  return convert.out_dir;
}

// rows x hidden standard normal activations.
inline std::vector<float> RandomActivations(int64_t rows, int64_t hidden, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(rows * hidden));
  for (float& v : x) v = normal(rng);
  return x;
}

}  // namespace lmhead::engine_test

#endif  // LMHEAD_ENGINE_ENGINE_TEST_UTIL_H_
