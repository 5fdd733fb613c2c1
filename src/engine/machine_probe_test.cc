// SPDX-License-Identifier: Apache-2.0
// Tests: the machine probes report what they measured, and nothing where the CPU cannot run them.
#include <gtest/gtest.h>

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

TEST(MachineProbeTest, ComputePeaksOnlyWhereTheCpuRunsThem) {
  const CpuFeatures cpu = DetectCpuFeatures();
  ExpectPeakProbe(MeasureAvx512Bf16Peak(1, 1), cpu.Has(kCpuAvx512Bf16));
  ExpectPeakProbe(MeasureAmxBf16Peak(1, 1), cpu.Has(kCpuAmxBf16));
}

}  // namespace
}  // namespace lmhead
