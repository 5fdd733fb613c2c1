// SPDX-License-Identifier: Apache-2.0
// `lmhead tiles pack|unpack`: TT tile buffers (bfloat4_b, bfloat8_b, bfloat16, float32) <-> .npy.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "command.h"
#include "lmhead/formats.h"
#include "lmhead/npy.h"

namespace lmhead::cli {
namespace {

// The flags of both subcommands: name, default and help side by side.
struct TilesFlags {
  std::string format;             // --format bfp4_b|bfp8_b|bf16|fp32
  std::string in;                 // --in PATH
  std::string out;                // --out PATH
  bool input_bf16 = false;        // pack --input-bf16: X.npy holds bf16 bits as uint16
  bool reject_nonfinite = false;  // pack --reject-nonfinite
  std::string shape;              // unpack --shape R,C (or B,...,R,C)
};

constexpr char kFormatHelp[] =
    "Tile format: bfp4_b, bfp8_b, bf16 or fp32 (TT names bfloat4_b, bfloat8_b, bfloat16, "
    "float32 also work)";

std::string DimsText(std::span<const int64_t> dims) {
  return fmt::format("[{}]", fmt::join(dims, ", "));
}

Status Pack(const TilesFlags& flags) {
  LMHEAD_ASSIGN_OR_RETURN(const TileFormat format, ParseTileFormat(flags.format));
  LMHEAD_ASSIGN_OR_RETURN(const NpyArray array, ReadNpy(flags.in));
  const NpyDtype want = flags.input_bf16 ? NpyDtype::kUint16 : NpyDtype::kFloat32;
  if (array.dtype != want) {
    return Status::InvalidArgument(fmt::format(
        "[tiles pack] {} holds {} values; {}", flags.in, ToString(array.dtype),
        flags.input_bf16 ? "--input-bf16 needs bf16 bit patterns stored as uint16 ('<u2')"
                         : "pass float32 ('<f4'), or bf16 bits as uint16 with --input-bf16"));
  }
  const Result<TiledShape> shape = TiledShapeFromDims(array.shape);
  if (!shape.ok()) {
    return Status::InvalidArgument(fmt::format(
        "[tiles pack] {} has shape {}; tiles need rank >= 2 with every dimension >= 1 ({})",
        flags.in, DimsText(array.shape), shape.status().message()));
  }
  std::vector<uint8_t> tiles(TiledBytes(format, *shape));
  if (flags.input_bf16) {
    const std::span<const uint16_t> values = array.Values<uint16_t>();
    if (flags.reject_nonfinite) LMHEAD_RETURN_IF_ERROR(CheckFiniteBf16(values, array.shape));
    LMHEAD_RETURN_IF_ERROR(PackMatrixBf16(format, values, *shape, tiles));
  } else {
    const std::span<const float> values = array.Values<float>();
    if (flags.reject_nonfinite) LMHEAD_RETURN_IF_ERROR(CheckFinite(values, array.shape));
    LMHEAD_RETURN_IF_ERROR(PackMatrixFp32(format, values, *shape, tiles));
  }
  LMHEAD_RETURN_IF_ERROR(WriteFileAtomic(flags.out, tiles));
  std::printf("packed %s %s %s -> %lld %s tiles (%zu bytes) in %s\n", flags.in.c_str(),
              ToString(array.dtype), DimsText(array.shape).c_str(),
              static_cast<long long>(NumTiles(*shape)), ToString(format), tiles.size(),
              flags.out.c_str());
  return Status::Ok();
}

Result<std::vector<int64_t>> ParseShape(std::string_view text) {
  std::vector<int64_t> dims;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    const std::string_view item = text.substr(start, comma - start);
    int64_t dim = 0;
    const auto [end, error] = std::from_chars(item.data(), item.data() + item.size(), dim);
    if (item.empty() || error != std::errc() || end != item.data() + item.size() || dim < 1) {
      return Status::InvalidArgument(fmt::format(
          "[tiles unpack] --shape '{}' is not a comma-separated list of positive integers; "
          "give the logical shape, e.g. --shape 7168,129280",
          text));
    }
    dims.push_back(dim);
    start = comma + 1;
  }
  return dims;
}

// A tile file must hold exactly the tiles of the shape, in the chosen format.
Status CheckTileFileSize(const TilesFlags& flags, TileFormat format, const TiledShape& shape,
                         std::span<const int64_t> dims, size_t file_bytes) {
  const size_t tile_bytes = TileBytes(format);
  const size_t want_bytes = TiledBytes(format, shape);
  if (file_bytes == want_bytes) return Status::Ok();
  if (file_bytes % tile_bytes != 0) {
    return Status::Corruption(fmt::format(
        "[tiles unpack] {} has {} bytes, not a whole number of {}-byte {} tiles; the file is "
        "truncated or not {} tiles (shape {} needs {} bytes)",
        flags.in, file_bytes, tile_bytes, ToString(format), ToString(format), DimsText(dims),
        want_bytes));
  }
  return Status::InvalidArgument(fmt::format(
      "[tiles unpack] {} holds {} {} tiles but shape {} needs {} ({} bytes); check --shape and "
      "--format",
      flags.in, file_bytes / tile_bytes, ToString(format), DimsText(dims), NumTiles(shape),
      want_bytes));
}

Status Unpack(const TilesFlags& flags) {
  LMHEAD_ASSIGN_OR_RETURN(const TileFormat format, ParseTileFormat(flags.format));
  LMHEAD_ASSIGN_OR_RETURN(const std::vector<int64_t> dims, ParseShape(flags.shape));
  LMHEAD_ASSIGN_OR_RETURN(const TiledShape shape, TiledShapeFromDims(dims));
  LMHEAD_ASSIGN_OR_RETURN(const std::vector<uint8_t> tiles, ReadFileBytes(flags.in));
  LMHEAD_RETURN_IF_ERROR(CheckTileFileSize(flags, format, shape, dims, tiles.size()));
  std::vector<float> values(static_cast<size_t>(NumElements(shape)));
  LMHEAD_RETURN_IF_ERROR(UnpackMatrixToFp32(format, tiles, shape, values));
  LMHEAD_RETURN_IF_ERROR(WriteNpy<float>(flags.out, dims, values));
  std::printf("unpacked %lld %s tiles from %s -> float32 %s in %s\n",
              static_cast<long long>(NumTiles(shape)), ToString(format), flags.in.c_str(),
              DimsText(dims).c_str(), flags.out.c_str());
  return Status::Ok();
}

}  // namespace

CommandMain RegisterTilesCommand(CLI::App& sub) {
  auto flags = std::make_shared<TilesFlags>();
  sub.require_subcommand(1);

  CLI::App* pack = sub.add_subcommand(
      "pack", "Pack a float32 (or bf16-as-uint16) .npy of rank >= 2 into TT's host tile buffer");
  pack->add_option("--format", flags->format, kFormatHelp)->required();
  pack->add_option("--in", flags->in, "Input .npy (outer dims fold into rows, as TT does)")
      ->required();
  pack->add_option("--out", flags->out, "Output tile file: the tiles in order, nothing else")
      ->required();
  pack->add_flag("--input-bf16", flags->input_bf16,
                 "The .npy holds bf16 bit patterns as uint16 (widened exactly, never rounded)");
  pack->add_flag("--reject-nonfinite", flags->reject_nonfinite,
                 "Fail on the first NaN/Inf, naming its index, instead of packing it as TT does");

  CLI::App* unpack = sub.add_subcommand(
      "unpack", "Unpack a tile file into a float32 .npy of its logical shape (padding dropped)");
  unpack->add_option("--format", flags->format, kFormatHelp)->required();
  unpack->add_option("--shape", flags->shape, "Logical shape R,C (or B,...,R,C) of the tensor")
      ->required();
  unpack->add_option("--in", flags->in, "Input tile file")->required();
  unpack->add_option("--out", flags->out, "Output .npy (float32)")->required();

  return [flags, pack] { return ReportStatus(pack->parsed() ? Pack(*flags) : Unpack(*flags)); };
}

}  // namespace lmhead::cli
