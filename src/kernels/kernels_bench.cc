// SPDX-License-Identifier: Apache-2.0
// Throughput of every matmul kernel set this CPU runs, on DeepSeek-V3 LM head work items.
//
// One call is what the engine hands a kernel: K = 7168 (Kt = 224) by one work
// item of a DRAM bank of 11 tile columns (a DeepSeek-V3 bank on a 4x8 mesh).
// For TT's row-major layout the item is 4 tile columns (516 KB of bfp4_b) in
// the middle of the bank, so each tile row of the item is 4 adjacent tiles and
// the next one starts 11 tiles later; kernels that read a packed layout
// (tile_layout.h) get the whole packed bank (1.42 MB), as the engine gives
// them. pack/<layout> times packing one bank at load time. Decode
// (gemv) benchmarks rotate over >= 640 MB of bank copies so every call streams
// from DRAM, not L3 (shared/perf/baselines.md), and report weight GB/s next to
// read_bandwidth, the plain read rate of the same buffer in the same run.
// Prefill (gemm) benchmarks keep one bank hot and report GFLOP/s (1
// multiply-add = 2 flop).
// Sets with a prepare (MatmulKernels::prepare) run it once per input, outside
// the timing, as the engine runs it once per input for all its calls.
// Each gemv call takes the next of kDecodeInputs inputs, as each decode step
// brings a new one: on the same input every call repeats the same
// data-dependent branches (the tt-lofi checks), which the branch predictor
// learns, and tt-lofi m=8 then ran 25% faster than on changing inputs.
// Filter with --benchmark_filter, e.g. 'tt-lofi' or 'gemv'; LMHEAD_KERNELS
// does not apply here: every set the CPU supports is listed.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu_features.h"
#include "kernels/kernels.h"
#include "kernels/tile_layout.h"
#include "lmhead/formats.h"

namespace lmhead {
namespace {

constexpr int64_t kHidden = 7168;  // DeepSeek-V3 hidden size: K
constexpr int64_t kItemNt = 4;     // tile columns per engine work item (row-major layout)
constexpr int64_t kBankNt = 11;    // tile columns of the bank holding it
constexpr int64_t kItemBegin = 4;  // the item's first tile column in the bank
constexpr size_t kColdBytes = size_t{640} << 20;
constexpr int kDecodeInputs = 64;  // distinct gemv inputs, used in turn

// The tile columns of one engine work item in `layout`.
struct Item {
  int64_t nt_begin;
  int64_t nt_end;
};
Item ItemOf(TileLayout layout) {
  return layout == TileLayout::kTtRowMajor ? Item{kItemBegin, kItemBegin + kItemNt}
                                           : Item{0, kBankNt};
}

// One bank of trained-like weights, shaped as `lmhead synth` makes them
// (src/convert/synth_values.cc): N(0, 0.02) times a Gaussian scale mixture
// (heavy tails), a log-normal scale per vocabulary column (sigma 0.35) and 7
// hidden rows 4x-8x wider. The tt-lofi kernels' cost depends on the exponent
// spread of the weights within 16 k rows, which plain N(0, 0.02) understates
// (16% of 8-row chunks take its out-of-line path there, 37% on the demo's
// weights: tt-lofi m=8 ran at 1.5x the fp32 time here, 2x in the whole head).
std::vector<uint8_t> MakeBank(TileFormat format) {
  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_int_distribution<int> pick(0, 15);
  // 11 of 16 elements at scale 1, the rest wider; unit variance overall.
  constexpr float kTail[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1.5f, 2, 2.5f, 3.5f, 6};
  constexpr float kTailNorm = 1.0f / 2.1176f;
  const int64_t n = kBankNt * kTileDim;
  std::vector<float> column_scale(static_cast<size_t>(n));
  for (float& scale : column_scale) scale = 0.02f * std::exp(0.35f * normal(rng));
  std::vector<float> row_scale(static_cast<size_t>(kHidden), 1.0f);
  for (int outlier = 0; outlier < 7; ++outlier) {
    row_scale[static_cast<size_t>(rng() % kHidden)] = 4.0f + static_cast<float>(rng() % 5);
  }
  const TiledShape shape{1, kHidden, n};
  std::vector<float> w(static_cast<size_t>(NumElements(shape)));
  for (int64_t k = 0; k < kHidden; ++k) {
    for (int64_t col = 0; col < n; ++col) {
      w[static_cast<size_t>(k * n + col)] = normal(rng) * kTail[pick(rng)] * kTailNorm *
                                            column_scale[static_cast<size_t>(col)] *
                                            row_scale[static_cast<size_t>(k)];
    }
  }
  std::vector<uint8_t> tiles(TiledBytes(format, shape));
  if (!PackMatrixFp32(format, w, shape, tiles).ok()) std::abort();
  return tiles;
}

// x ~ N(0, 1) bf16, input number `seed`.
std::vector<uint16_t> MakeX(int64_t m, uint32_t seed = 2) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<uint16_t> x(static_cast<size_t>(m * kHidden));
  for (uint16_t& v : x) v = Fp32ToBf16(normal(rng));
  return x;
}

// The bank of MakeBank in `layout`.
std::vector<uint8_t> MakeLaidOutBank(TileFormat format, TileLayout layout) {
  const std::vector<uint8_t> bank = MakeBank(format);
  std::vector<uint8_t> laid_out(PackedTileBytes(layout, format, kHidden / kTileDim, kBankNt));
  PackTiles(layout, {bank.data(), format, kHidden / kTileDim, kBankNt}, kBankNt, laid_out.data());
  return laid_out;
}

// Weight bytes of one item (TT tile bytes: what the engine reports).
size_t ItemBytes(TileFormat format, TileLayout layout) {
  const Item item = ItemOf(layout);
  return static_cast<size_t>(kHidden / kTileDim * (item.nt_end - item.nt_begin)) *
         TileBytes(format);
}

// The call on the item of `bank`: m rows; y has the bank's width.
MatmulArgs ItemArgs(const MatmulKernels& kernels, const uint8_t* bank,
                    const std::vector<uint16_t>& x, int64_t m, std::vector<float>& y,
                    int64_t in0_block_w) {
  const Item item = ItemOf(kernels.layout);
  return MatmulArgs{.x = x.data(),
                    .x_stride = kHidden,
                    .m = m,
                    .k = kHidden,
                    .w = {bank, kernels.format, kHidden / kTileDim, kBankNt, kernels.layout},
                    .nt_begin = item.nt_begin,
                    .nt_end = item.nt_end,
                    .y = y.data(),
                    .y_stride = kBankNt * kTileDim,
                    .n_cols = kBankNt * kTileDim,
                    .lofi = {.in0_block_w = in0_block_w, .packer_l1_acc = true}};
}

// >= 640 MB of copies of one bank, allocated once per format and layout.
const std::vector<uint8_t>& ColdCopies(TileFormat format, TileLayout layout) {
  static std::vector<uint8_t> copies[2][2];
  std::vector<uint8_t>& buffer =
      copies[format == TileFormat::kBfp8b ? 1 : 0][layout == TileLayout::kTtRowMajor ? 0 : 1];
  if (buffer.empty()) {
    const std::vector<uint8_t> item = MakeLaidOutBank(format, layout);
    const size_t count = (kColdBytes + item.size() - 1) / item.size();
    buffer.resize(count * item.size());
    for (size_t i = 0; i < count; ++i)
      std::memcpy(&buffer[i * item.size()], item.data(), item.size());
  }
  return buffer;
}

// The set's prepare of args' rows, or nullptr.
std::unique_ptr<PreparedActivations> Prepare(const MatmulKernels& kernels, const MatmulArgs& args) {
  return kernels.prepare != nullptr ? kernels.prepare(args) : nullptr;
}

void SetCounters(benchmark::State& state, const MatmulKernels& kernels, int64_t m) {
  const double calls = static_cast<double>(state.iterations());
  const Item item = ItemOf(kernels.layout);
  state.counters["weight_GBps"] = benchmark::Counter(
      calls * static_cast<double>(ItemBytes(kernels.format, kernels.layout)) * 1e-9,
      benchmark::Counter::kIsRate);
  state.counters["GFLOPps"] = benchmark::Counter(
      calls * 2.0 *
          static_cast<double>(m * kHidden * (item.nt_end - item.nt_begin) * kTileDim) * 1e-9,
      benchmark::Counter::kIsRate);
}

// gemv: each call reads the item of the next bank copy, from DRAM.
void BM_Gemv(benchmark::State& state, const MatmulKernels* kernels) {
  const int64_t m = state.range(0);
  const std::vector<uint8_t>& copies = ColdCopies(kernels->format, kernels->layout);
  const size_t bank_bytes =
      PackedTileBytes(kernels->layout, kernels->format, kHidden / kTileDim, kBankNt);
  const size_t num_copies = copies.size() / bank_bytes;
  std::vector<float> y(static_cast<size_t>(m * kBankNt * kTileDim));
  std::vector<std::vector<uint16_t>> xs;
  std::vector<std::unique_ptr<PreparedActivations>> prepared;
  std::vector<MatmulArgs> args;  // per input
  for (int input = 0; input < kDecodeInputs; ++input) {
    xs.push_back(MakeX(m, 100 + static_cast<uint32_t>(input)));
  }
  for (int input = 0; input < kDecodeInputs; ++input) {
    // in0_block_w 4: DeepSeek-V3 decode on a 4x8 Wormhole mesh.
    args.push_back(ItemArgs(*kernels, nullptr, xs[static_cast<size_t>(input)], m, y, 4));
    prepared.push_back(Prepare(*kernels, args.back()));
    args.back().prepared = prepared.back().get();
  }
  size_t copy = 0;
  size_t input = 0;
  for (auto _ : state) {
    MatmulArgs& call = args[input];
    input = input + 1 == args.size() ? 0 : input + 1;
    call.w.tiles = copies.data() + copy * bank_bytes;
    copy = copy + 1 == num_copies ? 0 : copy + 1;
    kernels->gemv(call);
    benchmark::DoNotOptimize(y.data());
  }
  SetCounters(state, *kernels, m);
}

// gemm: one hot bank, compute-bound.
void BM_Gemm(benchmark::State& state, const MatmulKernels* kernels) {
  const int64_t m = state.range(0);
  const std::vector<uint8_t> bank = MakeLaidOutBank(kernels->format, kernels->layout);
  const std::vector<uint16_t> x = MakeX(m);
  std::vector<float> y(static_cast<size_t>(m * kBankNt * kTileDim));
  // in0_block_w 8: DeepSeek-V3 prefill.
  MatmulArgs args = ItemArgs(*kernels, bank.data(), x, m, y, 8);
  const std::unique_ptr<PreparedActivations> prepared = Prepare(*kernels, args);
  args.prepared = prepared.get();
  for (auto _ : state) {
    kernels->gemm(args);
    benchmark::DoNotOptimize(y.data());
  }
  SetCounters(state, *kernels, m);
}

// PackTiles on one bank: the load-time cost per 1.42 MB of bfp4_b.
void BM_Pack(benchmark::State& state) {
  const std::vector<uint8_t> bank = MakeBank(TileFormat::kBfp4b);
  const TileMatrixView view{bank.data(), TileFormat::kBfp4b, kHidden / kTileDim, kBankNt};
  std::vector<uint8_t> packed(
      PackedTileBytes(TileLayout::kBfp4bPanels, view.format, view.k_tiles, kBankNt));
  for (auto _ : state) {
    PackTiles(TileLayout::kBfp4bPanels, view, kBankNt, packed.data());
    benchmark::DoNotOptimize(packed.data());
  }
  state.counters["GBps"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * static_cast<double>(bank.size()) * 1e-9,
      benchmark::Counter::kIsRate);
}

// The DRAM read rate of one core over the same 640 MB: 8 independent sums.
void BM_ReadBandwidth(benchmark::State& state) {
  const std::vector<uint8_t>& copies = ColdCopies(TileFormat::kBfp4b, TileLayout::kTtRowMajor);
  const size_t chunk = size_t{16} << 20;
  const size_t words = chunk / sizeof(uint64_t);
  size_t offset = 0;
  for (auto _ : state) {
    const uint64_t* p = reinterpret_cast<const uint64_t*>(copies.data() + offset);
    uint64_t s[8] = {};
    for (size_t i = 0; i < words; i += 8) {
      for (int j = 0; j < 8; ++j) s[j] += p[i + static_cast<size_t>(j)];
    }
    benchmark::DoNotOptimize(s);
    offset = offset + 2 * chunk > copies.size() ? 0 : offset + chunk;
  }
  state.counters["read_GBps"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * static_cast<double>(chunk) * 1e-9,
      benchmark::Counter::kIsRate);
}

int RegisterAll() {
  benchmark::RegisterBenchmark("read_bandwidth/dram", BM_ReadBandwidth)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("pack/bfp4b_panels", BM_Pack)->Unit(benchmark::kMillisecond);
  const CpuFeatures cpu = DetectCpuFeatures();
  for (const MatmulKernels& kernels : AllMatmulKernels()) {
    if (!cpu.Has(kernels.required_cpu_features)) continue;
    const bool reference = kernels.required_cpu_features == 0;
    auto* gemv = benchmark::RegisterBenchmark((std::string(kernels.name) + "/gemv").c_str(),
                                              BM_Gemv, &kernels);
    gemv->ArgName("m")->Unit(benchmark::kMillisecond);
    for (int64_t m : {1, 2, 4, 8, 16, 32}) {
      if (!reference || m == 1 || m == 32) gemv->Arg(m);
    }
    auto* gemm = benchmark::RegisterBenchmark((std::string(kernels.name) + "/gemm").c_str(),
                                              BM_Gemm, &kernels);
    gemm->ArgName("m")->Unit(benchmark::kMillisecond)->Arg(reference ? 64 : 256);
    if (!reference) gemm->Arg(1024);
  }
  return 0;
}
const int kRegistered = RegisterAll();

}  // namespace
}  // namespace lmhead

BENCHMARK_MAIN();
