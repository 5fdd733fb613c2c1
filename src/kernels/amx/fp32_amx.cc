// SPDX-License-Identifier: Apache-2.0
// The AMX-BF16 kernels: amx_matmul-inl.h instantiated with the tile instructions.
#include <cstdint>
#include <memory>

#include "kernels/amx/amx_kernels.h"
#include "kernels/amx/amx_matmul-inl.h"
#include "kernels/amx/amx_tiles.h"
#include "kernels/avx512/avx512_kernels.h"
#include "kernels/x86_intrinsics.h"

namespace lmhead {

using amx::AmxTiles;

std::unique_ptr<PreparedActivations> PrepareFp32Amx(const MatmulArgs& args) {
  return std::make_unique<amx::AmxFp32Rows>(args);
}

void MatmulFp32AmxGemv(const MatmulArgs& args) {
  if (args.m < kAmxMinRows) {
    MatmulArgs part = args;  // the vdpbf16ps set's prepare is the ranges alone
    if (args.prepared != nullptr) {
      part.prepared = &static_cast<const amx::AmxFp32Rows*>(args.prepared)->ranges;
    }
    MatmulFp32Avx512Bf16(part);
  } else {
    amx::GemvPanels<AmxTiles>(args);
  }
}

void MatmulFp32AmxGemm(const MatmulArgs& args) {
  if (args.m <= kMaxDecodeRows) {
    MatmulFp32AmxGemv(args);
  } else {
    amx::GemmPanels<AmxTiles>(args);
  }
}

}  // namespace lmhead
