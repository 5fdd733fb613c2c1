// SPDX-License-Identifier: Apache-2.0
// The AVX-512 kernel sets (F/BW/DQ/VL): entry points only, no intrinsics here.
//
// Each function is defined in its own file compiled with -mavx512f -mavx512bw
// -mavx512dq -mavx512vl (CMakeLists.txt); callers run them only when
// CpuFeatures has kCpuAvx512 (registry.cc). Those files include no header that
// defines inline functions they call, so no AVX-512 copy of a shared inline
// function can reach the rest of the program through the linker.
#ifndef LMHEAD_KERNELS_AVX512_AVX512_KERNELS_H_
#define LMHEAD_KERNELS_AVX512_AVX512_KERNELS_H_

#include "kernels/kernels.h"

namespace lmhead {

// tt-lofi numerics for bfp4_b and bfp8_b weights, bit-exact with
// MatmulTtLofiReference for every input (NaN payloads aside). One function
// serves gemv and gemm: it decodes each weight chunk once per block of up to
// 32 rows, so a decode call (m <= 32) reads the weights once.
void MatmulTtLofiAvx512(const MatmulArgs& args);

// fp32 numerics for bfp8_b weights: each tile decoded exactly to fp32 once
// per block of up to 32 rows, fp32 FMA accumulation. One function serves
// gemv (a decode call reads the weights once) and gemm.
void MatmulFp32Avx512(const MatmulArgs& args);

// fp32 numerics for bfp4_b weights in TileLayout::kBfp4bPanels, with
// vdpbf16ps (needs AVX512-BF16 too; its file adds -mavx512bf16). The gemv,
// and the gemm's path for few rows; a row's result does not depend on the
// other rows.
void MatmulFp32Avx512Bf16(const MatmulArgs& args);

// Its MatmulKernels::prepare, which the gemm, the AMX fp32 set and
// MatmulFp32Avx512Fma read too: the exponent range of every row for the
// fast-path check, once per input. AVX-512 F/BW/DQ/VL only.
std::unique_ptr<PreparedActivations> PrepareFp32Panels(const MatmulArgs& args);

// The gemm of the same kernel set, bit-identical with MatmulFp32Avx512Bf16
// row by row: from 33 rows up it decodes each panel once per block of 192
// rows into an L1-resident bf16 buffer; fewer rows go to the function above.
void MatmulFp32Avx512Bf16Gemm(const MatmulArgs& args);

// The same numerics and layout with fp32 FMAs for the products: AVX-512
// F/BW/DQ/VL only. The gemv, and the gemm's path for few rows; a row's result
// does not depend on the other rows.
void MatmulFp32Avx512Fma(const MatmulArgs& args);

// Its gemm, bit-identical with MatmulFp32Avx512Fma row by row: from 33 rows
// up it decodes each panel to fp32 once per block of 192 rows into an
// L1-resident buffer; fewer rows go to the function above.
void MatmulFp32Avx512FmaGemm(const MatmulArgs& args);

// tt-lofi numerics for bfp4_b weights in TileLayout::kBfp4bPanels, with
// vdpbf16ps where the chunk sums are provably exact (needs AVX512-BF16 too);
// bit-exact with MatmulTtLofiReference like MatmulTtLofiAvx512. Serves gemv
// and gemm.
void MatmulTtLofiAvx512Bf16(const MatmulArgs& args);

// The same kernel with fp32 FMAs for the products: AVX-512 F/BW/DQ/VL only.
void MatmulTtLofiAvx512Fma(const MatmulArgs& args);

// Their MatmulKernels::prepare, and the AMX set's: the LoFi activations and
// chunk statistics of every row (ScanRows), which every call over another
// bank reads instead.
std::unique_ptr<PreparedActivations> PrepareTtLofiPanels(const MatmulArgs& args);

}  // namespace lmhead

#endif  // LMHEAD_KERNELS_AVX512_AVX512_KERNELS_H_
