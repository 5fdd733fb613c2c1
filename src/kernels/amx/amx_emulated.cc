// SPDX-License-Identifier: Apache-2.0
// Test-only: a scalar model of the AMX tile registers and TDPBF16PS for amx_matmul-inl.h.
//
// The model follows the instruction set reference: eight registers of up to
// 16 rows x 64 bytes, of which loads, stores and TDPBF16PS touch only the
// configured rows and bytes per row; TDPBF16PS adds, for each fp32 element
// C[m][n], the products of A's bf16 pair (2k, 2k + 1) of row m with B's pair
// of row k, column n, over the rows of B, each as one fp32 FMA that treats
// denormal inputs as zero and flushes a denormal result to zero (whatever
// MXCSR says). The model adds k ascending; the fp32 bound of the tests
// covers whatever order the hardware uses, and the tt-lofi kernel only
// relies on sums that are exact in any order. Shapes TDPBF16PS refuses
// (#UD on the hardware) abort, so a wrong tile configuration fails here.
#include "kernels/amx/amx_emulated.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>

#include "kernels/amx/amx_kernels.h"
#include "kernels/amx/amx_lofi-inl.h"
#include "kernels/amx/amx_matmul-inl.h"
#include "kernels/amx/amx_tile_config.h"
#include "kernels/avx512/avx512_kernels.h"

namespace lmhead::amx_test {
namespace {

struct Registers {
  alignas(64) uint8_t tile[8][16][64];
  int rows[8] = {};
  int colsb[8] = {};
};
thread_local Registers registers;

float FlushDenormal(float value) {
  return std::fabs(value) < std::numeric_limits<float>::min() ? std::copysign(0.0f, value) : value;
}

float Bf16(const uint8_t* p) {
  uint16_t bits;
  std::memcpy(&bits, p, sizeof(bits));
  const uint32_t wide = static_cast<uint32_t>(bits) << 16;
  float value;
  std::memcpy(&value, &wide, sizeof(value));
  return FlushDenormal(value);
}

float* Fp32Row(int t, int row) { return reinterpret_cast<float*>(registers.tile[t][row]); }

// TILELOADD zeroes the bytes past colsb of each configured row.
void Load(int t, const void* base, int64_t stride) {
  for (int r = 0; r < registers.rows[t]; ++r) {
    std::memset(registers.tile[t][r], 0, 64);
    std::memcpy(registers.tile[t][r], static_cast<const uint8_t*>(base) + r * stride,
                static_cast<size_t>(registers.colsb[t]));
  }
}

void Store(int t, void* base, int64_t stride) {
  for (int r = 0; r < registers.rows[t]; ++r) {
    std::memcpy(static_cast<uint8_t*>(base) + r * stride, registers.tile[t][r],
                static_cast<size_t>(registers.colsb[t]));
  }
}

// TDPBF16PS's shape rules: configured tiles, C as many rows as A, A's bytes
// per row 4 x B's rows, C's bytes per row B's.
void CheckShapes(int c, int a, int b) {
  const int* rows = registers.rows;
  const int* colsb = registers.colsb;
  if (rows[c] == 0 || rows[a] == 0 || rows[b] == 0 || rows[c] != rows[a] ||
      colsb[a] != 4 * rows[b] || colsb[c] != colsb[b]) {
    std::fprintf(stderr,
                 "emulated TDPBF16PS: invalid shapes C %dx%d, A %dx%d, B %dx%d (rows x bytes)\n",
                 rows[c], colsb[c], rows[a], colsb[a], rows[b], colsb[b]);
    std::abort();
  }
}

void Dpbf16ps(int c, int a, int b) {
  CheckShapes(c, a, b);
  for (int m = 0; m < registers.rows[c]; ++m) {
    float* out = Fp32Row(c, m);
    for (int n = 0; n < 16; ++n) {
      float sum = FlushDenormal(out[n]);
      for (int k = 0; k < registers.rows[b]; ++k) {
        for (int j = 0; j < 2; ++j) {
          sum = FlushDenormal(std::fma(Bf16(&registers.tile[a][m][4 * k + 2 * j]),
                                       Bf16(&registers.tile[b][k][4 * n + 2 * j]), sum));
        }
      }
      out[n] = sum;
    }
  }
}

struct EmulatedTiles {
  // The configuration the hardware gets (amx_tiles.h).
  static void Begin(int rows0, int rows1, int pairs) {
    const amx::TileConfig& config = amx::TileConfigFor(rows0 + rows1, pairs);
    for (int t = 0; t < 8; ++t) {
      registers.rows[t] = config.rows[t];
      registers.colsb[t] = config.colsb[t];
    }
    std::memset(registers.tile, 0, sizeof(registers.tile));  // LDTILECFG zeroes the tiles
  }
  static void End() {}
  static void ZeroC(bool both) {
    for (int t = 0; t < (both ? 4 : 2); ++t)
      std::memset(registers.tile[t], 0, sizeof(registers.tile[t]));
  }
  static void LoadC(const float* c, int64_t stride, bool both) {
    const int64_t lower = 16 * stride / static_cast<int64_t>(sizeof(float));
    Load(0, c, stride);
    Load(1, c + 16, stride);
    if (both) {
      Load(2, c + lower, stride);
      Load(3, c + lower + 16, stride);
    }
  }
  static void StoreC(float* c, int64_t stride, bool both) {
    const int64_t lower = 16 * stride / static_cast<int64_t>(sizeof(float));
    Store(0, c, stride);
    Store(1, c + 16, stride);
    if (both) {
      Store(2, c + lower, stride);
      Store(3, c + lower + 16, stride);
    }
  }
  static void LoadA(int half, const uint16_t* a, int64_t stride) { Load(4 + half, a, stride); }
  static void LoadB(const amx::BTilePair& b, int first) {
    Load(6, b.left.v[first], 64);
    Load(7, b.right.v[first], 64);
  }
  static void Dot(bool both) {
    Dpbf16ps(0, 4, 6);
    Dpbf16ps(1, 4, 7);
    if (both) {
      Dpbf16ps(2, 5, 6);
      Dpbf16ps(3, 5, 7);
    }
  }
};

}  // namespace

void EmulatedGemv(const MatmulArgs& args) { amx::GemvPanels<EmulatedTiles>(args); }
void EmulatedGemm(const MatmulArgs& args) { amx::GemmPanels<EmulatedTiles>(args); }
void EmulatedLofi(const MatmulArgs& args) { amx::LofiPanels<EmulatedTiles>(args); }

namespace {

// The emulated set's gemm: the gemv up to kMaxDecodeRows rows, as the real set's.
void EmulatedGemvOrGemm(const MatmulArgs& args) {
  if (args.m <= kMaxDecodeRows) {
    EmulatedGemv(args);
  } else {
    EmulatedGemm(args);
  }
}

}  // namespace

const MatmulKernels& EmulatedAmxKernels() {
  static constexpr MatmulKernels kKernels = {.name = "emulated/bfp4b/fp32/amx",
                                             .format = TileFormat::kBfp4b,
                                             .numerics = Numerics::kFp32,
                                             .required_cpu_features = kCpuAvx512 | kCpuAvx512Bf16,
                                             .gemv = EmulatedGemv,
                                             .gemm = EmulatedGemvOrGemm,
                                             .nr_tiles = 1,
                                             .layout = TileLayout::kBfp4bPanels,
                                             .prepare = PrepareFp32Amx};
  return kKernels;
}

const MatmulKernels& EmulatedAmxLofiKernels() {
  static constexpr MatmulKernels kKernels = {.name = "emulated/bfp4b/tt-lofi/amx",
                                             .format = TileFormat::kBfp4b,
                                             .numerics = Numerics::kTtLofi,
                                             .required_cpu_features = kCpuAvx512 | kCpuAvx512Bf16,
                                             .gemv = EmulatedLofi,
                                             .gemm = EmulatedLofi,
                                             .nr_tiles = 1,
                                             .layout = TileLayout::kBfp4bPanels,
                                             .prepare = PrepareTtLofiAmx,
                                             .rows_independent = true};
  return kKernels;
}

void DecodePanelTile(const uint8_t* tile, uint16_t* left, uint16_t* right) {
  amx::BTilePair pair;
  amx::DecodePanelTile(tile, pair);
  std::memcpy(left, pair.left.v, sizeof(pair.left.v));
  std::memcpy(right, pair.right.v, sizeof(pair.right.v));
}

}  // namespace lmhead::amx_test
