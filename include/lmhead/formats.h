// SPDX-License-Identifier: Apache-2.0
// Tenstorrent tile formats: TILE_LAYOUT with bfloat4_b, bfloat8_b, bfloat16 and float32 tiles.
//
// What we write is byte for byte what TT-Metal's host conversion writes
// (`ttnn.from_torch(..., dtype=..., layout=TILE_LAYOUT)`), and what we read back
// is what TT's host unpacker returns. The rules are in shared/spec/tt-numerics.md
// sections 1-3 and restated, with a byte diagram, in docs/bfp_formats.md.
//
// Every function here uses the fastest SIMD target of this CPU (Highway dynamic
// dispatch: AVX3_DL, AVX3, AVX2 or scalar); all targets give identical bytes.
// Functions are thread-safe: they touch only their arguments.
#ifndef LMHEAD_FORMATS_H_
#define LMHEAD_FORMATS_H_

#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "lmhead/status.h"

namespace lmhead {

// TILE_LAYOUT geometry (spec 1.2): 32x32 tiles made of four 16x16 faces.
inline constexpr int kTileDim = 32;
inline constexpr int kFaceDim = 16;
inline constexpr int kTileElems = kTileDim * kTileDim;
// Block-float tiles share one exponent per 16-value face row ("group", spec 1.3).
inline constexpr int kBfpGroupSize = kFaceDim;
inline constexpr int kBfpGroupsPerTile = kTileElems / kBfpGroupSize;  // 64 exponent bytes

enum class TileFormat {
  kBfp4b,  // ttnn.bfloat4_b: 64 exponent bytes + 1024 4-bit sign-magnitude datums
  kBfp8b,  // ttnn.bfloat8_b: 64 exponent bytes + 1024 8-bit sign-magnitude datums
  kBf16,   // ttnn.bfloat16: 1024 bf16 values in tile order
  kFp32,   // ttnn.float32: 1024 fp32 values in tile order
};

// "bfp4_b", "bfp8_b", "bf16" or "fp32".
const char* ToString(TileFormat format);
// Accepts the names above and TT's spellings "bfloat4_b", "bfloat8_b", "bfloat16", "float32".
Result<TileFormat> ParseTileFormat(std::string_view name);
// Bytes of one 32x32 tile: 576 (bfp4_b), 1088 (bfp8_b), 2048 (bf16), 4096 (fp32).
size_t TileBytes(TileFormat format);
// True for the block-float formats (bfp4_b, bfp8_b).
bool IsBfp(TileFormat format);
// Data bytes of one 16-value group in a block-float tile: 8 (bfp4_b) or 16 (bfp8_b).
// Precondition: IsBfp(format).
size_t BfpGroupDataBytes(TileFormat format);

// A tensor [d0, ..., dn-3, rows, cols] as TT tiles it: the outer dims fold into
// `batch`, and each [rows, cols] slice is padded to multiples of 32 on its own
// (spec 1.2), so the physical height is batch * ceil(rows / 32) * 32.
struct TiledShape {
  int64_t batch = 1;
  int64_t rows = 0;
  int64_t cols = 0;
};

// InvalidArgument unless dims has rank >= 2 and every dim is >= 1.
Result<TiledShape> TiledShapeFromDims(std::span<const int64_t> dims);
// batch * rows * cols: the number of logical (unpadded) elements.
int64_t NumElements(const TiledShape& shape);
// batch * ceil(rows / 32) * ceil(cols / 32).
int64_t NumTiles(const TiledShape& shape);
// NumTiles(shape) * TileBytes(format): the size of TT's host buffer.
size_t TiledBytes(TileFormat format, const TiledShape& shape);

// ---------------------------------------------------------------------------
// Whole tensors. `src` is row-major [batch, rows, cols]; `dst` receives the tiles
// in row-major tile order over each padded slice, slices one after another,
// padding elements being 0.0 (exactly TT's host buffer, nothing else).
// InvalidArgument if src.size() != NumElements(shape) or
// dst.size() != TiledBytes(format, shape).
//
// fp32 source: bfp formats pack the fp32 bits (never pre-rounded to bf16);
// bf16 tiles round to nearest even like torch's .to(torch.bfloat16), every NaN
// becoming the quiet NaN 0x7FC0; fp32 tiles are a pure re-layout.
Status PackMatrixFp32(TileFormat format, std::span<const float> src, const TiledShape& shape,
                      std::span<uint8_t> dst);
// bf16 source (bit patterns): widened exactly to fp32 (bits << 16) for bfp and
// fp32 tiles; copied verbatim into bf16 tiles.
Status PackMatrixBf16(TileFormat format, std::span<const uint16_t> src, const TiledShape& shape,
                      std::span<uint8_t> dst);

// The inverse: `src` holds TiledBytes(format, shape) bytes; `dst` receives the
// logical [batch, rows, cols] values, padding dropped. bfp values decode with TT's
// host semantics (spec 3.2, incl. the 2025+ rule that underflowing lanes give +0).
// To bf16: bfp decodes are exact in bf16 (the low 16 bits of the fp32 result are
// zero) and bf16 tiles are copied; fp32 tiles round to nearest even as above.
// InvalidArgument on a size mismatch; the message names the expected size.
Status UnpackMatrixToFp32(TileFormat format, std::span<const uint8_t> src, const TiledShape& shape,
                          std::span<float> dst);
Status UnpackMatrixToBf16(TileFormat format, std::span<const uint8_t> src, const TiledShape& shape,
                          std::span<uint16_t> dst);

// ---------------------------------------------------------------------------
// Single tiles, for streaming converters. The source is a row-major window
// starting at `src` with `row_stride` elements between rows; only the top-left
// valid_rows x valid_cols elements are read, the rest of the tile is 0.0 padding.
// `dst` receives TileBytes(format) bytes.
// Preconditions (checked, abort): 0 <= valid_rows, valid_cols <= 32 and
// row_stride >= valid_cols.
void PackTileFp32(TileFormat format, const float* src, ptrdiff_t row_stride, int valid_rows,
                  int valid_cols, uint8_t* dst);
void PackTileBf16(TileFormat format, const uint16_t* src, ptrdiff_t row_stride, int valid_rows,
                  int valid_cols, uint8_t* dst);

// Packs one row of ceil(num_cols / 32) tiles side by side from a window of
// valid_rows (<= 32) rows and num_cols columns; dst receives the tiles in order.
void PackTileRowFp32(TileFormat format, const float* src, ptrdiff_t row_stride, int valid_rows,
                     int64_t num_cols, uint8_t* dst);
void PackTileRowBf16(TileFormat format, const uint16_t* src, ptrdiff_t row_stride, int valid_rows,
                     int64_t num_cols, uint8_t* dst);

// Unpacks one tile of TileBytes(format) bytes into the top-left
// valid_rows x valid_cols window of a row-major destination (same preconditions).
void UnpackTileToFp32(TileFormat format, const uint8_t* src, float* dst, ptrdiff_t row_stride,
                      int valid_rows, int valid_cols);
void UnpackTileToBf16(TileFormat format, const uint8_t* src, uint16_t* dst, ptrdiff_t row_stride,
                      int valid_rows, int valid_cols);

// ---------------------------------------------------------------------------
// Decode helpers for kernels: decode `num_groups` consecutive 16-value groups of
// a bfp tile, group g having exponent byte exponents[g] and its datums at
// data + g * BfpGroupDataBytes(format), into out[16 * g .. 16 * g + 15].
// A whole tile is exponents = tile, data = tile + 64, num_groups = 64 (the output
// is then in tile order: face 0 rows 0..15, face 1, face 2, face 3).
// Exact: the values are those of UnpackTileToFp32. Precondition: IsBfp(format).
void DecodeBfpGroupsToFp32(TileFormat format, const uint8_t* exponents, const uint8_t* data,
                           int64_t num_groups, float* out);
void DecodeBfpGroupsToBf16(TileFormat format, const uint8_t* exponents, const uint8_t* data,
                           int64_t num_groups, uint16_t* out);

// ---------------------------------------------------------------------------
// NaN/Inf policy. Packing follows TT (a NaN/Inf sets its group's exponent to 255
// and flushes the group's finite values to 0); callers who want to refuse such
// input check first.

// Index of the first NaN or Inf, or -1 when every value is finite.
int64_t FindFirstNonFinite(std::span<const float> values);
int64_t FindFirstNonFiniteBf16(std::span<const uint16_t> values);
// OK when every value is finite; otherwise InvalidArgument naming the first
// offending element by its coordinates in the row-major tensor `dims`
// (e.g. "[0, 3, 17]") and its value. Precondition: values.size() == prod(dims).
Status CheckFinite(std::span<const float> values, std::span<const int64_t> dims);
Status CheckFiniteBf16(std::span<const uint16_t> values, std::span<const int64_t> dims);

// ---------------------------------------------------------------------------
// Scalar bf16 conversions (bit patterns).

// Round to nearest even like c10::BFloat16 (torch's .to(torch.bfloat16));
// every NaN becomes the quiet NaN 0x7FC0, and values that round past the largest
// finite bf16 become Inf.
inline uint16_t Fp32ToBf16(float value) {
  const uint32_t bits = std::bit_cast<uint32_t>(value);
  if ((bits & 0x7FFFFFFFu) > 0x7F800000u) return 0x7FC0;
  const uint32_t rounding_bias = 0x7FFFu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>((bits + rounding_bias) >> 16);
}
// Exact widening.
inline float Bf16ToFp32(uint16_t bf16) {
  return std::bit_cast<float>(static_cast<uint32_t>(bf16) << 16);
}

// The Highway target these functions dispatch to on this CPU, e.g. "AVX3_DL".
const char* FormatsSimdTargetName();

}  // namespace lmhead

#endif  // LMHEAD_FORMATS_H_
