// SPDX-License-Identifier: Apache-2.0
// Bindings of lmhead/reference.h: the unquantised golden logits and TT's comp_pcc.
#include "lmhead/reference.h"

#include <string>
#include <vector>

#include "bindings.h"
#include "py_util.h"

namespace lmhead::python {
namespace {

// x: C-contiguous float32 [rows, H]. Returns float32 [rows, V].
py::array_t<float> UnquantizedLogitsOf(const std::string& checkpoint, const std::string& tensor,
                                       const py::array& x, int num_threads) {
  if (x.ndim() != 2) {
    throw py::value_error("x has rank " + std::to_string(x.ndim()) + "; pass [rows, hidden_size]");
  }
  const std::span<const float> values = ElementsOf<float>(x, "x");
  const auto rows = static_cast<int64_t>(x.shape(0));
  std::vector<float> logits = ValueOrThrow(
      WithoutGil([&] { return UnquantizedLogits(checkpoint, tensor, values, rows, num_threads); }));
  const auto vocab = static_cast<py::ssize_t>(rows > 0 ? logits.size() / rows : 0);
  return ToNumpy(std::move(logits), {rows, vocab});
}

double CompPccOf(const py::array& golden, const py::array& calculated, bool golden_is_bf16) {
  const std::span<const float> g = ElementsOf<float>(golden, "golden");
  const std::span<const float> c = ElementsOf<float>(calculated, "calculated");
  if (g.size() != c.size() || g.empty()) {
    ThrowStatus(Status::InvalidArgument("[comp_pcc] golden has " + std::to_string(g.size()) +
                                        " elements and calculated " + std::to_string(c.size()) +
                                        "; pass two non-empty tensors of the same size"));
  }
  return WithoutGil([&] { return CompPcc(g, c, golden_is_bf16); });
}

}  // namespace

void InitReference(py::module_& m) {
  m.def("unquantized_logits", &UnquantizedLogitsOf, py::arg("checkpoint"), py::arg("tensor"),
        py::arg("x"), py::arg("num_threads"),
        "UnquantizedLogits(): x [rows, H] (float32) times the checkpoint's head [V, H] in "
        "fp32, like torch's nn.Linear(H, V, bias=False): the golden of TT's LM-head test.");
  m.def("comp_pcc", &CompPccOf, py::arg("golden"), py::arg("calculated"), py::arg("golden_is_bf16"),
        "CompPcc(): TT's comp_pcc value on two float32 arrays of the same size.");
}

}  // namespace lmhead::python
