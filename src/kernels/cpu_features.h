// SPDX-License-Identifier: Apache-2.0
// Which instruction sets the fast kernels may use on this CPU: CPUID, XCR0 and the AMX permission.
//
// The engine selects kernels once (FindMatmulKernels) from CpuFeaturesForKernels(),
// which is what this CPU and OS allow, lowered by the LMHEAD_KERNELS environment
// variable for tests and benchmarks:
//   LMHEAD_KERNELS=ref      the scalar reference only
//   LMHEAD_KERNELS=avx2     at most AVX2 kernels
//   LMHEAD_KERNELS=avx512f  at most AVX-512 F/BW/DQ/VL kernels, without AVX512-BF16
//                           (as on Skylake-SP to Ice Lake servers)
//   LMHEAD_KERNELS=avx512   at most AVX-512 (F/BW/DQ/VL, plus AVX512-BF16) kernels
//   LMHEAD_KERNELS=amx      everything this CPU has (the default when unset or empty)
// The variable never raises the level above what the CPU supports.
#ifndef LMHEAD_KERNELS_CPU_FEATURES_H_
#define LMHEAD_KERNELS_CPU_FEATURES_H_

#include <string>
#include <string_view>

#include "kernels/kernels.h"
#include "lmhead/status.h"

namespace lmhead {

// The environment variable that caps the kernel level (see above).
inline constexpr const char* kKernelsEnvVar = "LMHEAD_KERNELS";

// What this CPU and OS support, detected once per process and cached
// (thread-safe). kCpuAvx2 needs AVX2 and FMA with YMM state enabled in XCR0;
// kCpuAvx512 needs F, BW, DQ and VL with ZMM state enabled; kCpuAvx512Bf16 needs
// kCpuAvx512 plus AVX512_BF16; kCpuAmxBf16 needs AMX-TILE and AMX-BF16, tile
// state in XCR0 and the Linux permission to use it, requested here once with
// arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA). When the kernel refuses,
// one line goes to stderr and the AMX bit stays clear, so AVX-512 kernels run.
CpuFeatures DetectCpuFeatures();

// `detected` limited to the level named by `level` ("ref", "avx2", "avx512f",
// "avx512", "amx"; "" means no limit). InvalidArgument for any other name.
Result<CpuFeatures> LimitCpuFeatures(CpuFeatures detected, std::string_view level);

// DetectCpuFeatures() limited by $LMHEAD_KERNELS: what the engine passes to
// FindMatmulKernels. InvalidArgument when the variable holds an unknown level.
Result<CpuFeatures> CpuFeaturesForKernels();

// "avx2,avx512,avx512bf16,amx-bf16", or "none": for logs and benchmark labels.
std::string ToString(CpuFeatures features);

}  // namespace lmhead

#endif  // LMHEAD_KERNELS_CPU_FEATURES_H_
