// SPDX-License-Identifier: Apache-2.0
// Test-only: bfp weight tiles built from chosen codes and exponents; values known by construction.
#ifndef LMHEAD_KERNELS_TEST_WEIGHTS_H_
#define LMHEAD_KERNELS_TEST_WEIGHTS_H_

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "kernels/kernels.h"
#include "lmhead/formats.h"

namespace lmhead {

// A (k_tiles * 32) x (n_tiles * 32) weight matrix in row-major tile order.
// The bytes follow the tile layout of spec §1.2-1.3 (64 exponent bytes, one
// per face row, then the datums, bfp4 low nibble first); Value() applies the
// spec §1.1 formula (-1)^s * mag * 2^(E - 127 - (BITS - 1)) to the code and
// exponent that were set. Nothing here shares code with formats/.
class TestWeights {
 public:
  TestWeights(TileFormat format, int64_t k_tiles, int64_t n_tiles)
      : format_(format),
        k_tiles_(k_tiles),
        n_tiles_(n_tiles),
        bytes_(static_cast<size_t>(k_tiles * n_tiles) * TileBytes(format)),
        codes_(static_cast<size_t>(k_tiles * n_tiles * kTileElems)) {}

  int64_t rows() const { return k_tiles_ * kTileDim; }
  int64_t cols() const { return n_tiles_ * kTileDim; }
  TileMatrixView View() const { return {bytes_.data(), format_, k_tiles_, n_tiles_}; }
  const std::vector<uint8_t>& bytes() const { return bytes_; }

  // Shared exponent of the 16-value group (one face row) holding (k, n).
  void SetExponent(int64_t k, int64_t n, uint8_t exponent) {
    bytes_[ExponentOffset(k, n)] = exponent;
  }

  // Sign-magnitude datum: bfp4 s mmm (0..15), bfp8 s mmmmmmm (0..255).
  void SetCode(int64_t k, int64_t n, uint32_t code) {
    codes_[static_cast<size_t>(k * cols() + n)] = static_cast<uint8_t>(code);
    const size_t data = DataOffset(k, n);
    if (format_ == TileFormat::kBfp8b) {
      bytes_[data] = static_cast<uint8_t>(code);
    } else if (PositionInGroup(n) % 2 == 0) {
      bytes_[data] = static_cast<uint8_t>((bytes_[data] & 0xF0) | code);
    } else {
      bytes_[data] = static_cast<uint8_t>((bytes_[data] & 0x0F) | (code << 4));
    }
  }

  double Value(int64_t k, int64_t n) const {
    const int bits = format_ == TileFormat::kBfp8b ? 7 : 3;
    const uint32_t code = codes_[static_cast<size_t>(k * cols() + n)];
    const double mag = code & ((1u << bits) - 1);
    const double sign = (code >> bits) != 0 ? -1.0 : 1.0;
    return sign * std::ldexp(mag, bytes_[ExponentOffset(k, n)] - 127 - (bits - 1));
  }

  // Every group gets an exponent in [exp_lo, exp_hi] and every datum a random
  // code; about one in eight is zero; negative zero is never produced.
  void FillRandom(std::mt19937& rng, uint8_t exp_lo, uint8_t exp_hi) {
    std::uniform_int_distribution<int> exponent(exp_lo, exp_hi);
    const uint32_t max_mag = format_ == TileFormat::kBfp8b ? 127 : 7;
    const uint32_t sign_bit = max_mag + 1;
    std::uniform_int_distribution<uint32_t> mag(0, max_mag);
    std::bernoulli_distribution negative(0.5);
    for (int64_t k = 0; k < rows(); ++k) {
      for (int64_t n = 0; n < cols(); n += kFaceDim) {
        SetExponent(k, n, static_cast<uint8_t>(exponent(rng)));
      }
      for (int64_t n = 0; n < cols(); ++n) {
        const uint32_t m = rng() % 8 == 0 ? 0 : mag(rng);
        SetCode(k, n, m != 0 && negative(rng) ? (sign_bit | m) : m);
      }
    }
  }

 private:
  static int64_t PositionInGroup(int64_t n) { return n % kFaceDim; }
  size_t TileBase(int64_t k, int64_t n) const {
    return static_cast<size_t>((k / kTileDim) * n_tiles_ + n / kTileDim) * TileBytes(format_);
  }
  // Spec §1.2: group = face * 16 + row_in_face, face = (r / 16) * 2 + c / 16.
  static size_t Group(int64_t k, int64_t n) {
    const int64_t r = k % kTileDim;
    const int64_t c = n % kTileDim;
    return static_cast<size_t>(((r / kFaceDim) * 2 + c / kFaceDim) * kFaceDim + r % kFaceDim);
  }
  size_t ExponentOffset(int64_t k, int64_t n) const { return TileBase(k, n) + Group(k, n); }
  size_t DataOffset(int64_t k, int64_t n) const {
    const size_t group_bytes = format_ == TileFormat::kBfp8b ? 16 : 8;
    const size_t in_group =
        format_ == TileFormat::kBfp8b ? PositionInGroup(n) : PositionInGroup(n) / 2;
    return TileBase(k, n) + kBfpGroupsPerTile + Group(k, n) * group_bytes + in_group;
  }

  TileFormat format_;
  int64_t k_tiles_;
  int64_t n_tiles_;
  std::vector<uint8_t> bytes_;
  std::vector<uint8_t> codes_;  // (rows, cols) row-major, as set
};

// Random bf16 activations (m, k) with row stride `stride`: exponents in
// [exp_lo, exp_hi], random 7-bit mantissas, about one in ten zero.
inline std::vector<uint16_t> RandomBf16(std::mt19937& rng, int64_t m, int64_t k, int64_t stride,
                                        int exp_lo, int exp_hi) {
  std::vector<uint16_t> x(static_cast<size_t>(m * stride), 0);
  std::uniform_int_distribution<int> exponent(exp_lo, exp_hi);
  for (int64_t row = 0; row < m; ++row) {
    for (int64_t col = 0; col < k; ++col) {
      if (rng() % 10 == 0) continue;
      const uint32_t sign = static_cast<uint32_t>(rng() & 1u);
      const uint32_t mantissa = static_cast<uint32_t>(rng() & 0x7Fu);
      const uint32_t bits = (sign << 15) | (static_cast<uint32_t>(exponent(rng)) << 7) | mantissa;
      x[static_cast<size_t>(row * stride + col)] = static_cast<uint16_t>(bits);
    }
  }
  return x;
}

}  // namespace lmhead

#endif  // LMHEAD_KERNELS_TEST_WEIGHTS_H_
