// SPDX-License-Identifier: Apache-2.0
// The AMX-BF16 tt-lofi kernel: amx_lofi-inl.h instantiated with the tile instructions.
#include "kernels/amx/amx_kernels.h"
#include "kernels/amx/amx_lofi-inl.h"
#include "kernels/amx/amx_tiles.h"
#include "kernels/avx512/avx512_kernels.h"

namespace lmhead {

void MatmulTtLofiAmx(const MatmulArgs& args) {
  if (args.m < kAmxMinRows) {
    MatmulTtLofiAvx512Fma(args);  // the same prepare: args.prepared is its own
  } else {
    amx::LofiPanels<amx::AmxTiles>(args);
  }
}

}  // namespace lmhead
