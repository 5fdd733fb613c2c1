// SPDX-License-Identifier: Apache-2.0
// The whole kernel interface: y = x @ W over a range of tile columns of a tiled weight shard.
//
// Design goals:
//  - One contract for every kernel set (the scalar reference, AVX-512 and AMX
//    kernels): pointers, strides, sizes and an N range of tiles. A
//    kernel never sees a plan, tensor, mesh or Status, never allocates (at
//    most a few tens of KiB of stack), never logs and never fails;
//    preconditions are DCHECKs, validated once by the caller
//    (ValidateLofiOptions and the engine's Prepare).
//  - Selection once, by FindMatmulKernels(), from a table in registry.cc; a new
//    kernel set is a new row, and callers do not change.
//  - Two numerics (issue 5): kFp32, the accurate serving mode, and kTtLofi, an
//    emulation of what a Tenstorrent LoFi matmul computes
//    (shared/spec/tt-numerics.md §4.8, arithmetic in tt_lofi.h).
// Non-goals: bias, fused activations, fp32_dest_acc_en=true, bfp8_b output.
//
// Activations arrive as bf16 bit patterns. Both numerics start from the bf16
// activations TTNN's input tensor holds, so the engine rounds fp32 input once
// (formats.h Fp32ToBf16, round to nearest even) instead of every kernel and
// every N range doing it again; a bf16 input is passed through untouched.
// AMX-BF16 consumes bf16 directly, AVX-512 widens it with one shift.
#ifndef LMHEAD_KERNELS_KERNELS_H_
#define LMHEAD_KERNELS_KERNELS_H_

#include <cstdint>
#include <memory>
#include <span>

#include "lmhead/formats.h"
#include "lmhead/numerics.h"
#include "lmhead/status.h"

namespace lmhead {

// Rows a decode call may pass: one tile of rows; TT pads decode input to 32.
inline constexpr int64_t kMaxDecodeRows = 32;

// What each Numerics means for a kernel (lmhead/numerics.h):
//  kFp32: the reference sums in double and rounds once to fp32; fast kernels
//    accumulate in fp32 and may differ from it by about K * 2^-24 *
//    sum_k |x_k w_k| (their tests derive the tolerance from that).
//  kTtLofi: y holds bf16 values as fp32, bit-exact with reference.cc by
//    contract for every kernel set.

// How the tiles of a TileMatrixView lie in memory.
enum class TileLayout : uint8_t {
  // TT's tiles (spec §1.2-1.3) in row-major tile order: the shard files' layout.
  kTtRowMajor,
  // bfp4_b only: one contiguous panel per tile column, each tile's nibbles
  // regrouped for vdpbf16ps (bfp4b_panels.h). The same values, rearranged
  // once at load time by PackTiles (tile_layout.h).
  kBfp4bPanels,
};

// A device's weight shard, or one DRAM bank of it, as a matrix of tiles:
// k_tiles x n_tiles tiles of `format`, arranged as `layout` says; in
// kTtRowMajor, row-major tile order. Element (k, n) of the (k_tiles * 32) x
// (n_tiles * 32) matrix is in tile (k / 32, n / 32), at tile-local row k % 32
// and column n % 32 (TILE_LAYOUT, spec §1.2). A bank holding tile columns
// [b * shard_nt, (b + 1) * shard_nt) is its own view with n_tiles = shard_nt.
// Non-owning; plain data.
struct TileMatrixView {
  const uint8_t* tiles = nullptr;
  TileFormat format = TileFormat::kBfp4b;
  int64_t k_tiles = 0;
  int64_t n_tiles = 0;
  TileLayout layout = TileLayout::kTtRowMajor;
};

// The bytes of tile (kt, nt) of a kTtRowMajor view: offset (kt * n_tiles + nt)
// * TileBytes(format).
inline const uint8_t* TileAt(const TileMatrixView& w, int64_t kt, int64_t nt) {
  return w.tiles + static_cast<size_t>(kt * w.n_tiles + nt) * TileBytes(w.format);
}

// The compute-kernel fields the tt-lofi numerics depend on, with TT's names.
// COMPUTE_KERNEL_CONFIG_LOFI has packer_l1_acc=True; in0_block_w comes from the
// program config (4 for DeepSeek-V3 decode on a 4x8 Galaxy, 8 for prefill).
struct LofiOptions {
  int64_t in0_block_w = 1;
  bool packer_l1_acc = true;
};

// InvalidArgument unless in0_block_w >= 1 divides k_tiles (TTNN requires
// Kt % in0_block_w == 0).
Status ValidateLofiOptions(int64_t k_tiles, const LofiOptions& options);

// Activations a kernel set has prepared once for every call on the same rows
// (MatmulKernels::prepare): work items over other banks or devices that share
// an input then skip that work. Opaque outside the set that made it. The
// destructor is defined in registry.cc, so this class's vtable is never
// compiled with a kernel file's instruction-set flags.
struct PreparedActivations {
  virtual ~PreparedActivations();
};

// One kernel call: for rows [0, m) and view columns n in [nt_begin * 32,
// nt_end * 32) that are below n_cols,
//   y[row, n] = sum_{k < K} x[row, k] * W[k, n].
struct MatmulArgs {
  // x: (m, k) bf16 bit patterns, row-major, x_stride elements between rows.
  const uint16_t* x = nullptr;
  int64_t x_stride = 0;
  int64_t m = 0;
  // (w.k_tiles - 1) * 32 < k <= w.k_tiles * 32; rows k.. of W meet zero
  // activations (TT pads the activation's width with zeros).
  int64_t k = 0;
  TileMatrixView w;
  // Tile columns of w to compute: 0 <= nt_begin <= nt_end <= w.n_tiles.
  int64_t nt_begin = 0;
  int64_t nt_end = 0;
  // y: view column n of row `row` is y[row * y_stride + n]; columns at or past
  // n_cols (the tile padding of the last tile) are not written.
  float* y = nullptr;
  int64_t y_stride = 0;
  int64_t n_cols = 0;
  // Read by kTtLofi kernels only.
  LofiOptions lofi;
  // The set's prepare() of exactly these x, x_stride, m, k and w.k_tiles, or
  // nullptr (then the kernel prepares what it needs itself).
  const PreparedActivations* prepared = nullptr;
};

using MatmulFn = void (*)(const MatmulArgs& args);
using PrepareFn = std::unique_ptr<PreparedActivations> (*)(const MatmulArgs& args);

// CPU features a kernel set may require, as bits. The engine fills them from
// CpuFeaturesForKernels() (cpu_features.h: CPUID, XCR0, the AMX permission and
// the LMHEAD_KERNELS cap); the default (none) selects the scalar reference,
// which runs everywhere.
enum CpuFeatureBits : uint32_t {
  kCpuAvx2 = 1u << 0,
  kCpuAvx512 = 1u << 1,  // F, BW, DQ, VL (Highway AVX3)
  kCpuAvx512Bf16 = 1u << 2,
  kCpuAmxBf16 = 1u << 3,  // CPUID plus the arch_prctl permission
};
struct CpuFeatures {
  uint32_t bits = 0;
  bool Has(uint32_t required) const { return (bits & required) == required; }
};

// One row of the kernel table. Thread-safe: rows are immutable and kernels
// touch only their arguments, so many threads may run disjoint N ranges.
struct MatmulKernels {
  // "<op>/<weight format>/<numerics>/<isa>", e.g. "matmul/bfp4b/tt-lofi/ref":
  // for logs, test names and benchmark filters.
  const char* name;
  TileFormat format;
  Numerics numerics;
  uint32_t required_cpu_features;
  MatmulFn gemv;  // decode: m <= kMaxDecodeRows, streams the weights once
  MatmulFn gemm;  // prefill: any m
  // Callers split N into ranges that are multiples of this many tiles.
  int64_t nr_tiles;
  // The layout gemv and gemm read: callers rearrange the shard's tiles into it
  // once (PackTiles, tile_layout.h) and pass views of the result.
  TileLayout layout = TileLayout::kTtRowMajor;
  // Optional: the per-row work on x that gemv and gemm would otherwise redo in
  // every call, done once; callers pass the result as MatmulArgs::prepared to
  // every call on the same rows. It reads x, x_stride, m, k and w.k_tiles.
  PrepareFn prepare = nullptr;
  // Whether a row's result is the same bits whatever other rows share the
  // call, all else equal (batch invariance): a decode step's logits then do
  // not depend on the batch. kernels_test checks it for every set that
  // claims it.
  bool rows_independent = false;
};

// Every registered kernel set, best first within each (format, numerics).
std::span<const MatmulKernels> AllMatmulKernels();

// The best registered set for `format` and `numerics` that this CPU can run.
// NotSupported when no set handles the pair (e.g. bf16 weights), naming the
// formats that are supported.
Result<const MatmulKernels*> FindMatmulKernels(TileFormat format, Numerics numerics,
                                               const CpuFeatures& cpu);

}  // namespace lmhead

#endif  // LMHEAD_KERNELS_KERNELS_H_
