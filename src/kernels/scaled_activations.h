// SPDX-License-Identifier: Apache-2.0
// When folding a bfp group's scale into the activation is exact: xs = x * 2^(E - bias).
//
// The fp32 gemv loops for few rows multiply codes by scaled activations
// instead of decoded weights by activations: xs * code = x * (code * 2^(E -
// bias)) holds exactly, and each FMA then gives the same bits, only while
// every xs is a normal fp32 (or zero). A denormal xs is rounded by a multiply
// and wrong from an exponent-field add; an xs past the largest exponent is inf
// (inf times a zero code is NaN where the weight's product is 0). Denormal,
// inf and NaN activations are refused too: their exponent field does not
// scale.
//
// Plain scalar code with internal linkage, shared by the kernel files of
// every instruction set (see tile_passes.h for why no shared inline function
// may have external linkage there).
#ifndef LMHEAD_KERNELS_SCALED_ACTIVATIONS_H_
#define LMHEAD_KERNELS_SCALED_ACTIVATIONS_H_

#include <cstdint>

namespace lmhead::scaled_activations {

// The smallest and largest biased exponent seen; lo > hi when none was.
struct ExponentBounds {
  int lo = 255;
  int hi = 0;
};

// Widens `b` by the exponents of the non-zero bf16 values bf16[0..n). A zero
// has exponent 0, which leaves hi as it is and counts as 255 for lo; 16-bit
// arithmetic without branches, so that the compiler vectorizes the loop.
static inline void AddActivations(const uint16_t* bf16, int n, ExponentBounds& b) {
  uint16_t lo = static_cast<uint16_t>(b.lo), hi = static_cast<uint16_t>(b.hi);
  for (int i = 0; i < n; ++i) {
    const uint16_t magnitude = bf16[i] & 0x7FFF;
    const uint16_t e = magnitude >> 7;
    const uint16_t e_lo = static_cast<uint16_t>(e + (magnitude == 0 ? 255 : 0));
    lo = e_lo < lo ? e_lo : lo;
    hi = e > hi ? e : hi;
  }
  b = {lo, hi};
}

// The bounds of a tile's 64 group exponent bytes (byte-wide, so that the
// compiler turns the loop into vector min and max).
static inline ExponentBounds OfTileExponents(const uint8_t* bytes) {
  uint8_t lo = 255, hi = 0;
  for (int i = 0; i < 64; ++i) {
    lo = bytes[i] < lo ? bytes[i] : lo;
    hi = bytes[i] > hi ? bytes[i] : hi;
  }
  return {lo, hi};
}

// Whether every non-zero x * 2^(E - bias) is a normal fp32, for activations
// with exponent bounds x and group exponents with bounds e: no denormal, inf
// or NaN x, and every exponent sum within [1, 254].
static inline bool AreExact(const ExponentBounds& x, const ExponentBounds& e, int bias) {
  if (x.lo > x.hi) return true;  // every activation is zero
  if (x.lo == 0 || x.hi == 255) return false;
  return x.lo + e.lo - bias >= 1 && x.hi + e.hi - bias <= 254;
}

// Whether a tile (its 64 group exponent bytes first) may fold: every weight
// code * 2^(E - bias) is a normal fp32 or zero (E in [bias - 126, 254], so no
// weight needs TT's slower host decode), and AreExact for activations with
// exponent bounds x.
static inline bool TileFoldIsExact(const ExponentBounds& x, const uint8_t* tile, int bias) {
  const ExponentBounds e = OfTileExponents(tile);
  return e.lo >= bias - 126 && e.hi <= 254 && AreExact(x, e, bias);
}

}  // namespace lmhead::scaled_activations

#endif  // LMHEAD_KERNELS_SCALED_ACTIVATIONS_H_
