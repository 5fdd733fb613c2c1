// SPDX-License-Identifier: Apache-2.0
// LayoutSafetensors: the header and data offsets of a safetensors file to write.
#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <set>

#include "lmhead/safetensors.h"

namespace lmhead {

Result<SafetensorsLayout> LayoutSafetensors(std::span<const SafetensorsTensorSpec> tensors,
                                            const std::map<std::string, std::string>& metadata) {
  // ordered_json keeps the tensors in the caller's order, as HF's writer does.
  nlohmann::ordered_json json = nlohmann::ordered_json::object();
  if (!metadata.empty()) json["__metadata__"] = metadata;
  std::set<std::string> seen;
  std::vector<uint64_t> begins;
  uint64_t offset = 0;
  for (const SafetensorsTensorSpec& tensor : tensors) {
    if (tensor.name == "__metadata__" || !seen.insert(tensor.name).second) {
      return Status::InvalidArgument(
          fmt::format("[LayoutSafetensors] tensor name '{}' is reserved or repeated", tensor.name));
    }
    uint64_t bytes = static_cast<uint64_t>(DtypeBytes(tensor.dtype));
    for (int64_t extent : tensor.shape) {
      if (extent < 0 || __builtin_mul_overflow(bytes, static_cast<uint64_t>(extent), &bytes)) {
        return Status::InvalidArgument(fmt::format(
            "[LayoutSafetensors] tensor '{}' has a negative or overflowing shape", tensor.name));
      }
    }
    json[tensor.name] = {{"dtype", ToString(tensor.dtype)},
                         {"shape", tensor.shape},
                         {"data_offsets", {offset, offset + bytes}}};
    begins.push_back(offset);
    offset += bytes;
  }
  std::string text = json.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  // Pad with spaces so the data region starts 8-aligned, like HF's writer.
  text.append((8 - text.size() % 8) % 8, ' ');
  SafetensorsLayout layout;
  const uint64_t header_len = text.size();
  for (int byte_idx = 0; byte_idx < 8; ++byte_idx) {
    layout.header_bytes.push_back(static_cast<char>((header_len >> (8 * byte_idx)) & 0xFF));
  }
  layout.header_bytes += text;
  for (uint64_t begin : begins) layout.file_offsets.push_back(layout.header_bytes.size() + begin);
  layout.file_bytes = layout.header_bytes.size() + offset;
  return layout;
}

}  // namespace lmhead
