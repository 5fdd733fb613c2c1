// SPDX-License-Identifier: Apache-2.0
// The AMX-BF16 kernel set: entry points only, no intrinsics here.
//
// Defined in fp32_amx.cc, compiled with AVX-512 and AMX flags; callers run
// them only when CpuFeatures has kCpuAmxBf16 and kCpuAvx512 (registry.cc),
// which DetectCpuFeatures sets only after the OS granted tile data.
#ifndef LMHEAD_KERNELS_AMX_AMX_KERNELS_H_
#define LMHEAD_KERNELS_AMX_AMX_KERNELS_H_

#include "kernels/kernels.h"

namespace lmhead {

// fp32 numerics for bfp4_b weights: tiles decoded exactly to bf16 in VNNI
// layout, TDPBF16PS with fp32 accumulation. Rows below kAmxMinRows go to
// MatmulFp32Avx512 (tiles of 16 rows would be mostly padding), and so does a
// call whose weights hold exponent bytes outside [3, 254] (values that are
// fp32 denormals, inf or NaN, which TDPBF16PS would flush or mistreat).
// Activations that are bf16 denormals count as zero (AMX flushes them).
inline constexpr int64_t kAmxMinRows = 4;
void MatmulFp32AmxGemv(const MatmulArgs& args);  // m <= 32: weights read once
void MatmulFp32AmxGemm(const MatmulArgs& args);  // any m

}  // namespace lmhead

#endif  // LMHEAD_KERNELS_AMX_AMX_KERNELS_H_
