// SPDX-License-Identifier: Apache-2.0
// What the SIMD kernel sets share around their arithmetic: the pass loop and the tile prefetch.
//
// Every function has internal linkage, so each kernel file, compiled with its
// own instruction-set flags, gets its own copy: no AVX-512 or AVX2 code can
// reach another file through the linker (avx512/avx512_kernels.h).
#ifndef LMHEAD_KERNELS_TILE_PASSES_H_
#define LMHEAD_KERNELS_TILE_PASSES_H_

#include <cstddef>
#include <cstdint>

#include "kernels/kernels.h"
#include "kernels/x86_intrinsics.h"

namespace lmhead::tile_passes {

// Tile rows ahead of the one being computed that PrefetchTileRow asks for: a
// work item's tile row is a few adjacent tiles, the next one a bank row
// further, which the hardware prefetchers do not follow far enough.
inline constexpr int64_t kPrefetchTileRows = 3;

// Prefetches tiles [nt0, nt0 + tiles) of tile row kt of `w`, tile_bytes each
// (nothing past the last tile row).
static inline void PrefetchTileRow(const TileMatrixView& w, int64_t kt, int64_t nt0, int tiles,
                                   size_t tile_bytes) {
  if (kt >= w.k_tiles) return;
  const char* p = reinterpret_cast<const char*>(w.tiles) +
                  static_cast<size_t>(kt * w.n_tiles + nt0) * tile_bytes;
  const size_t bytes = static_cast<size_t>(tiles) * tile_bytes;
  for (size_t offset = 0; offset < bytes; offset += 64) _mm_prefetch(p + offset, _MM_HINT_T0);
}

// Calls pass(row0, rows, nt0, tiles) for the passes covering args' tile
// columns [nt_begin, nt_end) in groups of up to pass_tiles and its rows in
// groups of up to pass_rows, columns outermost (so a decode call, m <=
// pass_rows, reads each tile once).
template <typename Pass>
static inline void ForEachPass(const MatmulArgs& args, int pass_tiles, int pass_rows, Pass pass) {
  for (int64_t nt0 = args.nt_begin; nt0 < args.nt_end; nt0 += pass_tiles) {
    const int tiles =
        static_cast<int>(args.nt_end - nt0 < pass_tiles ? args.nt_end - nt0 : pass_tiles);
    for (int64_t row0 = 0; row0 < args.m; row0 += pass_rows) {
      pass(row0, static_cast<int>(args.m - row0 < pass_rows ? args.m - row0 : pass_rows), nt0,
           tiles);
    }
  }
}

}  // namespace lmhead::tile_passes

#endif  // LMHEAD_KERNELS_TILE_PASSES_H_
