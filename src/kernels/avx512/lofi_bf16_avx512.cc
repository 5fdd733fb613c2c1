// SPDX-License-Identifier: Apache-2.0
// The tt-lofi panel kernel with vdpbf16ps products: lofi_panels-inl.h for AVX512-BF16.
#include "kernels/avx512/avx512_kernels.h"
#include "kernels/avx512/lofi_panels-inl.h"

namespace lmhead {

void MatmulTtLofiAvx512Bf16(const MatmulArgs& args) {
  avx512_lofi_bf16::MatmulTtLofiPanels<avx512_lofi_bf16::Products::kVdpbf16ps>(args);
}

}  // namespace lmhead
