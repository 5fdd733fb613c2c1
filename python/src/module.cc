// SPDX-License-Identifier: Apache-2.0
// The extension module lmhead._lmhead: one init function per area of the C++ API.
#include "bindings.h"

PYBIND11_MODULE(_lmhead, m) {
  m.doc() =
      "lmhead's C++ library (include/lmhead/*.h). Use the `lmhead` package, which wraps this "
      "module for numpy arrays and torch tensors.";
  lmhead::python::InitPlan(m);
  lmhead::python::InitFormats(m);
  lmhead::python::InitConvert(m);
  lmhead::python::InitLmHead(m);
  lmhead::python::InitReference(m);
}
