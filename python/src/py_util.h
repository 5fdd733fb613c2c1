// SPDX-License-Identifier: Apache-2.0
// What every binding shares: Status -> Python exception (the one place), GIL release, arrays.
#ifndef LMHEAD_PYTHON_PY_UTIL_H_
#define LMHEAD_PYTHON_PY_UTIL_H_

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "lmhead/status.h"

namespace lmhead::python {

namespace py = pybind11;

// InvalidArgument -> ValueError; NotFound and IOError -> OSError; every other code ->
// RuntimeError (its message then starts with the code name, e.g. "Corruption: ...").
// Call with the GIL held.
[[noreturn]] void ThrowStatus(const Status& status);

inline void ThrowIfError(const Status& status) {
  if (!status.ok()) ThrowStatus(status);
}

template <typename T>
T ValueOrThrow(Result<T> result) {
  if (!result.ok()) ThrowStatus(result.status());
  return std::move(result).value();
}

// Runs `fn` with the GIL released: library calls never touch Python objects, so other Python
// threads run meanwhile. The caller converts the result (and any error) after reacquiring it.
template <typename Fn>
auto WithoutGil(Fn&& fn) {
  py::gil_scoped_release release;
  return fn();
}

// A numpy array of `shape` that takes ownership of `values` (no copy).
template <typename T, typename Allocator>
py::array_t<T> ToNumpy(std::vector<T, Allocator>&& values, std::vector<py::ssize_t> shape) {
  using Vector = std::vector<T, Allocator>;
  auto* owned = new Vector(std::move(values));
  py::capsule owner(owned, [](void* p) { delete static_cast<Vector*>(p); });
  return py::array_t<T>(std::move(shape), owned->data(), owner);
}

// The dims of a numpy array, as the library's shapes take them.
std::vector<int64_t> DimsOf(const py::array& array);

// The elements of a C-contiguous numpy array of dtype T, without copying. TypeError for another
// dtype, ValueError for a non-contiguous array; `what` names the argument in both messages.
template <typename T>
std::span<const T> ElementsOf(const py::array& array, std::string_view what);

// True when `array` holds T (numpy's equivalence: '<f4' and 'float32' are the same).
template <typename T>
bool HoldsType(const py::array& array) {
  return py::isinstance<py::array_t<T>>(array);
}

}  // namespace lmhead::python

#endif  // LMHEAD_PYTHON_PY_UTIL_H_
