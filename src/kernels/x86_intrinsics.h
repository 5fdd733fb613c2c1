// SPDX-License-Identifier: Apache-2.0
// <immintrin.h> without GCC 12's false -Wuninitialized warnings from its own headers.
//
// GCC 12's _mm512_undefined_* helpers initialise a variable with itself, which
// -Wuninitialized reports inside the intrinsic headers wherever e.g.
// _mm512_cvtpd_ps is inlined (fixed in later GCC). The warning points into the
// system header, so silencing it around the include keeps it on for our code.
#ifndef LMHEAD_KERNELS_X86_INTRINSICS_H_
#define LMHEAD_KERNELS_X86_INTRINSICS_H_

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#endif  // LMHEAD_KERNELS_X86_INTRINSICS_H_
