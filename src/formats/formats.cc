// SPDX-License-Identifier: Apache-2.0
// Public tile-format API: names and sizes, whole-tensor and single-tile pack/unpack.
#include "lmhead/formats.h"

#include <fmt/format.h>

#include <algorithm>
#include <string>

#include "base/check.h"
#include "formats/bfp_simd.h"

namespace lmhead {
namespace {

// Largest number of elements a shape may describe (padded): 2^48 keeps every
// byte count below 2^62, so no size arithmetic here can overflow.
constexpr int64_t kMaxElements = int64_t{1} << 48;

int64_t CeilTiles(int64_t extent) { return (extent + kTileDim - 1) / kTileDim; }

std::string ShapeString(const TiledShape& shape) {
  return fmt::format("[batch {}, rows {}, cols {}]", shape.batch, shape.rows, shape.cols);
}

Status ValidateShape(const char* function, const TiledShape& shape) {
  if (shape.batch < 1 || shape.rows < 1 || shape.cols < 1) {
    return Status::InvalidArgument(fmt::format(
        "[{}] shape {} has an empty or negative dimension; every dimension must be >= 1", function,
        ShapeString(shape)));
  }
  const int64_t padded_slice = CeilTiles(shape.rows) * CeilTiles(shape.cols) * kTileElems;
  if (shape.rows > kMaxElements || shape.cols > kMaxElements ||
      padded_slice > kMaxElements / shape.batch) {
    return Status::InvalidArgument(
        fmt::format("[{}] shape {} has more than 2^48 elements; split the tensor", function,
                    ShapeString(shape)));
  }
  return Status::Ok();
}

Status ValidateSizes(const char* function, TileFormat format, const TiledShape& shape,
                     size_t num_values, size_t num_bytes) {
  LMHEAD_RETURN_IF_ERROR(ValidateShape(function, shape));
  const auto expected_values = static_cast<size_t>(NumElements(shape));
  if (num_values != expected_values) {
    return Status::InvalidArgument(fmt::format(
        "[{}] {} values given but shape {} holds {}; pass exactly one value per element", function,
        num_values, ShapeString(shape), expected_values));
  }
  const size_t expected_bytes = TiledBytes(format, shape);
  if (num_bytes != expected_bytes) {
    return Status::InvalidArgument(fmt::format(
        "[{}] tile buffer has {} bytes but shape {} in {} needs {} ({} tiles of {} bytes); "
        "check the shape and the format",
        function, num_bytes, ShapeString(shape), ToString(format), expected_bytes, NumTiles(shape),
        TileBytes(format)));
  }
  return Status::Ok();
}

void CheckWindow(ptrdiff_t row_stride, int valid_rows, int valid_cols) {
  LMHEAD_CHECK(valid_rows >= 0 && valid_rows <= kTileDim && valid_cols >= 0 &&
                   valid_cols <= kTileDim && row_stride >= valid_cols,
               "bad tile window: valid_rows={} valid_cols={} row_stride={}", valid_rows, valid_cols,
               row_stride);
}

// Visits every tile of `shape` in TT order with the window (offset of its
// top-left element in the row-major tensor, valid rows, valid cols).
template <typename Visit>
void ForEachTile(const TiledShape& shape, Visit visit) {
  const int64_t tile_rows = CeilTiles(shape.rows);
  const int64_t tile_cols = CeilTiles(shape.cols);
  int64_t tile_idx = 0;
  for (int64_t slice = 0; slice < shape.batch; ++slice) {
    for (int64_t tile_row = 0; tile_row < tile_rows; ++tile_row) {
      const int64_t first_row = tile_row * kTileDim;
      const int valid_rows = static_cast<int>(std::min<int64_t>(kTileDim, shape.rows - first_row));
      for (int64_t tile_col = 0; tile_col < tile_cols; ++tile_col) {
        const int64_t first_col = tile_col * kTileDim;
        const int valid_cols =
            static_cast<int>(std::min<int64_t>(kTileDim, shape.cols - first_col));
        const int64_t offset = (slice * shape.rows + first_row) * shape.cols + first_col;
        visit(tile_idx++, offset, valid_rows, valid_cols);
      }
    }
  }
}

}  // namespace

const char* ToString(TileFormat format) {
  switch (format) {
    case TileFormat::kBfp4b:
      return "bfp4_b";
    case TileFormat::kBfp8b:
      return "bfp8_b";
    case TileFormat::kBf16:
      return "bf16";
    case TileFormat::kFp32:
      return "fp32";
  }
  return "unknown";
}

Result<TileFormat> ParseTileFormat(std::string_view name) {
  if (name == "bfp4_b" || name == "bfloat4_b") return TileFormat::kBfp4b;
  if (name == "bfp8_b" || name == "bfloat8_b") return TileFormat::kBfp8b;
  if (name == "bf16" || name == "bfloat16") return TileFormat::kBf16;
  if (name == "fp32" || name == "float32") return TileFormat::kFp32;
  return Status::InvalidArgument(fmt::format(
      "[ParseTileFormat] unknown tile format '{}'; use bfp4_b, bfp8_b, bf16 or fp32", name));
}

size_t TileBytes(TileFormat format) {
  switch (format) {
    case TileFormat::kBfp4b:
      return kBfpGroupsPerTile + kTileElems / 2;  // 64 + 512 = 576
    case TileFormat::kBfp8b:
      return kBfpGroupsPerTile + kTileElems;  // 64 + 1024 = 1088
    case TileFormat::kBf16:
      return kTileElems * 2;
    case TileFormat::kFp32:
      return kTileElems * 4;
  }
  return 0;
}

bool IsBfp(TileFormat format) {
  return format == TileFormat::kBfp4b || format == TileFormat::kBfp8b;
}

size_t BfpGroupDataBytes(TileFormat format) {
  LMHEAD_CHECK(IsBfp(format), "not a block-float format: {}", ToString(format));
  return format == TileFormat::kBfp4b ? kBfpGroupSize / 2 : kBfpGroupSize;
}

Result<TiledShape> TiledShapeFromDims(std::span<const int64_t> dims) {
  if (dims.size() < 2) {
    return Status::InvalidArgument(
        fmt::format("[TiledShapeFromDims] rank {} tensor cannot be tiled; tiles need rank >= 2 "
                    "([..., rows, cols])",
                    dims.size()));
  }
  TiledShape shape{1, dims[dims.size() - 2], dims[dims.size() - 1]};
  for (size_t dim_idx = 0; dim_idx < dims.size(); ++dim_idx) {
    if (dims[dim_idx] < 1) {
      return Status::InvalidArgument(fmt::format(
          "[TiledShapeFromDims] dimension {} is {} in [{}]; every dimension must be >= 1", dim_idx,
          dims[dim_idx], fmt::join(dims, ", ")));
    }
    if (dim_idx + 2 < dims.size()) {
      if (dims[dim_idx] > kMaxElements / shape.batch) {
        return Status::InvalidArgument(
            fmt::format("[TiledShapeFromDims] [{}] has more than 2^48 elements; split the tensor",
                        fmt::join(dims, ", ")));
      }
      shape.batch *= dims[dim_idx];
    }
  }
  LMHEAD_RETURN_IF_ERROR(ValidateShape("TiledShapeFromDims", shape));
  return shape;
}

int64_t NumElements(const TiledShape& shape) { return shape.batch * shape.rows * shape.cols; }

int64_t NumTiles(const TiledShape& shape) {
  return shape.batch * CeilTiles(shape.rows) * CeilTiles(shape.cols);
}

size_t TiledBytes(TileFormat format, const TiledShape& shape) {
  return static_cast<size_t>(NumTiles(shape)) * TileBytes(format);
}

namespace {

// Every tile of `shape` from row-major `src`, packed by pack_tile(format,
// src, row_stride, valid_rows, valid_cols, dst) into `dst`.
template <typename T, typename PackTileFn>
Status PackMatrix(const char* function, TileFormat format, std::span<const T> src,
                  const TiledShape& shape, std::span<uint8_t> dst, PackTileFn pack_tile) {
  LMHEAD_RETURN_IF_ERROR(ValidateSizes(function, format, shape, src.size(), dst.size()));
  const size_t tile_bytes = TileBytes(format);
  ForEachTile(shape, [&](int64_t tile_idx, int64_t offset, int valid_rows, int valid_cols) {
    pack_tile(format, src.data() + offset, shape.cols, valid_rows, valid_cols,
              dst.data() + tile_idx * tile_bytes);
  });
  return Status::Ok();
}

// The inverse: every tile of `src` unpacked by unpack_tile into row-major `dst`.
template <typename T, typename UnpackTileFn>
Status UnpackMatrix(const char* function, TileFormat format, std::span<const uint8_t> src,
                    const TiledShape& shape, std::span<T> dst, UnpackTileFn unpack_tile) {
  LMHEAD_RETURN_IF_ERROR(ValidateSizes(function, format, shape, dst.size(), src.size()));
  const size_t tile_bytes = TileBytes(format);
  ForEachTile(shape, [&](int64_t tile_idx, int64_t offset, int valid_rows, int valid_cols) {
    unpack_tile(format, src.data() + tile_idx * tile_bytes, dst.data() + offset, shape.cols,
                valid_rows, valid_cols);
  });
  return Status::Ok();
}

}  // namespace

Status PackMatrixFp32(TileFormat format, std::span<const float> src, const TiledShape& shape,
                      std::span<uint8_t> dst) {
  return PackMatrix("PackMatrixFp32", format, src, shape, dst, &PackTileFp32Fast);
}

Status PackMatrixBf16(TileFormat format, std::span<const uint16_t> src, const TiledShape& shape,
                      std::span<uint8_t> dst) {
  return PackMatrix("PackMatrixBf16", format, src, shape, dst, &PackTileBf16Fast);
}

Status UnpackMatrixToFp32(TileFormat format, std::span<const uint8_t> src, const TiledShape& shape,
                          std::span<float> dst) {
  return UnpackMatrix("UnpackMatrixToFp32", format, src, shape, dst, &UnpackTileToFp32Fast);
}

Status UnpackMatrixToBf16(TileFormat format, std::span<const uint8_t> src, const TiledShape& shape,
                          std::span<uint16_t> dst) {
  return UnpackMatrix("UnpackMatrixToBf16", format, src, shape, dst, &UnpackTileToBf16Fast);
}

void PackTileFp32(TileFormat format, const float* src, ptrdiff_t row_stride, int valid_rows,
                  int valid_cols, uint8_t* dst) {
  CheckWindow(row_stride, valid_rows, valid_cols);
  PackTileFp32Fast(format, src, row_stride, valid_rows, valid_cols, dst);
}

void PackTileBf16(TileFormat format, const uint16_t* src, ptrdiff_t row_stride, int valid_rows,
                  int valid_cols, uint8_t* dst) {
  CheckWindow(row_stride, valid_rows, valid_cols);
  PackTileBf16Fast(format, src, row_stride, valid_rows, valid_cols, dst);
}

void PackTileRowFp32(TileFormat format, const float* src, ptrdiff_t row_stride, int valid_rows,
                     int64_t num_cols, uint8_t* dst) {
  LMHEAD_CHECK(num_cols >= 0 && row_stride >= num_cols, "num_cols={} row_stride={}", num_cols,
               row_stride);
  for (int64_t first_col = 0; first_col < num_cols; first_col += kTileDim) {
    const int valid_cols = static_cast<int>(std::min<int64_t>(kTileDim, num_cols - first_col));
    PackTileFp32(format, src + first_col, row_stride, valid_rows, valid_cols, dst);
    dst += TileBytes(format);
  }
}

void PackTileRowBf16(TileFormat format, const uint16_t* src, ptrdiff_t row_stride, int valid_rows,
                     int64_t num_cols, uint8_t* dst) {
  LMHEAD_CHECK(num_cols >= 0 && row_stride >= num_cols, "num_cols={} row_stride={}", num_cols,
               row_stride);
  for (int64_t first_col = 0; first_col < num_cols; first_col += kTileDim) {
    const int valid_cols = static_cast<int>(std::min<int64_t>(kTileDim, num_cols - first_col));
    PackTileBf16(format, src + first_col, row_stride, valid_rows, valid_cols, dst);
    dst += TileBytes(format);
  }
}

void UnpackTileToFp32(TileFormat format, const uint8_t* src, float* dst, ptrdiff_t row_stride,
                      int valid_rows, int valid_cols) {
  CheckWindow(row_stride, valid_rows, valid_cols);
  UnpackTileToFp32Fast(format, src, dst, row_stride, valid_rows, valid_cols);
}

void UnpackTileToBf16(TileFormat format, const uint8_t* src, uint16_t* dst, ptrdiff_t row_stride,
                      int valid_rows, int valid_cols) {
  CheckWindow(row_stride, valid_rows, valid_cols);
  UnpackTileToBf16Fast(format, src, dst, row_stride, valid_rows, valid_cols);
}

void DecodeBfpGroupsToFp32(TileFormat format, const uint8_t* exponents, const uint8_t* data,
                           int64_t num_groups, float* out) {
  LMHEAD_CHECK(IsBfp(format) && num_groups >= 0, "format={} num_groups={}", ToString(format),
               num_groups);
  DecodeBfpGroupsToFp32Fast(format, exponents, data, num_groups, out);
}

void DecodeBfpGroupsToBf16(TileFormat format, const uint8_t* exponents, const uint8_t* data,
                           int64_t num_groups, uint16_t* out) {
  LMHEAD_CHECK(IsBfp(format) && num_groups >= 0, "format={} num_groups={}", ToString(format),
               num_groups);
  DecodeBfpGroupsToBf16Fast(format, exponents, data, num_groups, out);
}

const char* FormatsSimdTargetName() { return FastTargetName(); }

}  // namespace lmhead
