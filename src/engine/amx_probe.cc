// SPDX-License-Identifier: Apache-2.0
// AMX-BF16 peak probe: TDPBF16PS on tiles that never leave the registers.
// Compiled with -mamx-tile -mamx-bf16 (this file only); called only after the
// CPU, OS and kernel cap have said yes (compute_probe.cc).
#include <immintrin.h>

#include <cstdint>

#include "engine/compute_probe.h"
#include "lmhead/machine.h"

namespace lmhead {
namespace {

// Palette 1: 8 tiles of 16 rows x 64 bytes (the largest AMX shape).
struct alignas(64) TileConfig {
  uint8_t palette_id = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

// One TDPBF16PS on 16 x 16 fp32 += (16 x 32 bf16) . (32 x 16 bf16): 8192 MACs.
constexpr double kFlopsPerTdp = 2.0 * 16 * 16 * 32;

// 2 x 2 blocking as a GEMM micro-kernel: C0..C3 += A{0,1} x B{0,1}, four
// independent accumulations so the TMUL pipeline never waits on one C tile.
int64_t RunTiles(int64_t iterations) {
  TileConfig config;
  for (int tile = 0; tile < 8; ++tile) {
    config.colsb[tile] = 64;
    config.rows[tile] = 16;
  }
  _tile_loadconfig(&config);
  alignas(64) static const uint16_t kOnes[16 * 32] = {};  // bf16 zeros: values do not matter.
  _tile_loadd(4, kOnes, 64);
  _tile_loadd(5, kOnes, 64);
  _tile_loadd(6, kOnes, 64);
  _tile_loadd(7, kOnes, 64);
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  for (int64_t iter = 0; iter < iterations; ++iter) {
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 4, 7);
    _tile_dpbf16ps(2, 5, 6);
    _tile_dpbf16ps(3, 5, 7);
  }
  alignas(64) float sink[16 * 16];
  _tile_stored(0, sink, 64);
  _tile_release();
  return static_cast<int64_t>(sink[0]);
}

}  // namespace

ComputeProbe MeasureAmxBf16Loop(int num_threads, int repetitions) {
  // ~0.2 s per repetition at ~3.5 TFLOP/s per core.
  const int64_t iterations = 20'000'000;
  return TimeComputePeak(num_threads, repetitions,
                         kFlopsPerTdp * 4.0 * static_cast<double>(iterations),
                         [&] { RunTiles(iterations); });
}

}  // namespace lmhead
