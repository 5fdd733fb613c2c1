// SPDX-License-Identifier: Apache-2.0
// The bound every worker-thread count shares: OpenOptions, ConvertOptions,
// SynthOptions and each command's --threads.
#ifndef LMHEAD_THREADS_H_
#define LMHEAD_THREADS_H_

namespace lmhead {

// The most worker threads a caller may ask for (0 asks for one per CPU the
// process may run on, its affinity mask): above any CPU's count, low enough
// that a mistyped count cannot exhaust the process's thread limit.
inline constexpr int kMaxThreads = 1024;

}  // namespace lmhead

#endif  // LMHEAD_THREADS_H_
