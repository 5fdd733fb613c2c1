// SPDX-License-Identifier: Apache-2.0
// Test helpers for convert: an independent bfp quantiser/decoder written from the spec.
//
// Nothing here calls the formats library's packer or unpacker: the expected
// values come from tt-numerics.md §2.2 (host packing) and §1.3/§3.1 (tile
// byte layout, decoded value), restated in the simplest scalar code.
#ifndef LMHEAD_CONVERT_CONVERT_TEST_UTIL_H_
#define LMHEAD_CONVERT_CONVERT_TEST_UTIL_H_

#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "lmhead/safetensors.h"

namespace lmhead::testing {

// tt-numerics.md §2.2 for one 16-value group with `bits` magnitude bits (3 for
// bfp4_b, 7 for bfp8_b); returns the decoded values (§3.1) as doubles.
inline std::array<double, 16> QuantizeGroup(const float* values, int bits) {
  uint32_t exponent_max = 0;
  for (int j = 0; j < 16; ++j) {
    exponent_max = std::max(exponent_max, (std::bit_cast<uint32_t>(values[j]) >> 23) & 0xFF);
  }
  std::array<double, 16> out{};
  const int shift = 24 - bits;
  for (int j = 0; j < 16; ++j) {
    const uint32_t word = std::bit_cast<uint32_t>(values[j]);
    const uint32_t exponent = (word >> 23) & 0xFF;
    if (exponent == 0) continue;
    uint32_t mantissa = (word & 0x7FFFFF) | 0x800000;
    const uint32_t align = exponent_max - exponent;
    mantissa = align >= 32 ? 0 : mantissa >> align;  // Truncating alignment.
    const uint32_t rem = mantissa & ((1u << shift) - 1);
    uint32_t q = mantissa >> shift;
    const uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (q & 1))) ++q;  // RNE on the aligned window.
    q = std::min(q, (1u << bits) - 1);                // Saturate.
    const double magnitude =
        std::ldexp(static_cast<double>(q), static_cast<int>(exponent_max) - 127 - (bits - 1));
    out[j] = (word >> 31) != 0 ? -magnitude : magnitude;
  }
  return out;
}

// Decodes one bfp tile (tt-numerics.md §1.3, §3.1) into row-major 32x32 doubles.
inline std::array<double, 1024> DecodeTile(const uint8_t* tile, int bits) {
  std::array<double, 1024> out{};
  for (int group = 0; group < 64; ++group) {
    const int face = group / 16;
    const int row = (face / 2) * 16 + group % 16;
    const int exponent = tile[group];
    for (int j = 0; j < 16; ++j) {
      int sign = 0;
      int magnitude = 0;
      if (bits == 3) {
        const uint8_t byte = tile[64 + group * 8 + j / 2];
        const int nibble = (j % 2) != 0 ? byte >> 4 : byte & 0xF;
        sign = nibble >> 3;
        magnitude = nibble & 7;
      } else {
        const uint8_t byte = tile[64 + group * 16 + j];
        sign = byte >> 7;
        magnitude = byte & 127;
      }
      const double value = std::ldexp(static_cast<double>(magnitude), exponent - 127 - (bits - 1));
      out[static_cast<size_t>(row * 32 + (face % 2) * 16 + j)] = sign != 0 ? -value : value;
    }
  }
  return out;
}

// binary16 -> float, from the IEEE definition (not the library's converter).
inline float HalfToFloat(uint16_t half) {
  const int exponent = (half >> 10) & 0x1F;
  const int mantissa = half & 0x3FF;
  double value =
      exponent == 0 ? std::ldexp(mantissa, -24) : std::ldexp(1024 + mantissa, exponent - 25);
  if (exponent == 0x1F) value = mantissa != 0 ? NAN : INFINITY;
  return static_cast<float>((half & 0x8000) != 0 ? -value : value);
}

// The head tensor of a checkpoint file as fp32 [rows, cols], row-major.
inline std::vector<float> ReadHead(const TensorView& view) {
  std::vector<float> out(view.num_elements());
  for (size_t idx = 0; idx < out.size(); ++idx) {
    if (view.info->dtype == SafetensorsDtype::kF32) {
      std::memcpy(&out[idx], view.data + 4 * idx, 4);
      continue;
    }
    uint16_t bits;
    std::memcpy(&bits, view.data + 2 * idx, 2);
    out[idx] = view.info->dtype == SafetensorsDtype::kBF16
                   ? std::bit_cast<float>(static_cast<uint32_t>(bits) << 16)
                   : HalfToFloat(bits);
  }
  return out;
}

}  // namespace lmhead::testing

#endif  // LMHEAD_CONVERT_CONVERT_TEST_UTIL_H_
