// SPDX-License-Identifier: Apache-2.0
// Scalar bfloat4_b/bfloat8_b group packing and decoding: the executable specification.
//
// Each function restates one rule of shared/spec/tt-numerics.md and names its
// section. The SIMD code (bfp-inl.h) must match these functions bit for bit;
// bfp_simd_test.cc checks that on every compiled target.
#ifndef LMHEAD_FORMATS_BFP_H_
#define LMHEAD_FORMATS_BFP_H_

#include <cstdint>

#include "lmhead/formats.h"

namespace lmhead {

// BITS of spec 2.2: magnitude bits of one datum, 3 for bfp4_b and 7 for bfp8_b.
// A code is (sign << BITS) | magnitude. Precondition: IsBfp(format).
int BfpMagnitudeBits(TileFormat format);

// Spec 2.2 for one group of 16 fp32 bit patterns: returns the shared exponent
// byte E and writes the 16 codes. E is the maximum raw exponent field; values are
// aligned to it by a truncating shift, rounded to nearest even on the aligned
// window, saturated, zero/denormal inputs give +0 and a zero magnitude drops the sign.
uint8_t PackBfpGroup(int bits, const uint32_t* values, uint8_t* codes);

// Spec 1.3: the group's data bytes. bfp8_b: one code per byte. bfp4_b: two codes
// per byte, element 2k in the low nibble and 2k+1 in the high nibble.
void StoreBfpGroupCodes(int bits, const uint8_t* codes, uint8_t* data);
void LoadBfpGroupCodes(int bits, const uint8_t* data, uint8_t* codes);

// Spec 3.2: TT's host decode of one code under exponent E, as fp32 bits. A zero
// magnitude gives +-0 by its sign bit; a value whose normalised exponent would be
// negative gives +0 (2025+ rule); E - lz == 0 gives TT's denormal bit pattern.
uint32_t DecodeBfpCode(int bits, uint8_t exponent, uint8_t code);

// Decodes one group (exponent byte + data bytes) into 16 fp32 bit patterns.
void DecodeBfpGroup(int bits, uint8_t exponent, const uint8_t* data, uint32_t* values);

}  // namespace lmhead

#endif  // LMHEAD_FORMATS_BFP_H_
