// SPDX-License-Identifier: Apache-2.0
// Test-only: the AMX kernels of amx_matmul-inl.h run on a scalar model of the tile registers.
//
// Defined in amx_emulated.cc (compiled with AVX-512 flags for the decode); run
// only where CpuFeatures has kCpuAvx512. Lets CPUs without AMX test the
// kernels' data layout, blocking, edge handling and fast-path checks.
#ifndef LMHEAD_KERNELS_AMX_AMX_EMULATED_H_
#define LMHEAD_KERNELS_AMX_AMX_EMULATED_H_

#include <cstdint>
#include <memory>

#include "kernels/kernels.h"

namespace lmhead::amx_test {

// amx::GemvPanels / amx::GemmPanels with emulated tiles, on kBfp4bPanels
// weights (gemv: 1 <= m <= 32).
void EmulatedGemv(const MatmulArgs& args);
void EmulatedGemm(const MatmulArgs& args);

// A MatmulKernels entry for the kernel tests: the registered AMX set's gemv
// and gemm with emulated tiles, except that the gemv keeps the tiles for
// every m (the real set hands m < kAmxMinRows to the vdpbf16ps set).
// amx_emulated.cc is compiled with AVX512-BF16, so the set needs it too.
const MatmulKernels& EmulatedAmxKernels();

// amx::LofiPanels with emulated tiles, and the registered AMX tt-lofi set
// with them (needing AVX512-BF16, as above), except that it keeps the tiles
// for every m.
void EmulatedLofi(const MatmulArgs& args);
const MatmulKernels& EmulatedAmxLofiKernels();

// amx::DecodePanelTile of a packed tile into two 16 x 32 bf16 arrays (left,
// right halves).
void DecodePanelTile(const uint8_t* tile, uint16_t* left, uint16_t* right);

}  // namespace lmhead::amx_test

#endif  // LMHEAD_KERNELS_AMX_AMX_EMULATED_H_
