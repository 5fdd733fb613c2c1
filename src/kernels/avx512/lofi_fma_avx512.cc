// SPDX-License-Identifier: Apache-2.0
// The tt-lofi panel kernel with fp32 FMA products: lofi_panels-inl.h for AVX-512 F.
#include "kernels/avx512/avx512_kernels.h"
#include "kernels/avx512/lofi_panels-inl.h"

namespace lmhead {

void MatmulTtLofiAvx512Fma(const MatmulArgs& args) {
  avx512_lofi_bf16::MatmulTtLofiPanels<avx512_lofi_bf16::Products::kFma>(args);
}

}  // namespace lmhead
