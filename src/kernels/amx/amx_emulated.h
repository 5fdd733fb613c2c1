// SPDX-License-Identifier: Apache-2.0
// Test-only: the AMX kernels of amx_matmul-inl.h run on a scalar model of the tile registers.
//
// Defined in amx_emulated.cc (compiled with AVX-512 flags for the decode); run
// only where CpuFeatures has kCpuAvx512. Lets CPUs without AMX test the
// kernels' data layout, blocking and edge handling.
#ifndef LMHEAD_KERNELS_AMX_AMX_EMULATED_H_
#define LMHEAD_KERNELS_AMX_AMX_EMULATED_H_

#include <cstdint>

#include "kernels/kernels.h"

namespace lmhead::amx_test {

// amx::GemvBfp4 / amx::GemmBfp4 with emulated tiles; same return values.
bool EmulatedGemvBfp4(const MatmulArgs& args);
bool EmulatedGemmBfp4(const MatmulArgs& args);

// amx::DecodeBfp4ToVnni into two 16 x 32 bf16 arrays (left, right halves).
bool DecodeBfp4ToVnni(const uint8_t* tile, uint16_t* left, uint16_t* right);

}  // namespace lmhead::amx_test

#endif  // LMHEAD_KERNELS_AMX_AMX_EMULATED_H_
