// SPDX-License-Identifier: Apache-2.0
// Test-only: running a kernel on a case and comparing it with the reference of its numerics.
//
// tt-lofi kernels must equal MatmulTtLofiReference bit for bit (NaN payloads
// aside); fp32 kernels must stay within the error bound their fp32
// accumulation allows (kernels.h): |y - exact| <= (K + 1) * 2^-24 *
// sum_k |x_k w_k|, where the reference is the exact sum rounded once and the
// sum of magnitudes comes from the constructed weight values. Columns outside
// the N range and past n_cols must keep their sentinel.
#ifndef LMHEAD_KERNELS_KERNEL_TEST_UTIL_H_
#define LMHEAD_KERNELS_KERNEL_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "kernels/reference.h"
#include "kernels/test_weights.h"
#include "kernels/tile_layout.h"
#include "lmhead/formats.h"

namespace lmhead::kernel_test {

inline constexpr float kSentinel = -12345.0f;  // marks output elements a kernel must not write
inline constexpr int64_t kSpareCols = 5;       // y_stride = n_cols + kSpareCols

// |W| as a dense (rows, cols) matrix of the constructed values, for the fp32 bound.
inline std::vector<double> AbsValues(const TestWeights& w) {
  std::vector<double> abs_w(static_cast<size_t>(w.rows() * w.cols()));
  for (int64_t k = 0; k < w.rows(); ++k) {
    for (int64_t n = 0; n < w.cols(); ++n) {
      abs_w[static_cast<size_t>(k * w.cols() + n)] = std::fabs(w.Value(k, n));
    }
  }
  return abs_w;
}

struct Case {
  const TestWeights* w;
  const std::vector<uint16_t>* x;
  int64_t m;
  int64_t k;
  int64_t x_stride;
  int64_t nt_begin;
  int64_t nt_end;
  int64_t n_cols;
  LofiOptions lofi;

  std::string Describe() const {
    return "m=" + std::to_string(m) + " k=" + std::to_string(k) + " N range [" +
           std::to_string(nt_begin) + ", " + std::to_string(nt_end) +
           ") n_cols=" + std::to_string(n_cols) +
           " in0_block_w=" + std::to_string(lofi.in0_block_w) +
           " l1_acc=" + std::to_string(lofi.packer_l1_acc);
  }
};

// Runs `fn` on the case with the weights in `layout` (packed here first, as
// the engine does at load time), with the activations prepared by `prepare`
// first when it is given (MatmulKernels::prepare).
inline std::vector<float> Run(MatmulFn fn, const Case& c,
                              TileLayout layout = TileLayout::kTtRowMajor,
                              PrepareFn prepare = nullptr) {
  const int64_t y_stride = c.n_cols + kSpareCols;
  std::vector<float> y(static_cast<size_t>(c.m * y_stride), kSentinel);
  const TileMatrixView view = c.w->View();
  std::vector<uint8_t> packed(PackedTileBytes(layout, view.format, view.k_tiles, view.n_tiles));
  MatmulArgs args;
  args.x = c.x->data();
  args.x_stride = c.x_stride;
  args.m = c.m;
  args.k = c.k;
  args.w = PackTiles(layout, view, view.n_tiles, packed.data());
  args.nt_begin = c.nt_begin;
  args.nt_end = c.nt_end;
  args.y = y.data();
  args.y_stride = y_stride;
  args.n_cols = c.n_cols;
  args.lofi = c.lofi;
  const std::unique_ptr<PreparedActivations> prepared =
      prepare != nullptr ? prepare(args) : nullptr;
  args.prepared = prepared.get();
  fn(args);
  return y;
}

inline bool Written(const Case& c, int64_t n) {
  return n >= c.nt_begin * kTileDim && n < c.nt_end * kTileDim && n < c.n_cols;
}

// sum_k |x_k w_k| from the constructed weight values, independent of any kernel.
inline double AbsDot(const Case& c, const std::vector<double>& abs_w, int64_t row, int64_t n) {
  double sum = 0.0;
  for (int64_t k = 0; k < c.k; ++k) {
    const double x = Bf16ToFp32((*c.x)[static_cast<size_t>(row * c.x_stride + k)]);
    sum += std::fabs(x) * abs_w[static_cast<size_t>(k * c.w->cols() + n)];
  }
  return sum;
}

// Compares `fn`, reading weights in `layout`, with the reference of its
// numerics on TT's layout, on one case.
inline void ExpectMatchesReference(const char* name, Numerics numerics, MatmulFn fn, const Case& c,
                                   TileLayout layout = TileLayout::kTtRowMajor,
                                   PrepareFn prepare = nullptr) {
  const bool lofi = numerics == Numerics::kTtLofi;
  const std::vector<float> want = Run(lofi ? MatmulTtLofiReference : MatmulFp32Reference, c);
  const std::vector<float> got = Run(fn, c, layout, prepare);
  const int64_t y_stride = c.n_cols + kSpareCols;
  std::vector<double> abs_w;  // built on the first inexact fp32 element
  int failures = 0;
  for (int64_t row = 0; row < c.m && failures < 5; ++row) {
    for (int64_t n = 0; n < y_stride && failures < 5; ++n) {
      const size_t i = static_cast<size_t>(row * y_stride + n);
      bool ok;
      if (!Written(c, n)) {
        ok = got[i] == kSentinel;
      } else if (lofi) {
        ok = std::bit_cast<uint32_t>(got[i]) == std::bit_cast<uint32_t>(want[i]) ||
             (std::isnan(got[i]) && std::isnan(want[i]));
      } else if (!std::isfinite(want[i])) {
        ok = std::isnan(want[i]) ? std::isnan(got[i]) : got[i] == want[i];
      } else if (got[i] == want[i]) {
        ok = true;
      } else {
        if (abs_w.empty()) abs_w = AbsValues(*c.w);
        ok = std::fabs(static_cast<double>(got[i]) - want[i]) <=
             static_cast<double>(c.k + 1) * std::ldexp(AbsDot(c, abs_w, row, n), -24);
      }
      if (!ok) {
        ++failures;
        ADD_FAILURE() << name << ": row " << row << " col " << n << " got " << got[i] << " want "
                      << want[i] << " (" << c.Describe() << ")";
      }
    }
  }
}

}  // namespace lmhead::kernel_test

#endif  // LMHEAD_KERNELS_KERNEL_TEST_UTIL_H_
