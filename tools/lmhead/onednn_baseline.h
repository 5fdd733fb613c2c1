// SPDX-License-Identifier: Apache-2.0
// oneDNN's bf16 matmul on the LM head's shapes: the baseline `lmhead bench --compare onednn` reports.
#ifndef LMHEAD_TOOLS_LMHEAD_ONEDNN_BASELINE_H_
#define LMHEAD_TOOLS_LMHEAD_ONEDNN_BASELINE_H_

#include <cstdint>

#include "lmhead/status.h"

namespace lmhead::cli {

struct OnednnTiming {
  double median_ms = 0;
  double min_ms = 0;
  int num_threads = 0;  // the threads oneDNN ran on; 0 when it cannot say
};

// Times dst[m, n] (f32) = src[m, k] (bf16) x weights[k, n] (bf16) with oneDNN
// on one CPU engine, weights reordered once into oneDNN's preferred layout
// (outside the timing, its best case), on `num_threads` threads (0: oneDNN's
// default, every core; honoured where oneDNN threads with OpenMP, as
// Debian's does). NotSupported when built without oneDNN.
Result<OnednnTiming> TimeOnednnBf16Matmul(int64_t m, int64_t k, int64_t n, int repetitions,
                                          int num_threads);

}  // namespace lmhead::cli

#endif  // LMHEAD_TOOLS_LMHEAD_ONEDNN_BASELINE_H_
