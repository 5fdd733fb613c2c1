// SPDX-License-Identifier: Apache-2.0
// NaN/Inf policy helpers: find the first non-finite value and name its coordinates.
#include <fmt/format.h>

#include <cmath>
#include <string>
#include <vector>

#include "base/check.h"
#include "lmhead/formats.h"

namespace lmhead {
namespace {

// Exponent field all ones means Inf or NaN, in fp32 and bf16 alike.
bool IsNonFiniteBf16(uint16_t value) { return (value & 0x7F80) == 0x7F80; }

// "[0, 3, 17]": the row-major coordinates of flat index `index` in `dims`.
std::string Coordinates(int64_t index, std::span<const int64_t> dims) {
  std::vector<int64_t> coords(dims.size());
  for (size_t dim_idx = dims.size(); dim_idx-- > 0;) {
    coords[dim_idx] = index % dims[dim_idx];
    index /= dims[dim_idx];
  }
  return fmt::format("[{}]", fmt::join(coords, ", "));
}

Status NonFiniteError(const char* function, int64_t index, std::span<const int64_t> dims,
                      float value) {
  return Status::InvalidArgument(fmt::format(
      "[{}] element {} of tensor [{}] is {} (flat index {}); remove NaN/Inf from the input, "
      "or pack it unchecked as TT does (a NaN/Inf zeroes the rest of its 16-value group)",
      function, Coordinates(index, dims), fmt::join(dims, ", "), value, index));
}

void CheckCount(size_t count, std::span<const int64_t> dims) {
  int64_t product = 1;
  for (int64_t dim : dims) product *= dim;
  LMHEAD_CHECK(product == static_cast<int64_t>(count), "{} values for {} elements", count, product);
}

}  // namespace

int64_t FindFirstNonFinite(std::span<const float> values) {
  for (size_t idx = 0; idx < values.size(); ++idx) {
    if (!std::isfinite(values[idx])) return static_cast<int64_t>(idx);
  }
  return -1;
}

int64_t FindFirstNonFiniteBf16(std::span<const uint16_t> values) {
  for (size_t idx = 0; idx < values.size(); ++idx) {
    if (IsNonFiniteBf16(values[idx])) return static_cast<int64_t>(idx);
  }
  return -1;
}

Status CheckFinite(std::span<const float> values, std::span<const int64_t> dims) {
  CheckCount(values.size(), dims);
  const int64_t index = FindFirstNonFinite(values);
  if (index < 0) return Status::Ok();
  return NonFiniteError("CheckFinite", index, dims, values[index]);
}

Status CheckFiniteBf16(std::span<const uint16_t> values, std::span<const int64_t> dims) {
  CheckCount(values.size(), dims);
  const int64_t index = FindFirstNonFiniteBf16(values);
  if (index < 0) return Status::Ok();
  return NonFiniteError("CheckFiniteBf16", index, dims, Bf16ToFp32(values[index]));
}

}  // namespace lmhead
