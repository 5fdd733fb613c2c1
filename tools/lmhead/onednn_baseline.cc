// SPDX-License-Identifier: Apache-2.0
// oneDNN bf16 matmul timing (built when Debian's libdnnl-dev is found).
#include "onednn_baseline.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include <fmt/format.h>

#ifdef LMHEAD_WITH_ONEDNN
#include <oneapi/dnnl/dnnl.hpp>
#endif
#ifdef LMHEAD_ONEDNN_OPENMP
#include <omp.h>
#endif

namespace lmhead::cli {

#ifdef LMHEAD_WITH_ONEDNN

namespace {

Result<OnednnTiming> TimeMatmul(int64_t m, int64_t k, int64_t n, int repetitions) {
  using dnnl::memory;
  dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  dnnl::stream stream(engine);
  const memory::desc src_md({m, k}, memory::data_type::bf16, memory::format_tag::ab);
  const memory::desc weights_plain({k, n}, memory::data_type::bf16, memory::format_tag::ab);
  const memory::desc weights_any({k, n}, memory::data_type::bf16, memory::format_tag::any);
  const memory::desc dst_md({m, n}, memory::data_type::f32, memory::format_tag::ab);
  // oneDNN 2.x API (Debian 12 ships 2.6): an op descriptor, then the primitive descriptor.
  dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src_md, weights_any, dst_md), engine);
  memory src(src_md, engine);
  memory weights(weights_plain, engine);
  memory weights_packed(pd.weights_desc(), engine);
  memory dst(dst_md, engine);
  // Small non-zero values (bf16 0x3C00 = 2^-7): denormal-free, like real data.
  std::fill_n(static_cast<uint16_t*>(src.get_data_handle()), m * k, uint16_t{0x3C00});
  std::fill_n(static_cast<uint16_t*>(weights.get_data_handle()), k * n, uint16_t{0x3C00});
  dnnl::reorder(weights, weights_packed).execute(stream, weights, weights_packed);
  dnnl::matmul matmul(pd);
  std::vector<double> times;
  for (int rep = 0; rep <= repetitions; ++rep) {
    const auto start = std::chrono::steady_clock::now();
    matmul.execute(stream, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights_packed},
                            {DNNL_ARG_DST, dst}});
    stream.wait();
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (rep > 0) times.push_back(ms);  // Repetition 0 warms up (JIT, page faults).
  }
  std::sort(times.begin(), times.end());
  OnednnTiming timing{times[times.size() / 2], times.front()};
#ifdef LMHEAD_ONEDNN_OPENMP
  timing.num_threads = omp_get_max_threads();
#endif
  return timing;
}

}  // namespace

Result<OnednnTiming> TimeOnednnBf16Matmul(int64_t m, int64_t k, int64_t n, int repetitions,
                                          int num_threads) {
#ifdef LMHEAD_ONEDNN_OPENMP
  if (num_threads > 0) omp_set_num_threads(num_threads);
#else
  (void)num_threads;
#endif
  try {  // oneDNN reports failures as exceptions; the CLI reports Status.
    return TimeMatmul(m, k, n, std::max(repetitions, 1));
  } catch (const dnnl::error& e) {
    return Status::Internal(fmt::format("[bench] oneDNN matmul failed: {} (status {})", e.what(),
                                        static_cast<int>(e.status)));
  }
}

#else

Result<OnednnTiming> TimeOnednnBf16Matmul(int64_t, int64_t, int64_t, int, int) {
  return Status::NotSupported(
      "[bench] this lmhead was built without oneDNN; install libdnnl-dev "
      "(scripts/install_deps.sh) and rebuild to use --compare onednn");
}

#endif

}  // namespace lmhead::cli
