// SPDX-License-Identifier: Apache-2.0
// CPU feature detection against /proc/cpuinfo, and the LMHEAD_KERNELS level cap.
#include "kernels/cpu_features.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <set>
#include <sstream>
#include <string>

namespace lmhead {
namespace {

using testing::HasSubstr;

// The "flags" of the first processor in /proc/cpuinfo: what the Linux kernel
// reports as usable, an oracle independent of our CPUID reading.
std::set<std::string> ProcCpuFlags() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) != 0) continue;
    std::istringstream words(line.substr(line.find(':') + 1));
    std::set<std::string> flags;
    for (std::string flag; words >> flag;) flags.insert(flag);
    return flags;
  }
  return {};
}

TEST(DetectCpuFeaturesTest, AgreesWithProcCpuinfo) {
  const std::set<std::string> flags = ProcCpuFlags();
  if (flags.empty()) GTEST_SKIP() << "no /proc/cpuinfo flags on this system";
  const auto has = [&](std::initializer_list<const char*> names) {
    for (const char* name : names) {
      if (flags.count(name) == 0) return false;
    }
    return true;
  };
  const CpuFeatures cpu = DetectCpuFeatures();
  EXPECT_EQ(cpu.Has(kCpuAvx2), has({"avx2", "fma"})) << ToString(cpu);
  EXPECT_EQ(cpu.Has(kCpuAvx512),
            has({"avx2", "fma", "avx512f", "avx512bw", "avx512dq", "avx512vl"}))
      << ToString(cpu);
  EXPECT_EQ(cpu.Has(kCpuAvx512Bf16), cpu.Has(kCpuAvx512) && has({"avx512_bf16"})) << ToString(cpu);
  // The OS may refuse tile data; it never grants it to a CPU without AMX.
  if (cpu.Has(kCpuAmxBf16)) {
    EXPECT_TRUE(has({"amx_bf16", "amx_tile"})) << ToString(cpu);
  }
}

TEST(LimitCpuFeaturesTest, EachLevelKeepsOnlyWhatItAllows) {
  const CpuFeatures all{kCpuAvx2 | kCpuAvx512 | kCpuAvx512Bf16 | kCpuAmxBf16};
  const auto limited = [&](const char* level) {
    Result<CpuFeatures> cpu = LimitCpuFeatures(all, level);
    EXPECT_TRUE(cpu.ok()) << level;
    return cpu.ok() ? cpu->bits : ~0u;
  };
  EXPECT_EQ(limited(""), all.bits);
  EXPECT_EQ(limited("amx"), all.bits);
  EXPECT_EQ(limited("avx512"), kCpuAvx2 | kCpuAvx512 | kCpuAvx512Bf16);
  EXPECT_EQ(limited("avx512f"), kCpuAvx2 | kCpuAvx512);
  EXPECT_EQ(limited("avx2"), kCpuAvx2);
  EXPECT_EQ(limited("ref"), 0u);
  // A level never adds what the CPU lacks.
  Result<CpuFeatures> avx2_only = LimitCpuFeatures(CpuFeatures{kCpuAvx2}, "amx");
  ASSERT_TRUE(avx2_only.ok());
  EXPECT_EQ(avx2_only->bits, kCpuAvx2);
}

TEST(LimitCpuFeaturesTest, UnknownLevelSaysWhatIsValid) {
  Result<CpuFeatures> cpu = LimitCpuFeatures(CpuFeatures{}, "sse");
  ASSERT_FALSE(cpu.ok());
  EXPECT_EQ(cpu.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(cpu.status().message(), HasSubstr("unknown kernel level 'sse'"));
  EXPECT_THAT(cpu.status().message(), HasSubstr("use ref, avx2, avx512f, avx512 or amx"));
}

TEST(CpuFeaturesForKernelsTest, ReadsTheEnvironment) {
  ASSERT_EQ(setenv(kKernelsEnvVar, "ref", 1), 0);
  Result<CpuFeatures> ref = CpuFeaturesForKernels();
  ASSERT_TRUE(ref.ok());
  EXPECT_EQ(ref->bits, 0u);
  ASSERT_EQ(setenv(kKernelsEnvVar, "bogus", 1), 0);
  EXPECT_FALSE(CpuFeaturesForKernels().ok());
  ASSERT_EQ(unsetenv(kKernelsEnvVar), 0);
  Result<CpuFeatures> detected = CpuFeaturesForKernels();
  ASSERT_TRUE(detected.ok());
  EXPECT_EQ(detected->bits, DetectCpuFeatures().bits);
}

TEST(CpuFeaturesToStringTest, ListsTheBits) {
  EXPECT_EQ(ToString(CpuFeatures{}), "none");
  EXPECT_EQ(ToString(CpuFeatures{kCpuAvx2 | kCpuAvx512}), "avx2,avx512");
  EXPECT_EQ(ToString(CpuFeatures{kCpuAvx512Bf16 | kCpuAmxBf16}), "avx512bf16,amx-bf16");
}

}  // namespace
}  // namespace lmhead
