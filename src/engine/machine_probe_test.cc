// SPDX-License-Identifier: Apache-2.0
// Tests: the machine probes report what they measured, and nothing where the CPU cannot run them.
#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>

#include "kernels/cpu_features.h"
#include "lmhead/machine.h"

namespace lmhead {
namespace {

TEST(MachineProbeTest, ReadBandwidthReportsItsBufferThreadsAndRepetitions) {
  const BandwidthProbe probe = MeasureReadBandwidth(size_t{64} << 20, 2, 2);
  EXPECT_EQ(probe.bytes, size_t{64} << 20);
  EXPECT_EQ(probe.num_threads, 2);
  EXPECT_EQ(probe.repetitions, 2);
  EXPECT_GT(probe.median_gbps, 0);
  EXPECT_GE(probe.best_gbps, probe.median_gbps);
}

void ExpectPeakProbe(const ComputeProbe& probe, bool cpu_has_it) {
  EXPECT_EQ(probe.available, cpu_has_it);
  if (!cpu_has_it) {
    EXPECT_EQ(probe.median_tflops, 0);
    EXPECT_EQ(probe.repetitions, 0);
    return;
  }
  EXPECT_EQ(probe.num_threads, 1);
  EXPECT_EQ(probe.repetitions, 1);
  EXPECT_GT(probe.median_tflops, 0);
  EXPECT_GE(probe.best_tflops, probe.median_tflops);
}

// Sets $LMHEAD_KERNELS for the life of the object, then restores it.
class ScopedKernelCap {
 public:
  explicit ScopedKernelCap(const char* level) {
    if (const char* saved = std::getenv(kKernelsEnvVar)) saved_ = saved;
    setenv(kKernelsEnvVar, level, 1);
  }
  ~ScopedKernelCap() {
    if (saved_.has_value()) {
      setenv(kKernelsEnvVar, saved_->c_str(), 1);
    } else {
      unsetenv(kKernelsEnvVar);
    }
  }

 private:
  std::optional<std::string> saved_;
};

TEST(MachineProbeTest, ComputePeaksOnlyWhereTheKernelsMayRunThem) {
  const ScopedKernelCap no_cap("");
  const CpuFeatures cpu = DetectCpuFeatures();
  ExpectPeakProbe(MeasureAvx512Bf16Peak(1, 1), cpu.Has(kCpuAvx512Bf16));
  ExpectPeakProbe(MeasureAmxBf16Peak(1, 1), cpu.Has(kCpuAmxBf16));
  ExpectPeakProbe(MeasureFp32FmaPeak(1, 1), cpu.Has(kCpuAvx2));
}

// Below the cap, a probe reports nothing: a capped bench is measured against
// the limit of the kernels it runs.
TEST(MachineProbeTest, PeaksFollowTheKernelCap) {
  const CpuFeatures cpu = DetectCpuFeatures();
  {
    const ScopedKernelCap cap("avx2");
    ExpectPeakProbe(MeasureAvx512Bf16Peak(1, 1), false);
    ExpectPeakProbe(MeasureAmxBf16Peak(1, 1), false);
    ExpectPeakProbe(MeasureFp32FmaPeak(1, 1), cpu.Has(kCpuAvx2));
  }
  const ScopedKernelCap cap("ref");
  ExpectPeakProbe(MeasureFp32FmaPeak(1, 1), false);
}

}  // namespace
}  // namespace lmhead
