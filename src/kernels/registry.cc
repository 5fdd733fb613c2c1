// SPDX-License-Identifier: Apache-2.0
// The kernel table and its lookup.
#include <fmt/format.h>

#include "kernels/amx/amx_kernels.h"
#include "kernels/avx2/avx2_kernels.h"
#include "kernels/avx512/avx512_kernels.h"
#include "kernels/kernels.h"
#include "kernels/reference.h"

namespace lmhead {
namespace {

// Best first within each (format, numerics); the scalar reference comes last
// because it runs everywhere. Every kernel handles any N range, so nr_tiles
// is 1. The trailing fields (kernels.h) default to TT's row-major tiles, no
// prepare and rows that may depend on the batch: the bfp8_b fp32 AVX-512 set
// and the AVX2 fp32 sets sum a row in another order with few rows than with
// many, and the AMX fp32 set hands rows below kAmxMinRows to the vdpbf16ps
// set.
constexpr MatmulKernels kMatmulKernels[] = {
    {"matmul/bfp4b/fp32/amx", TileFormat::kBfp4b, Numerics::kFp32,
     kCpuAvx512 | kCpuAvx512Bf16 | kCpuAmxBf16, MatmulFp32AmxGemv, MatmulFp32AmxGemm, 1,
     TileLayout::kBfp4bPanels, PrepareFp32Amx},
    {"matmul/bfp4b/fp32/avx512bf16", TileFormat::kBfp4b, Numerics::kFp32,
     kCpuAvx512 | kCpuAvx512Bf16, MatmulFp32Avx512Bf16, MatmulFp32Avx512Bf16Gemm, 1,
     TileLayout::kBfp4bPanels, PrepareFp32Panels, true},
    {"matmul/bfp4b/fp32/avx512", TileFormat::kBfp4b, Numerics::kFp32, kCpuAvx512,
     MatmulFp32Avx512Fma, MatmulFp32Avx512FmaGemm, 1, TileLayout::kBfp4bPanels, PrepareFp32Panels,
     true},
    {"matmul/bfp8b/fp32/avx512", TileFormat::kBfp8b, Numerics::kFp32, kCpuAvx512, MatmulFp32Avx512,
     MatmulFp32Avx512, 1},
    {"matmul/bfp4b/fp32/avx2", TileFormat::kBfp4b, Numerics::kFp32, kCpuAvx2, MatmulFp32Avx2,
     MatmulFp32Avx2, 1},
    {"matmul/bfp8b/fp32/avx2", TileFormat::kBfp8b, Numerics::kFp32, kCpuAvx2, MatmulFp32Avx2,
     MatmulFp32Avx2, 1},
    {"matmul/bfp4b/tt-lofi/amx", TileFormat::kBfp4b, Numerics::kTtLofi,
     kCpuAvx512 | kCpuAvx512Bf16 | kCpuAmxBf16, MatmulTtLofiAmx, MatmulTtLofiAmx, 1,
     TileLayout::kBfp4bPanels, PrepareTtLofiAmx, true},
    {"matmul/bfp4b/tt-lofi/avx512bf16", TileFormat::kBfp4b, Numerics::kTtLofi,
     kCpuAvx512 | kCpuAvx512Bf16, MatmulTtLofiAvx512Bf16, MatmulTtLofiAvx512Bf16, 1,
     TileLayout::kBfp4bPanels, PrepareTtLofiPanels, true},
    {"matmul/bfp4b/tt-lofi/avx512", TileFormat::kBfp4b, Numerics::kTtLofi, kCpuAvx512,
     MatmulTtLofiAvx512Fma, MatmulTtLofiAvx512Fma, 1, TileLayout::kBfp4bPanels, PrepareTtLofiPanels,
     true},
    {"matmul/bfp8b/tt-lofi/avx512", TileFormat::kBfp8b, Numerics::kTtLofi, kCpuAvx512,
     MatmulTtLofiAvx512, MatmulTtLofiAvx512, 1, TileLayout::kTtRowMajor, nullptr, true},
    {"matmul/bfp4b/tt-lofi/avx2", TileFormat::kBfp4b, Numerics::kTtLofi, kCpuAvx2, MatmulTtLofiAvx2,
     MatmulTtLofiAvx2, 1, TileLayout::kTtRowMajor, nullptr, true},
    {"matmul/bfp8b/tt-lofi/avx2", TileFormat::kBfp8b, Numerics::kTtLofi, kCpuAvx2, MatmulTtLofiAvx2,
     MatmulTtLofiAvx2, 1, TileLayout::kTtRowMajor, nullptr, true},
    {"matmul/bfp4b/fp32/ref", TileFormat::kBfp4b, Numerics::kFp32, 0, MatmulFp32Reference,
     MatmulFp32Reference, 1, TileLayout::kTtRowMajor, nullptr, true},
    {"matmul/bfp4b/tt-lofi/ref", TileFormat::kBfp4b, Numerics::kTtLofi, 0, MatmulTtLofiReference,
     MatmulTtLofiReference, 1, TileLayout::kTtRowMajor, nullptr, true},
    {"matmul/bfp8b/fp32/ref", TileFormat::kBfp8b, Numerics::kFp32, 0, MatmulFp32Reference,
     MatmulFp32Reference, 1, TileLayout::kTtRowMajor, nullptr, true},
    {"matmul/bfp8b/tt-lofi/ref", TileFormat::kBfp8b, Numerics::kTtLofi, 0, MatmulTtLofiReference,
     MatmulTtLofiReference, 1, TileLayout::kTtRowMajor, nullptr, true},
};

}  // namespace

Status ValidateLofiOptions(int64_t k_tiles, const LofiOptions& options) {
  if (options.in0_block_w < 1 || k_tiles % options.in0_block_w != 0) {
    return Status::InvalidArgument(fmt::format(
        "[ValidateLofiOptions] in0_block_w {} does not divide Kt {} (K = {}); use a divisor "
        "of Kt, as TTNN requires Kt % in0_block_w == 0",
        options.in0_block_w, k_tiles, k_tiles * kTileDim));
  }
  return Status::Ok();
}

PreparedActivations::~PreparedActivations() = default;

std::span<const MatmulKernels> AllMatmulKernels() { return kMatmulKernels; }

Result<const MatmulKernels*> FindMatmulKernels(TileFormat format, Numerics numerics,
                                               const CpuFeatures& cpu) {
  for (const MatmulKernels& kernels : kMatmulKernels) {
    if (kernels.format == format && kernels.numerics == numerics &&
        cpu.Has(kernels.required_cpu_features)) {
      return &kernels;
    }
  }
  return Status::NotSupported(fmt::format(
      "[FindMatmulKernels] no matmul kernels for {} weights with {} numerics; convert the "
      "weights to bfp4_b or bfp8_b",
      ToString(format), ToString(numerics)));
}

}  // namespace lmhead
