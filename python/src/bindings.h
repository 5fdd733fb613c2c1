// SPDX-License-Identifier: Apache-2.0
// The init functions module.cc calls, one per .cc file (one per area of include/lmhead).
#ifndef LMHEAD_PYTHON_BINDINGS_H_
#define LMHEAD_PYTHON_BINDINGS_H_

#include <pybind11/pybind11.h>

namespace lmhead::python {

void InitPlan(pybind11::module_& m);       // plan.h: Plan(), presets, PlanToJson.
void InitFormats(pybind11::module_& m);    // formats.h: tile packing and unpacking.
void InitConvert(pybind11::module_& m);    // convert.h, weights.h: synth, convert, dequantize.
void InitLmHead(pybind11::module_& m);     // lm_head.h: LmHead::Open/Decode/Prefill.
void InitReference(pybind11::module_& m);  // reference.h: unquantised logits, comp_pcc.

}  // namespace lmhead::python

#endif  // LMHEAD_PYTHON_BINDINGS_H_
