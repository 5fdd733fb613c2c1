// SPDX-License-Identifier: Apache-2.0
// IEEE binary16 (safetensors F16) <-> fp32, exact widening and RNE narrowing.
#ifndef LMHEAD_FORMATS_HALF_H_
#define LMHEAD_FORMATS_HALF_H_

#include <bit>
#include <cmath>
#include <cstdint>

namespace lmhead {

// Exact: every binary16 value is an fp32 value.
inline float F16ToFp32(uint16_t half) {
  const uint32_t sign = static_cast<uint32_t>(half & 0x8000u) << 16;
  const uint32_t exponent = (half >> 10) & 0x1Fu;
  const uint32_t mantissa = half & 0x3FFu;
  if (exponent == 0x1F) return std::bit_cast<float>(sign | 0x7F800000u | (mantissa << 13));
  if (exponent == 0) {
    // Subnormal: mantissa * 2^-24, exact in fp32.
    const float magnitude = static_cast<float>(mantissa) * 0x1p-24f;
    return sign != 0 ? -magnitude : magnitude;
  }
  // Rebias 15 -> 127: add 112 to the exponent field.
  return std::bit_cast<float>(sign | ((exponent + 112u) << 23) | (mantissa << 13));
}

// Round to nearest even, like numpy's float32 -> float16; overflow gives Inf.
inline uint16_t Fp32ToF16(float value) {
  const uint32_t bits = std::bit_cast<uint32_t>(value);
  const uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  const uint32_t magnitude = bits & 0x7FFFFFFFu;
  if (magnitude >= 0x7F800000u) {
    return static_cast<uint16_t>(sign | (magnitude > 0x7F800000u ? 0x7E00u : 0x7C00u));
  }
  // 65520 (0x477FF000) and above round to Inf; 65504 is the largest half.
  if (magnitude >= 0x477FF000u) return static_cast<uint16_t>(sign | 0x7C00u);
  if (magnitude < 0x38800000u) {
    // Below 2^-14: a subnormal half is round(|value| * 2^24), scaling being exact.
    const float scaled = std::bit_cast<float>(magnitude) * 0x1p24f;
    return static_cast<uint16_t>(sign | static_cast<uint16_t>(std::nearbyint(scaled)));
  }
  // Rebias 127 -> 15 (subtract 112 << 23), then round away 13 mantissa bits.
  uint32_t rebiased = magnitude - 0x38000000u;
  rebiased += 0x0FFFu + ((rebiased >> 13) & 1u);
  return static_cast<uint16_t>(sign | (rebiased >> 13));
}

}  // namespace lmhead

#endif  // LMHEAD_FORMATS_HALF_H_
