// SPDX-License-Identifier: Apache-2.0
// Bindings of lmhead/formats.h: whole tensors to TT's TILE_LAYOUT bytes and back.
#include "lmhead/formats.h"

#include <fmt/format.h>
#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "bindings.h"
#include "py_util.h"

namespace lmhead::python {
namespace {

// values: float32, or uint16 holding bf16 bit patterns; rank >= 2. Returns TT's host buffer.
py::array_t<uint8_t> Pack(const py::array& values, const std::string& format_name) {
  const TileFormat format = ValueOrThrow(ParseTileFormat(format_name));
  const std::vector<int64_t> dims = DimsOf(values);
  const TiledShape shape = ValueOrThrow(TiledShapeFromDims(dims));
  std::vector<uint8_t> out(TiledBytes(format, shape));
  Status status;
  if (HoldsType<uint16_t>(values)) {
    const std::span<const uint16_t> src = ElementsOf<uint16_t>(values, "values");
    status = WithoutGil([&] { return PackMatrixBf16(format, src, shape, out); });
  } else {
    const std::span<const float> src = ElementsOf<float>(values, "values");
    status = WithoutGil([&] { return PackMatrixFp32(format, src, shape, out); });
  }
  ThrowIfError(status);
  const auto size = static_cast<py::ssize_t>(out.size());
  return ToNumpy(std::move(out), {size});
}

// The inverse: `data` holds TiledBytes(format, shape) bytes; returns float32 values of `dims`,
// or bf16 bit patterns (uint16) when to_bf16.
py::array Unpack(const py::array& data, const std::vector<int64_t>& dims,
                 const std::string& format_name, bool to_bf16) {
  const TileFormat format = ValueOrThrow(ParseTileFormat(format_name));
  const TiledShape shape = ValueOrThrow(TiledShapeFromDims(dims));
  const std::span<const uint8_t> src = ElementsOf<uint8_t>(data, "buffer");
  // Checked before allocating the output, which a wrong shape could make huge.
  if (src.size() != TiledBytes(format, shape)) {
    ThrowStatus(Status::InvalidArgument(fmt::format(
        "[unpack] buffer has {} bytes but shape [{}] in {} needs {}; check the shape and the "
        "format",
        src.size(), fmt::join(dims, ", "), ToString(format), TiledBytes(format, shape))));
  }
  const std::vector<py::ssize_t> out_shape(dims.begin(), dims.end());
  const auto count = static_cast<size_t>(NumElements(shape));
  if (to_bf16) {
    std::vector<uint16_t> out(count);
    ThrowIfError(WithoutGil([&] { return UnpackMatrixToBf16(format, src, shape, out); }));
    return ToNumpy(std::move(out), out_shape);
  }
  std::vector<float> out(count);
  ThrowIfError(WithoutGil([&] { return UnpackMatrixToFp32(format, src, shape, out); }));
  return ToNumpy(std::move(out), out_shape);
}

}  // namespace

void InitFormats(py::module_& m) {
  m.def("pack", &Pack, py::arg("values"), py::arg("format"),
        "PackMatrixFp32/PackMatrixBf16: a C-contiguous float32 (or uint16 bf16-bits) array of "
        "rank >= 2 to TT's TILE_LAYOUT host buffer (uint8), byte for byte what "
        "ttnn.from_torch(..., dtype=format, layout=TILE_LAYOUT) writes.");
  m.def("unpack", &Unpack, py::arg("buffer"), py::arg("shape"), py::arg("format"),
        py::arg("to_bf16"),
        "UnpackMatrixToFp32/ToBf16: TT's host buffer (uint8) back to the logical values of "
        "`shape`, padding dropped.");
  m.def(
      "tile_bytes",
      [](const std::string& format) { return TileBytes(ValueOrThrow(ParseTileFormat(format))); },
      py::arg("format"), "Bytes of one 32x32 tile: 576, 1088, 2048 or 4096.");
  m.def(
      "tiled_bytes",
      [](const std::string& format, const std::vector<int64_t>& dims) {
        return TiledBytes(ValueOrThrow(ParseTileFormat(format)),
                          ValueOrThrow(TiledShapeFromDims(dims)));
      },
      py::arg("format"), py::arg("shape"), "Bytes of TT's host buffer for a tensor of `shape`.");
  m.def(
      "format_name",
      [](const std::string& format) { return ToString(ValueOrThrow(ParseTileFormat(format))); },
      py::arg("format"), "The canonical name of a tile format ('bfp4_b', ...).");
}

}  // namespace lmhead::python
