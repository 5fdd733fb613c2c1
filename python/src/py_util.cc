// SPDX-License-Identifier: Apache-2.0
// Status -> Python exception, and the zero-copy views of numpy arrays the bindings pass on.
#include "py_util.h"

#include <Python.h>

#include <stdexcept>
#include <string>

namespace lmhead::python {

void ThrowStatus(const Status& status) {
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
      throw py::value_error(status.message());
    case StatusCode::kNotFound:
    case StatusCode::kIOError:
      PyErr_SetString(PyExc_OSError, status.message().c_str());
      throw py::error_already_set();
    default:
      throw std::runtime_error(status.ToString());
  }
}

std::vector<int64_t> DimsOf(const py::array& array) {
  std::vector<int64_t> dims;
  for (py::ssize_t axis = 0; axis < array.ndim(); ++axis) {
    dims.push_back(static_cast<int64_t>(array.shape(axis)));
  }
  return dims;
}

template <typename T>
std::span<const T> ElementsOf(const py::array& array, std::string_view what) {
  if (!HoldsType<T>(array)) {
    throw py::type_error(std::string(what) + " has dtype " +
                         py::str(array.dtype()).cast<std::string>() + "; expected " +
                         py::str(py::dtype::of<T>()).cast<std::string>());
  }
  if (!(array.flags() & py::array::c_style)) {
    throw py::value_error(std::string(what) +
                          " is not C-contiguous; pass numpy.ascontiguousarray(x)");
  }
  return {static_cast<const T*>(array.data()), static_cast<size_t>(array.size())};
}

template std::span<const float> ElementsOf<float>(const py::array&, std::string_view);
template std::span<const uint16_t> ElementsOf<uint16_t>(const py::array&, std::string_view);
template std::span<const uint8_t> ElementsOf<uint8_t>(const py::array&, std::string_view);

}  // namespace lmhead::python
