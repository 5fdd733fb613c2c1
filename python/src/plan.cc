// SPDX-License-Identifier: Apache-2.0
// Bindings of lmhead/plan.h: the planner's JSON (`lmhead plan --json`) and its presets.
#include "lmhead/plan.h"

#include <pybind11/stl.h>

#include <string>
#include <tuple>

#include "bindings.h"
#include "py_util.h"

namespace lmhead::python {
namespace {

using DimsTuple = std::tuple<int64_t, int64_t, std::string>;

DimsTuple ToTuple(const ModelDims& dims) { return {dims.hidden_size, dims.vocab_size, dims.name}; }

std::string PlanJson(int64_t hidden_size, int64_t vocab_size, const std::string& name,
                     const std::string& mesh_text, const std::string& device,
                     const std::string& mode, int64_t seq_len, const std::string& compat,
                     int64_t input_row_idx, int64_t input_num_cores, int64_t output_num_cores) {
  const ModelDims model{hidden_size, vocab_size, name};
  MeshDesc mesh;
  mesh.shape = ValueOrThrow(ParseMeshShape(mesh_text));
  mesh.device = ValueOrThrow(FindDevicePreset(device));
  PlanOptions options;
  options.mode = ValueOrThrow(ParsePlanMode(mode));
  options.compat = ValueOrThrow(ParseCompatMode(compat));
  options.seq_len = seq_len;
  options.input_row_idx = input_row_idx;
  options.input_num_cores = input_num_cores;
  options.output_num_cores = output_num_cores;
  return PlanToJson(ValueOrThrow(Plan(model, mesh, options)));
}

}  // namespace

void InitPlan(py::module_& m) {
  m.def("plan_json", &PlanJson, py::arg("hidden_size"), py::arg("vocab_size"), py::arg("name"),
        py::arg("mesh"), py::arg("device"), py::arg("mode"), py::arg("seq_len"), py::arg("compat"),
        py::arg("input_row_idx"), py::arg("input_num_cores"), py::arg("output_num_cores"),
        "Plan() then PlanToJson(): the text `lmhead plan --json` prints. `mesh` is 'RxC'.");
  m.def(
      "model_preset",
      [](const std::string& name) { return ToTuple(ValueOrThrow(FindModelPreset(name))); },
      py::arg("name"), "FindModelPreset(name) as (hidden_size, vocab_size, name).");
  m.def(
      "load_model_dims",
      [](const std::string& path) { return ToTuple(ValueOrThrow(LoadModelDims(path))); },
      py::arg("config_path"),
      "LoadModelDims(): hidden_size and vocab_size of a HuggingFace config.json (or its "
      "directory), as (hidden_size, vocab_size, name).");
  m.def("model_presets", &ModelPresetNames, "Names FindModelPreset() knows.");
  m.def("device_presets", &DevicePresetNames, "Names FindDevicePreset() knows.");
  m.def("suggest_padded_vocab", &SuggestPaddedVocab, py::arg("vocab_size"), py::arg("num_devices"),
        py::arg("multiple_per_device") = kTileSize,
        "The smallest V' >= vocab_size with V' % (num_devices * multiple_per_device) == 0.");
}

}  // namespace lmhead::python
