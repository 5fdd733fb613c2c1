// SPDX-License-Identifier: Apache-2.0
// The AVX2 kernel sets (AVX2 and FMA): entry points only, no intrinsics here.
//
// Each function is defined in its own file compiled with -mavx2 -mfma
// (CMakeLists.txt); callers run them only when CpuFeatures has kCpuAvx2
// (registry.cc). As with the AVX-512 files, those files call no inline
// function of a shared header, so no AVX2 copy of one can reach the rest of
// the program through the linker.
#ifndef LMHEAD_KERNELS_AVX2_AVX2_KERNELS_H_
#define LMHEAD_KERNELS_AVX2_AVX2_KERNELS_H_

#include "kernels/kernels.h"

namespace lmhead {

// fp32 numerics for bfp4_b and bfp8_b weights on CPUs without AVX-512: each
// tile decoded exactly to fp32 once per block of up to 32 rows, fp32 FMA
// accumulation. One function serves gemv (a decode call reads the weights
// once) and gemm.
void MatmulFp32Avx2(const MatmulArgs& args);

// tt-lofi numerics for bfp4_b and bfp8_b weights on CPUs without AVX-512,
// bit-exact with MatmulTtLofiReference for every input (NaN payloads aside):
// its double arithmetic, 32 columns at once. One function serves gemv and
// gemm; a decode call reads the weights once.
void MatmulTtLofiAvx2(const MatmulArgs& args);

}  // namespace lmhead

#endif  // LMHEAD_KERNELS_AVX2_AVX2_KERNELS_H_
