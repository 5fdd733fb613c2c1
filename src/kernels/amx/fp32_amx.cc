// SPDX-License-Identifier: Apache-2.0
// The AMX-BF16 kernels: amx_matmul-inl.h instantiated with the tile instructions.
#include <cstdint>

#include "kernels/amx/amx_kernels.h"
#include "kernels/amx/amx_matmul-inl.h"
#include "kernels/avx512/avx512_kernels.h"
#include "kernels/x86_intrinsics.h"

namespace lmhead {
namespace {

// LDTILECFG's 64-byte operand: palette 1, every used tile 16 rows x 64 bytes.
// A constant object: GCC 12 may drop the stores that fill a local one before
// LDTILECFG reads it (llama.cpp issue #20824).
struct alignas(64) TileConfig {
  uint8_t palette_id;
  uint8_t start_row;
  uint8_t reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
};
constexpr TileConfig kTileConfig = {
    1, 0, {}, {64, 64, 64, 64, 64, 64, 64, 64}, {16, 16, 16, 16, 16, 16, 16, 16}};

// The tile-register names of amx_matmul-inl.h. The intrinsics take the tile
// number as a literal, hence one call per register.
struct AmxTiles {
  static void Begin() { _tile_loadconfig(&kTileConfig); }
  static void End() { _tile_release(); }
  static void ZeroC(bool both) {
    _tile_zero(0);
    _tile_zero(1);
    if (both) {
      _tile_zero(2);
      _tile_zero(3);
    }
  }
  static void LoadC(const float* c, int64_t stride, bool both) {
    const int64_t lower = 16 * stride / static_cast<int64_t>(sizeof(float));
    _tile_loadd(0, c, stride);
    _tile_loadd(1, c + 16, stride);
    if (both) {
      _tile_loadd(2, c + lower, stride);
      _tile_loadd(3, c + lower + 16, stride);
    }
  }
  static void StoreC(float* c, int64_t stride, bool both) {
    const int64_t lower = 16 * stride / static_cast<int64_t>(sizeof(float));
    _tile_stored(0, c, stride);
    _tile_stored(1, c + 16, stride);
    if (both) {
      _tile_stored(2, c + lower, stride);
      _tile_stored(3, c + lower + 16, stride);
    }
  }
  static void LoadA(int half, const uint16_t* a, int64_t stride) {
    if (half == 0) {
      _tile_loadd(4, a, stride);
    } else {
      _tile_loadd(5, a, stride);
    }
  }
  static void LoadB(const amx::BTilePair& b) {
    _tile_loadd(6, b.left.v, 64);
    _tile_loadd(7, b.right.v, 64);
  }
  static void Dot(bool both) {
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 4, 7);
    if (both) {
      _tile_dpbf16ps(2, 5, 6);
      _tile_dpbf16ps(3, 5, 7);
    }
  }
};

}  // namespace

void MatmulFp32AmxGemv(const MatmulArgs& args) {
  if (args.m < kAmxMinRows || !amx::GemvBfp4<AmxTiles>(args)) MatmulFp32Avx512(args);
}

void MatmulFp32AmxGemm(const MatmulArgs& args) {
  if (args.m <= kMaxDecodeRows) {
    MatmulFp32AmxGemv(args);
  } else if (!amx::GemmBfp4<AmxTiles>(args)) {
    MatmulFp32Avx512(args);
  }
}

}  // namespace lmhead
