// SPDX-License-Identifier: Apache-2.0
// `lmhead info`: CPU features, the kernels the engine chooses, and the build options.
#include <fmt/format.h>

#include <cstdio>
#include <string>
#include <vector>

#include "command.h"
#include "lmhead/machine.h"

namespace lmhead::cli {
namespace {

void PrintPeak(const char* name, const ComputeProbe& probe) {
  if (probe.available) {
    std::printf("%s peak: %.2f TFLOP/s median, %.2f best (%d threads)\n", name, probe.median_tflops,
                probe.best_tflops, probe.num_threads);
  } else {
    std::printf("%s: not available on this CPU/OS or below the kernel cap\n", name);
  }
}

// "0-3,8": runs of consecutive CPUs.
std::string CpuRanges(const std::vector<int>& cpus) {
  std::string text;
  for (size_t i = 0; i < cpus.size();) {
    size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
    if (!text.empty()) text += ',';
    text += j == i ? fmt::format("{}", cpus[i]) : fmt::format("{}-{}", cpus[i], cpus[j]);
    i = j + 1;
  }
  return text;
}

}  // namespace

CommandMain RegisterInfoCommand(CLI::App& sub) {
  auto measure = std::make_shared<bool>(false);
  sub.add_flag(
      "--measure", *measure,
      "Also measure the read bandwidth and the AMX-BF16 and AVX512-BF16 peaks (a few seconds)");
  return [measure] {
    const MachineInfo info = DescribeMachine();
    std::printf(
        "cpu features for kernels: %s (cap with LMHEAD_KERNELS=ref|avx2|avx512f|avx512|amx)\n",
        info.cpu_features.c_str());
    std::printf("tile packers (Highway):   %s\n", info.formats_simd_target.c_str());
    std::printf("kernels:\n");
    for (const std::string& choice : info.kernel_choices) std::printf("  %s\n", choice.c_str());
    std::printf("threads by default (--threads 0): %d, one per CPU this process may run on (%s)\n",
                info.default_threads, CpuRanges(info.allowed_cpus).c_str());
#ifdef LMHEAD_WITH_ONEDNN
    std::printf("built with: oneDNN baseline (lmhead bench --compare onednn)\n");
#endif
    if (*measure) {
      const BandwidthProbe bandwidth = MeasureReadBandwidth(size_t{1} << 30, 0, 5);
      std::printf("read bandwidth: %.2f GB/s median, %.2f best (%d threads, 1 GiB)\n",
                  bandwidth.median_gbps, bandwidth.best_gbps, bandwidth.num_threads);
      PrintPeak("AMX-BF16", MeasureAmxBf16Peak(0, 5));
      PrintPeak("AVX512-BF16 (vdpbf16ps)", MeasureAvx512Bf16Peak(0, 5));
      PrintPeak("fp32 FMA", MeasureFp32FmaPeak(0, 5));
    }
    return kExitOk;
  };
}

}  // namespace lmhead::cli
