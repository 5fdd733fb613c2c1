// SPDX-License-Identifier: Apache-2.0
// The synthetic head's value generator: counter-based, trained-looking statistics.
#ifndef LMHEAD_CONVERT_SYNTH_VALUES_H_
#define LMHEAD_CONVERT_SYNTH_VALUES_H_

#include <cstdint>
#include <span>
#include <vector>

namespace lmhead {

// Per-(seed, hidden size) state shared by every row: the column scales, with a
// few outlier hidden columns (trained heads have them: massive activations
// meet large weights there).
class SynthGenerator {
 public:
  SynthGenerator(uint64_t seed, int64_t hidden_size);

  // Writes row `row` (hidden_size values) as fp32. Deterministic: a pure
  // function of (seed, hidden_size, row), independent of threads or order.
  void Row(int64_t row, std::span<float> out) const;
  // One element, computed exactly as Row computes it.
  float Value(int64_t row, int64_t col) const;

  const std::vector<int64_t>& outlier_cols() const { return outlier_cols_; }

 private:
  uint64_t seed_key_;
  std::vector<float> col_scale_;
  std::vector<int64_t> outlier_cols_;
};

}  // namespace lmhead

#endif  // LMHEAD_CONVERT_SYNTH_VALUES_H_
