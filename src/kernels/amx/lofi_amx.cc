// SPDX-License-Identifier: Apache-2.0
// The AMX-BF16 tt-lofi kernel: amx_lofi-inl.h instantiated with the tile instructions.
#include <memory>

#include "kernels/amx/amx_kernels.h"
#include "kernels/amx/amx_lofi-inl.h"
#include "kernels/amx/amx_tiles.h"
#include "kernels/avx512/avx512_kernels.h"

namespace lmhead {

std::unique_ptr<PreparedActivations> PrepareTtLofiAmx(const MatmulArgs& args) {
  return std::make_unique<amx::AmxLofiRows>(args);
}

void MatmulTtLofiAmx(const MatmulArgs& args) {
  if (args.m < kAmxMinRows) {
    MatmulArgs part = args;  // the FMA set's prepare is the scan alone
    if (args.prepared != nullptr) {
      part.prepared = &static_cast<const amx::AmxLofiRows*>(args.prepared)->scanned;
    }
    MatmulTtLofiAvx512Fma(part);
  } else {
    amx::LofiPanels<amx::AmxTiles>(args);
  }
}

}  // namespace lmhead
