// SPDX-License-Identifier: Apache-2.0
// Scalar bfloat4_b/bfloat8_b group packing and decoding: the executable specification.
#include "formats/bfp.h"

#include <algorithm>

#include "base/check.h"

namespace lmhead {
namespace {

// fp32 fields.
constexpr uint32_t kExponentMask = 0xFF;
constexpr int kMantissaBits = 23;
constexpr uint32_t kMantissaMask = (1u << kMantissaBits) - 1;
constexpr uint32_t kHiddenOne = 1u << kMantissaBits;

uint32_t RawExponent(uint32_t value) { return (value >> kMantissaBits) & kExponentMask; }

}  // namespace

int BfpMagnitudeBits(TileFormat format) {
  LMHEAD_CHECK(IsBfp(format), "not a block-float format: {}", ToString(format));
  return format == TileFormat::kBfp4b ? 3 : 7;
}

uint8_t PackBfpGroup(int bits, const uint32_t* values, uint8_t* codes) {
  // Spec 2.2 point 1: the shared exponent is the largest raw exponent field of
  // the group, before any rounding (NaN/Inf give 255, zeros and denormals 0).
  uint32_t shared_exp = 0;
  for (int idx = 0; idx < kBfpGroupSize; ++idx) {
    shared_exp = std::max(shared_exp, RawExponent(values[idx]));
  }
  // The magnitude keeps the top BITS of the 24-bit significand aligned to E;
  // the low `shift` bits are the rounding window.
  const int shift = 24 - bits;
  const uint32_t half = 1u << (shift - 1);
  const uint32_t window_mask = (1u << shift) - 1;
  const uint32_t max_mag = (1u << bits) - 1;
  for (int idx = 0; idx < kBfpGroupSize; ++idx) {
    const uint32_t value = values[idx];
    const uint32_t exp = RawExponent(value);
    if (exp == 0) {  // Point 4: +-0 and denormals become +0.
      codes[idx] = 0;
      continue;
    }
    uint32_t significand = (value & kMantissaMask) | kHiddenOne;
    // Point 2: align by a truncating shift; the bits shifted out are lost
    // before the rounding decision below.
    const uint32_t align = shared_exp - exp;
    significand = align >= 32 ? 0 : significand >> align;
    uint32_t mag = significand >> shift;
    const uint32_t rest = significand & window_mask;
    if (rest > half || (rest == half && (mag & 1u) != 0)) ++mag;  // RNE on the aligned window.
    mag = std::min(mag, max_mag);  // Point 3: saturate, never bump the exponent.
    const uint32_t sign = mag == 0 ? 0 : value >> 31;  // Spec 1.1: no negative zero.
    codes[idx] = static_cast<uint8_t>((sign << bits) | mag);
  }
  return static_cast<uint8_t>(shared_exp);
}

void StoreBfpGroupCodes(int bits, const uint8_t* codes, uint8_t* data) {
  if (bits == 7) {
    std::copy(codes, codes + kBfpGroupSize, data);
    return;
  }
  for (int pair = 0; pair < kBfpGroupSize / 2; ++pair) {
    data[pair] = static_cast<uint8_t>(codes[2 * pair] | (codes[2 * pair + 1] << 4));
  }
}

void LoadBfpGroupCodes(int bits, const uint8_t* data, uint8_t* codes) {
  if (bits == 7) {
    std::copy(data, data + kBfpGroupSize, codes);
    return;
  }
  for (int pair = 0; pair < kBfpGroupSize / 2; ++pair) {
    codes[2 * pair] = data[pair] & 0xF;
    codes[2 * pair + 1] = data[pair] >> 4;
  }
}

uint32_t DecodeBfpCode(int bits, uint8_t exponent, uint8_t code) {
  const uint32_t sign = (code >> bits) & 1u;
  uint32_t mag = code & ((1u << bits) - 1);
  if (mag == 0) return sign << 31;  // Host decode keeps the sign: 0x8 gives -0.0.
  // Normalise: shift until the top magnitude bit (weight 2^(E-127)) is set.
  const uint32_t top_bit = 1u << (bits - 1);
  uint32_t leading_zeros = 0;
  while ((mag & top_bit) == 0) {
    mag <<= 1;
    ++leading_zeros;
  }
  if (leading_zeros > exponent) return 0;  // 2025+ host unpack: underflow gives +0.
  const uint32_t exp = exponent - leading_zeros;
  const uint32_t fraction = (mag << 1) & ((1u << bits) - 1);  // Drop the hidden one.
  return (sign << 31) | (exp << kMantissaBits) | (fraction << (kMantissaBits - bits));
}

void DecodeBfpGroup(int bits, uint8_t exponent, const uint8_t* data, uint32_t* values) {
  uint8_t codes[kBfpGroupSize];
  LoadBfpGroupCodes(bits, data, codes);
  for (int idx = 0; idx < kBfpGroupSize; ++idx) {
    values[idx] = DecodeBfpCode(bits, exponent, codes[idx]);
  }
}

}  // namespace lmhead
