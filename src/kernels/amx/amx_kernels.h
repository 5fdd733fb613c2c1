// SPDX-License-Identifier: Apache-2.0
// The AMX-BF16 kernel set: entry points only, no intrinsics here.
//
// Defined in fp32_amx.cc, compiled with AVX-512 and AMX flags; callers run
// them only when CpuFeatures has kCpuAmxBf16, kCpuAvx512 and kCpuAvx512Bf16
// (registry.cc), which DetectCpuFeatures sets only after the OS granted tile
// data.
#ifndef LMHEAD_KERNELS_AMX_AMX_KERNELS_H_
#define LMHEAD_KERNELS_AMX_AMX_KERNELS_H_

#include <memory>

#include "kernels/kernels.h"

namespace lmhead {

// fp32 numerics for bfp4_b weights in TileLayout::kBfp4bPanels: tiles
// decoded exactly to bf16 in VNNI layout, TDPBF16PS with fp32 accumulation
// (amx_matmul-inl.h says why that meets the fp32 bound). Rows below
// kAmxMinRows go to MatmulFp32Avx512Bf16: tiles of so few rows spend more on
// the decode than they save.
inline constexpr int64_t kAmxMinRows = 4;
void MatmulFp32AmxGemv(const MatmulArgs& args);  // m <= 32: weights read once
void MatmulFp32AmxGemm(const MatmulArgs& args);  // any m
// Their prepare: the vdpbf16ps set's (PrepareFp32Panels) plus the rows in
// tile order (activation_tiles.h), from which the A tiles load.
std::unique_ptr<PreparedActivations> PrepareFp32Amx(const MatmulArgs& args);

// tt-lofi numerics for bfp4_b weights in TileLayout::kBfp4bPanels, bit-exact
// with MatmulTtLofiReference: chunk sums from TDPBF16PS where provably exact
// (amx_lofi-inl.h), rounded into Dst with AVX-512. Serves gemv and gemm; rows
// below kAmxMinRows go to MatmulTtLofiAvx512Fma (same bits), which outran
// the vdpbf16ps set on an AMX host, where vdpbf16ps issues at half the FMA
// rate (docs/performance.md).
void MatmulTtLofiAmx(const MatmulArgs& args);
// Its prepare: the panel sets' scan (PrepareTtLofiPanels) plus its LoFi
// activations in tile order (activation_tiles.h), from which the A tiles load.
std::unique_ptr<PreparedActivations> PrepareTtLofiAmx(const MatmulArgs& args);

}  // namespace lmhead

#endif  // LMHEAD_KERNELS_AMX_AMX_KERNELS_H_
