// SPDX-License-Identifier: Apache-2.0
// The AMX-BF16 kernels: amx_matmul-inl.h instantiated with the tile instructions.
#include <array>
#include <cstdint>
#include <memory>

#include "kernels/amx/amx_kernels.h"
#include "kernels/amx/amx_matmul-inl.h"
#include "kernels/avx512/avx512_kernels.h"
#include "kernels/x86_intrinsics.h"

namespace lmhead {
namespace {

// LDTILECFG's 64-byte operand, palette 1: tiles 0, 1 and 4 (C0, C1, A0) have
// rows0 rows, tiles 2, 3 and 5 (C2, C3, A1) rows1 rows, tiles 6 and 7 (B)
// 16; every used tile is 64 bytes wide. Constant objects only: GCC 12 may
// drop the stores that fill a local one before LDTILECFG reads it
// (llama.cpp issue #20824).
struct alignas(64) TileConfig {
  uint8_t palette_id;
  uint8_t start_row;
  uint8_t reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
};

constexpr TileConfig MakeTileConfig(int rows0, int rows1) {
  TileConfig config{};
  config.palette_id = 1;
  const int rows[8] = {rows0, rows0, rows1, rows1, rows0, rows1, 16, 16};
  for (int t = 0; t < 8; ++t) {
    config.rows[t] = static_cast<uint8_t>(rows[t]);
    config.colsb[t] = rows[t] > 0 ? 64 : 0;
  }
  return config;
}

// kTileConfigs[m] for m = 1..32 rows (m <= 16: rows0 = m, rows1 = 0; else
// rows0 = 16, rows1 = m - 16).
constexpr std::array<TileConfig, amx::kBlockRows + 1> MakeTileConfigs() {
  std::array<TileConfig, amx::kBlockRows + 1> configs{};
  for (int m = 1; m <= amx::kBlockRows; ++m) {
    configs[m] =
        m <= amx::kARows ? MakeTileConfig(m, 0) : MakeTileConfig(amx::kARows, m - amx::kARows);
  }
  return configs;
}
constexpr std::array<TileConfig, amx::kBlockRows + 1> kTileConfigs = MakeTileConfigs();

// The tile-register names of amx_matmul-inl.h. The intrinsics take the tile
// number as a literal, hence one call per register.
struct AmxTiles {
  static void Begin(int rows0, int rows1) { _tile_loadconfig(&kTileConfigs[rows0 + rows1]); }
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

std::unique_ptr<PreparedActivations> PrepareFp32Amx(const MatmulArgs& args) {
  return std::make_unique<amx::RowRanges>(args);
}

void MatmulFp32AmxGemv(const MatmulArgs& args) {
  if (args.m < kAmxMinRows) {
    MatmulArgs unprepared = args;  // args.prepared is this set's, not the vdpbf16ps set's
    unprepared.prepared = nullptr;
    MatmulFp32Avx512Bf16(unprepared);
  } else {
    amx::GemvPanels<AmxTiles>(args);
  }
}

void MatmulFp32AmxGemm(const MatmulArgs& args) {
  if (args.m <= kMaxDecodeRows) {
    MatmulFp32AmxGemv(args);
  } else {
    amx::GemmPanels<AmxTiles>(args);
  }
}

}  // namespace lmhead
