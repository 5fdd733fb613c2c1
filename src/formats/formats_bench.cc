// SPDX-License-Identifier: Apache-2.0
// Throughput of whole-matrix tile packing/unpacking on one core (Google Benchmark).
//
// Working sets are 64 MiB of fp32 (a 2048 x 8192 matrix), far beyond L2 and L3,
// so the figures include streaming from and to DRAM. Each benchmark reports
// bytes/s of the side the issue names: fp32 input for packing, output for
// unpacking. Run: formats_bench --benchmark_min_time=1
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>
#include <vector>

#include "lmhead/formats.h"

namespace lmhead {
namespace {

constexpr TiledShape kShape{1, 2048, 8192};

// Trained-weight-like values: gaussians with a per-row scale.
std::vector<float> WeightLike() {
  std::vector<float> values(static_cast<size_t>(NumElements(kShape)));
  std::mt19937 rng(5);
  std::normal_distribution<float> gauss(0.0f, 0.02f);
  for (float& value : values) value = gauss(rng);
  return values;
}

void BM_PackFp32(benchmark::State& state, TileFormat format) {
  const std::vector<float> values = WeightLike();
  std::vector<uint8_t> tiles(TiledBytes(format, kShape));
  for (auto _ : state) {
    if (!PackMatrixFp32(format, values, kShape, tiles).ok()) state.SkipWithError("pack failed");
    benchmark::DoNotOptimize(tiles.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(values.size() * 4));
  state.SetLabel(FormatsSimdTargetName());
}

void BM_PackBf16(benchmark::State& state, TileFormat format) {
  const std::vector<float> values = WeightLike();
  std::vector<uint16_t> halves(values.size());
  for (size_t idx = 0; idx < values.size(); ++idx) halves[idx] = Fp32ToBf16(values[idx]);
  std::vector<uint8_t> tiles(TiledBytes(format, kShape));
  for (auto _ : state) {
    if (!PackMatrixBf16(format, halves, kShape, tiles).ok()) state.SkipWithError("pack failed");
    benchmark::DoNotOptimize(tiles.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(halves.size() * 2));
  state.SetLabel(FormatsSimdTargetName());
}

template <typename T>
void BM_Unpack(benchmark::State& state, TileFormat format) {
  const std::vector<float> values = WeightLike();
  std::vector<uint8_t> tiles(TiledBytes(format, kShape));
  if (!PackMatrixFp32(format, values, kShape, tiles).ok()) state.SkipWithError("pack failed");
  std::vector<T> out(values.size());
  for (auto _ : state) {
    Status status;
    if constexpr (sizeof(T) == 2) {
      status = UnpackMatrixToBf16(format, tiles, kShape, out);
    } else {
      status = UnpackMatrixToFp32(format, tiles, kShape, out);
    }
    if (!status.ok()) state.SkipWithError("unpack failed");
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(out.size() * sizeof(T)));
  state.SetLabel(FormatsSimdTargetName());
}

void BM_UnpackToBf16(benchmark::State& state, TileFormat format) {
  BM_Unpack<uint16_t>(state, format);
}
void BM_UnpackToFp32(benchmark::State& state, TileFormat format) {
  BM_Unpack<float>(state, format);
}

// The kernels' entry point: decode whole tiles in tile order, 64 groups a call.
void BM_DecodeGroupsBf16(benchmark::State& state, TileFormat format) {
  const std::vector<float> values = WeightLike();
  std::vector<uint8_t> tiles(TiledBytes(format, kShape));
  if (!PackMatrixFp32(format, values, kShape, tiles).ok()) state.SkipWithError("pack failed");
  std::vector<uint16_t> out(values.size());
  const size_t tile_bytes = TileBytes(format);
  const int64_t num_tiles = NumTiles(kShape);
  for (auto _ : state) {
    for (int64_t tile = 0; tile < num_tiles; ++tile) {
      const uint8_t* src = tiles.data() + tile * tile_bytes;
      DecodeBfpGroupsToBf16(format, src, src + kBfpGroupsPerTile, kBfpGroupsPerTile,
                            out.data() + tile * kTileElems);
    }
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(out.size() * 2));
  state.SetLabel(FormatsSimdTargetName());
}

BENCHMARK_CAPTURE(BM_PackFp32, bfp4_b, TileFormat::kBfp4b)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_PackFp32, bfp8_b, TileFormat::kBfp8b)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_PackFp32, bf16, TileFormat::kBf16)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_PackBf16, bfp4_b, TileFormat::kBfp4b)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_UnpackToBf16, bfp4_b, TileFormat::kBfp4b)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_UnpackToBf16, bfp8_b, TileFormat::kBfp8b)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_UnpackToFp32, bfp4_b, TileFormat::kBfp4b)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_DecodeGroupsBf16, bfp4_b, TileFormat::kBfp4b)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace lmhead

BENCHMARK_MAIN();
