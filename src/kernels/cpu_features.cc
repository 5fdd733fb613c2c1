// SPDX-License-Identifier: Apache-2.0
// CPUID/XCR0 detection of the kernels' instruction sets and the one-time AMX permission request.
#include "kernels/cpu_features.h"

#include <fmt/format.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#if defined(__x86_64__)
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace lmhead {
namespace {

#if defined(__x86_64__)

struct CpuidRegs {
  uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0;
};

CpuidRegs Cpuid(uint32_t leaf, uint32_t subleaf) {
  CpuidRegs r;
  if (__get_cpuid_count(leaf, subleaf, &r.eax, &r.ebx, &r.ecx, &r.edx) == 0) return CpuidRegs{};
  return r;
}

bool Bit(uint32_t word, int bit) { return ((word >> bit) & 1u) != 0; }

// XCR0: which register states the OS saves on context switch. Inline asm
// because the _xgetbv intrinsic needs -mxsave on the whole file.
uint64_t ReadXcr0() {
  uint32_t eax = 0, edx = 0;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<uint64_t>(edx) << 32) | eax;
}

// Linux >= 5.16 keeps AMX tile data off until the process asks (arch_prctl).
bool RequestAmxPermission() {
  constexpr int kArchReqXcompPerm = 0x1023;
  constexpr int kXfeatureXtiledata = 18;
  if (syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0) return true;
  std::fprintf(stderr,
               "lmhead: the OS refused AMX tile data (arch_prctl ARCH_REQ_XCOMP_PERM); "
               "using AVX-512 kernels instead\n");
  return false;
}

CpuFeatures Detect() {
  CpuFeatures features;
  const CpuidRegs leaf0 = Cpuid(0, 0);
  if (leaf0.eax < 7) return features;
  const CpuidRegs leaf1 = Cpuid(1, 0);
  if (!Bit(leaf1.ecx, 27)) return features;  // OSXSAVE: XCR0 is readable.
  const uint64_t xcr0 = ReadXcr0();
  const bool ymm_state = (xcr0 & 0x6) == 0x6;                 // SSE and AVX state
  const bool zmm_state = ymm_state && (xcr0 & 0xE0) == 0xE0;  // opmask, ZMM_Hi256, Hi16_ZMM
  const bool tile_state = (xcr0 & 0x60000) == 0x60000;        // XTILECFG, XTILEDATA
  const CpuidRegs leaf7 = Cpuid(7, 0);
  const CpuidRegs leaf7_1 = Cpuid(7, 1);
  const bool avx2 = ymm_state && Bit(leaf1.ecx, 12) && Bit(leaf1.ecx, 28) && Bit(leaf7.ebx, 5);
  if (avx2) features.bits |= kCpuAvx2;
  const bool avx512 = avx2 && zmm_state && Bit(leaf7.ebx, 16) && Bit(leaf7.ebx, 17) &&
                      Bit(leaf7.ebx, 30) && Bit(leaf7.ebx, 31);
  if (avx512) features.bits |= kCpuAvx512;
  if (avx512 && Bit(leaf7_1.eax, 5)) features.bits |= kCpuAvx512Bf16;
  const bool amx = avx512 && tile_state && Bit(leaf7.edx, 22) && Bit(leaf7.edx, 24);
  if (amx && RequestAmxPermission()) features.bits |= kCpuAmxBf16;
  return features;
}

#else

CpuFeatures Detect() { return CpuFeatures{}; }

#endif

}  // namespace

CpuFeatures DetectCpuFeatures() {
  static const CpuFeatures features = Detect();
  return features;
}

Result<CpuFeatures> LimitCpuFeatures(CpuFeatures detected, std::string_view level) {
  uint32_t allowed = 0;
  if (level.empty() || level == "amx") {
    allowed = ~0u;
  } else if (level == "avx512") {
    allowed = kCpuAvx2 | kCpuAvx512 | kCpuAvx512Bf16;
  } else if (level == "avx512f") {
    allowed = kCpuAvx2 | kCpuAvx512;
  } else if (level == "avx2") {
    allowed = kCpuAvx2;
  } else if (level != "ref") {
    return Status::InvalidArgument(
        fmt::format("[LimitCpuFeatures] unknown kernel level '{}' (from ${}); use ref, avx2, "
                    "avx512f, avx512 or amx, or unset it",
                    level, kKernelsEnvVar));
  }
  return CpuFeatures{detected.bits & allowed};
}

Result<CpuFeatures> CpuFeaturesForKernels() {
  const char* level = std::getenv(kKernelsEnvVar);
  return LimitCpuFeatures(DetectCpuFeatures(), level == nullptr ? "" : level);
}

std::string ToString(CpuFeatures features) {
  std::string out;
  const auto add = [&](uint32_t bit, const char* name) {
    if (!features.Has(bit)) return;
    if (!out.empty()) out += ',';
    out += name;
  };
  add(kCpuAvx2, "avx2");
  add(kCpuAvx512, "avx512");
  add(kCpuAvx512Bf16, "avx512bf16");
  add(kCpuAmxBf16, "amx-bf16");
  return out.empty() ? "none" : out;
}

}  // namespace lmhead
