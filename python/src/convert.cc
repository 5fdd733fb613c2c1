// SPDX-License-Identifier: Apache-2.0
// Bindings of lmhead/convert.h and lmhead/weights.h: synth, convert, and reading shards back.
#include "lmhead/convert.h"

#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <vector>

#include "bindings.h"
#include "lmhead/weights.h"
#include "py_util.h"

namespace lmhead::python {
namespace {

py::dict SynthReportDict(const SynthReport& report) {
  py::dict out;
  out["tensor_name"] = report.tensor_name;
  out["head_file"] = report.head_file;
  out["files"] = report.files;
  out["head_bytes"] = report.head_bytes;
  out["seconds"] = report.seconds;
  return out;
}

py::dict Synth(const std::string& out_dir, int64_t hidden_size, int64_t vocab_size,
               const std::string& dtype, uint64_t seed, bool tied_embedding, int num_shards,
               int num_threads) {
  SynthOptions options;
  options.out_dir = out_dir;
  options.model = ModelDims{hidden_size, vocab_size, "synth"};
  options.dtype = ValueOrThrow(ParseSafetensorsDtype(dtype));
  options.seed = seed;
  options.tied_embedding = tied_embedding;
  options.num_shards = num_shards;
  options.num_threads = num_threads;
  return SynthReportDict(ValueOrThrow(WithoutGil([&] { return SynthesizeCheckpoint(options); })));
}

py::dict ProgressDict(const ConvertProgress& progress) {
  py::dict out;
  out["units_done"] = progress.units_done;
  out["units_total"] = progress.units_total;
  out["num_devices"] = progress.num_devices;
  out["devices_reused"] = progress.devices_reused;
  out["bytes_written"] = progress.bytes_written;
  return out;
}

py::dict ConvertReportDict(const ConvertReport& report) {
  py::dict out;
  out["manifest_path"] = report.manifest_path;
  out["tensor_name"] = report.tensor_name;
  out["num_devices"] = report.num_devices;
  out["shards_reused"] = report.shards_reused;
  out["shards_written"] = report.shards_written;
  out["bytes_written"] = report.bytes_written;
  out["pad_vocab_cols"] = report.pad_vocab_cols;
  out["seconds"] = report.seconds;
  return out;
}

// The library calls `progress` from its worker threads and is not exception-safe, so a Python
// exception raised by the callback is kept, later calls are skipped, and it is re-raised once
// ConvertCheckpoint has returned (the conversion itself runs to its end).
py::dict Convert(const std::string& checkpoint, const std::string& out_dir, const std::string& mesh,
                 const std::string& device, const std::string& tensor, const std::string& format,
                 bool pad_vocab, int num_threads, const py::object& progress) {
  ConvertOptions options;
  options.checkpoint = checkpoint;
  options.out_dir = out_dir;
  options.mesh = ValueOrThrow(ParseMeshShape(mesh));
  options.device = device;
  options.tensor = tensor;
  options.format = ValueOrThrow(ParseTileFormat(format));
  options.pad_vocab = pad_vocab;
  options.num_threads = num_threads;
  std::optional<py::error_already_set> callback_error;
  if (!progress.is_none()) {
    options.progress = [&progress, &callback_error](const ConvertProgress& state) {
      py::gil_scoped_acquire acquire;
      if (callback_error) return;
      try {
        progress(ProgressDict(state));
      } catch (py::error_already_set& error) {
        callback_error = std::move(error);
      } catch (const std::exception& error) {  // E.g. a cast error: kept the same way.
        PyErr_SetString(PyExc_RuntimeError, error.what());
        callback_error.emplace();
      }
    };
  }
  Result<ConvertReport> report = WithoutGil([&] { return ConvertCheckpoint(options); });
  if (callback_error) throw std::move(*callback_error);
  return ConvertReportDict(ValueOrThrow(std::move(report)));
}

// Device `device_idx`'s slice of a converted weights directory, dequantised with TT's host
// unpacker: float32 [H, V/D].
py::array_t<float> DequantizeDevice(const std::string& weights_dir, int64_t device_idx) {
  const WeightsDir dir = ValueOrThrow(WithoutGil([&] { return WeightsDir::Open(weights_dir); }));
  const ShardGeometry& geometry = dir.manifest().geometry;
  const DeviceShard shard =
      ValueOrThrow(WithoutGil([&] { return dir.MapDevice(device_idx, VerifyLevel::kFull); }));
  std::vector<float> slice = WithoutGil([&] { return DequantizeDeviceSlice(shard); });
  return ToNumpy(std::move(slice), {geometry.hidden_size, geometry.cols()});
}

}  // namespace

void InitConvert(py::module_& m) {
  m.def("synth", &Synth, py::arg("out_dir"), py::arg("hidden_size"), py::arg("vocab_size"),
        py::arg("dtype"), py::arg("seed"), py::arg("tied_embedding"), py::arg("num_shards"),
        py::arg("num_threads"),
        "SynthesizeCheckpoint(): a trained-looking HF checkpoint (config.json + safetensors). "
        "`dtype` is a safetensors spelling: BF16, F16 or F32.");
  m.def("convert", &Convert, py::arg("checkpoint"), py::arg("out_dir"), py::arg("mesh"),
        py::arg("device"), py::arg("tensor"), py::arg("format"), py::arg("pad_vocab"),
        py::arg("num_threads"), py::arg("progress"),
        "ConvertCheckpoint(): HF checkpoint -> per-device shard files + manifest.json. "
        "`progress(dict)` is called as pieces finish.");
  m.def(
      "read_manifest",
      [](const std::string& weights_dir) {
        return WeightsManifestToJson(ValueOrThrow(WeightsDir::Open(weights_dir)).manifest());
      },
      py::arg("weights_dir"), "The validated manifest.json of a weights directory, as JSON text.");
  m.def("dequantize_device", &DequantizeDevice, py::arg("weights_dir"), py::arg("device_idx"),
        "DequantizeDeviceSlice(): device `device_idx`'s weight slice as float32 [H, V/D] "
        "(shard checksums verified).");
}

}  // namespace lmhead::python
