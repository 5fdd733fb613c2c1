// SPDX-License-Identifier: Apache-2.0
// The scalar reference kernels: the executable spec of both numerics and the test oracle.
#ifndef LMHEAD_KERNELS_REFERENCE_H_
#define LMHEAD_KERNELS_REFERENCE_H_

#include "kernels/kernels.h"

namespace lmhead {

// Numerics::kFp32: bf16 activations times exactly decoded weights, summed in
// double in increasing k and rounded once to fp32: the "exact" reference.
// Every product is exact in double (at most 8 x 7 significant bits). The sum
// is exact while the products span less than about 2^24 in magnitude at
// K = 7168; beyond that its error, below K * 2^-53 * sum_k |x_k w_k|, can move
// the final fp32 rounding only for results that close to a rounding boundary.
void MatmulFp32Reference(const MatmulArgs& args);

// Numerics::kTtLofi: the spec §4.8 recipe tile by tile (tt_lofi.h): LofiSrcB
// activations, LofiSrcA weights, K blocks of args.lofi.in0_block_w tiles,
// 16-term chunks in increasing k, bf16 Dst, packer L1 accumulation when
// args.lofi.packer_l1_acc and more than two blocks. y holds bf16 values.
void MatmulTtLofiReference(const MatmulArgs& args);

}  // namespace lmhead

#endif  // LMHEAD_KERNELS_REFERENCE_H_
