// SPDX-License-Identifier: Apache-2.0
// SynthGenerator: splitmix64 per element, log-normal rows, scale-mixture tails.
#include "convert/synth_values.h"

#include <cmath>

namespace lmhead {
namespace {

// splitmix64's increment and finaliser (Steele et al., 2014): a bijective mix
// of a counter, good enough for statistics and as fast as a hash can be.
constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ull;

inline uint64_t Mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Uniform in (0, 1) from the top 53 bits, never 0 (log() follows).
inline double Unit(uint64_t bits) { return (static_cast<double>(bits >> 11) + 0.5) * 0x1p-53; }

// Element scale mixture: 11/16 of the elements at scale 1, the rest wider. A
// Gaussian scale mixture is heavy-tailed (kurtosis ~12.7 here, against 3).
// Normalised so the mixture has unit variance: sqrt(sum(s^2) / 16) = 2.1176.
constexpr float kTailScale[16] = {1.0f / 2.1176f, 1.0f / 2.1176f, 1.0f / 2.1176f, 1.0f / 2.1176f,
                                  1.0f / 2.1176f, 1.0f / 2.1176f, 1.0f / 2.1176f, 1.0f / 2.1176f,
                                  1.0f / 2.1176f, 1.0f / 2.1176f, 1.0f / 2.1176f, 1.5f / 2.1176f,
                                  2.0f / 2.1176f, 2.5f / 2.1176f, 3.5f / 2.1176f, 6.0f / 2.1176f};

// Irwin-Hall of four 12-bit uniforms: mean 4 * 4095 / 2, standard deviation
// sqrt(4 * (4096^2 - 1) / 12) = 2364.83. Close to Gaussian and cheap.
constexpr float kIrwinHallMean = 8190.0f;
constexpr float kIrwinHallInvStd = 1.0f / 2364.83f;

// Typical magnitude of a trained LM head weight (~1/sqrt(H) for H ~ 2500-7000).
constexpr double kBaseStd = 0.02;
// Log-normal spread of the per-row (per-token) norms.
constexpr double kRowLogSigma = 0.35;

inline float Element(uint64_t row_key, float row_scale, float col_scale, int64_t col) {
  const uint64_t bits = Mix64(row_key + static_cast<uint64_t>(col) * kGolden);
  const uint32_t sum = static_cast<uint32_t>((bits & 0xFFF) + ((bits >> 12) & 0xFFF) +
                                             ((bits >> 24) & 0xFFF) + ((bits >> 36) & 0xFFF));
  const float gaussian = (static_cast<float>(sum) - kIrwinHallMean) * kIrwinHallInvStd;
  return gaussian * kTailScale[(bits >> 48) & 15] * row_scale * col_scale;
}

inline uint64_t RowKey(uint64_t seed_key, int64_t row) {
  return Mix64(seed_key ^ Mix64(static_cast<uint64_t>(row) + 1));
}

inline float RowScale(uint64_t row_key) {
  // Box-Muller on two independent draws of the row's own stream.
  const double u1 = Unit(Mix64(row_key ^ 0xA5A5A5A5A5A5A5A5ull));
  const double u2 = Unit(Mix64(row_key ^ 0x5A5A5A5A5A5A5A5Aull));
  const double gaussian = std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  return static_cast<float>(kBaseStd * std::exp(kRowLogSigma * gaussian));
}

}  // namespace

SynthGenerator::SynthGenerator(uint64_t seed, int64_t hidden_size)
    : seed_key_(Mix64(seed * kGolden + 0x6C6D68656164ull)),  // "lmhead"
      col_scale_(static_cast<size_t>(hidden_size), 1.0f) {
  // About one outlier column per 1024 (7 for DeepSeek-V3), at least one,
  // each 4x-8x wider than the rest.
  const int64_t num_outliers = hidden_size / 1024 + 1;
  for (int64_t outlier_idx = 0; outlier_idx < num_outliers; ++outlier_idx) {
    const uint64_t bits = Mix64(seed_key_ + 0x0C0FFEEull + static_cast<uint64_t>(outlier_idx));
    const int64_t col = static_cast<int64_t>(bits % static_cast<uint64_t>(hidden_size));
    col_scale_[static_cast<size_t>(col)] = 4.0f + static_cast<float>((bits >> 32) % 5);
    outlier_cols_.push_back(col);
  }
}

void SynthGenerator::Row(int64_t row, std::span<float> out) const {
  const uint64_t row_key = RowKey(seed_key_, row);
  const float row_scale = RowScale(row_key);
  for (size_t col = 0; col < out.size(); ++col) {
    out[col] = Element(row_key, row_scale, col_scale_[col], static_cast<int64_t>(col));
  }
}

float SynthGenerator::Value(int64_t row, int64_t col) const {
  const uint64_t row_key = RowKey(seed_key_, row);
  return Element(row_key, RowScale(row_key), col_scale_[static_cast<size_t>(col)], col);
}

}  // namespace lmhead
