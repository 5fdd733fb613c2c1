// SPDX-License-Identifier: Apache-2.0
// NumPy .npy arrays in and out (format versions 1.0, 2.0 and 3.0; little-endian; C order).
//
// The reader accepts what numpy.save writes for the dtypes below and returns a
// clear Status for everything else: Fortran order, big-endian data, other dtypes
// (NotSupported), a malformed header or truncated data (Corruption).
// The writer emits version 1.0 (2.0 when the header exceeds 64 KiB), and writes
// files atomically: a temporary file in the same directory, then a rename.
#ifndef LMHEAD_NPY_H_
#define LMHEAD_NPY_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lmhead/status.h"

namespace lmhead {

enum class NpyDtype {
  kFloat32,  // '<f4'
  kFloat64,  // '<f8'
  kUint8,    // '|u1'
  kUint16,   // '<u2' (also bf16 bit patterns)
  kUint32,   // '<u4'
  kUint64,   // '<u8'
  kInt8,     // '|i1'
  kInt16,    // '<i2'
  kInt32,    // '<i4'
  kInt64,    // '<i8'
};

// The numpy descr string, e.g. "<f4".
const char* ToString(NpyDtype dtype);
size_t NpyDtypeBytes(NpyDtype dtype);

// The dtype that stores C++ type T, for NpyArray::Values<T>().
template <typename T>
constexpr NpyDtype NpyDtypeOf();
template <>
constexpr NpyDtype NpyDtypeOf<float>() {
  return NpyDtype::kFloat32;
}
template <>
constexpr NpyDtype NpyDtypeOf<double>() {
  return NpyDtype::kFloat64;
}
template <>
constexpr NpyDtype NpyDtypeOf<uint8_t>() {
  return NpyDtype::kUint8;
}
template <>
constexpr NpyDtype NpyDtypeOf<uint16_t>() {
  return NpyDtype::kUint16;
}
template <>
constexpr NpyDtype NpyDtypeOf<uint32_t>() {
  return NpyDtype::kUint32;
}
template <>
constexpr NpyDtype NpyDtypeOf<uint64_t>() {
  return NpyDtype::kUint64;
}
template <>
constexpr NpyDtype NpyDtypeOf<int8_t>() {
  return NpyDtype::kInt8;
}
template <>
constexpr NpyDtype NpyDtypeOf<int16_t>() {
  return NpyDtype::kInt16;
}
template <>
constexpr NpyDtype NpyDtypeOf<int32_t>() {
  return NpyDtype::kInt32;
}
template <>
constexpr NpyDtype NpyDtypeOf<int64_t>() {
  return NpyDtype::kInt64;
}

// An array in memory: C-order little-endian element bytes plus dtype and shape.
// A rank-0 array has an empty shape and one element.
struct NpyArray {
  NpyDtype dtype = NpyDtype::kFloat32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> data;  // NumElements() * NpyDtypeBytes(dtype) bytes.

  int64_t NumElements() const;

  // The elements as T. Precondition (checked, abort): dtype == NpyDtypeOf<T>().
  template <typename T>
  std::span<const T> Values() const {
    CheckDtype(NpyDtypeOf<T>());
    return {reinterpret_cast<const T*>(data.data()), data.size() / sizeof(T)};
  }

 private:
  void CheckDtype(NpyDtype expected) const;
};

// Parses a whole .npy file image; `name` (a path) is used in error messages.
Result<NpyArray> ParseNpy(std::span<const uint8_t> file, std::string_view name);
// Reads and parses `path`.
Result<NpyArray> ReadNpy(const std::string& path);

// The .npy file image of an array. InvalidArgument if data.size() does not
// match the shape and dtype or a dimension is negative.
Result<std::vector<uint8_t>> EncodeNpy(NpyDtype dtype, std::span<const int64_t> shape,
                                       std::span<const uint8_t> data);
// Encodes and writes atomically to `path`.
Status WriteNpy(const std::string& path, NpyDtype dtype, std::span<const int64_t> shape,
                std::span<const uint8_t> data);

// Typed convenience: WriteNpy(path, NpyDtypeOf<T>(), shape, bytes of values).
template <typename T>
Status WriteNpy(const std::string& path, std::span<const int64_t> shape,
                std::span<const T> values) {
  return WriteNpy(path, NpyDtypeOf<T>(), shape,
                  {reinterpret_cast<const uint8_t*>(values.data()), values.size_bytes()});
}

// Whole-file helpers used by the readers and writers above.
// NotFound if `path` does not exist, IOError for any other failure.
Result<std::vector<uint8_t>> ReadFileBytes(const std::string& path);
// Writes `bytes` to a temporary file next to `path`, flushes it and renames it
// over `path`; on any failure the temporary is removed and `path` is untouched.
Status WriteFileAtomic(const std::string& path, std::span<const uint8_t> bytes);

}  // namespace lmhead

#endif  // LMHEAD_NPY_H_
