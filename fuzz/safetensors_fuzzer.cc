// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: ParseSafetensorsHeader on arbitrary file bytes.
#include <cstddef>
#include <cstdint>
#include <span>

#include "lmhead/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const std::byte> file(reinterpret_cast<const std::byte*>(data), size);
  lmhead::Result<lmhead::SafetensorsHeader> header =
      lmhead::ParseSafetensorsHeader(file, size, "fuzz");
  if (!header.ok()) return 0;
  // What the reader promises once it says OK: every tensor lies inside the data
  // region, with as many bytes as its shape and dtype need.
  if (header->data_offset + header->data_bytes != size) __builtin_trap();
  for (const lmhead::SafetensorsTensorInfo& info : header->tensors) {
    if (info.begin > info.end || info.end > header->data_bytes) __builtin_trap();
    uint64_t elements = 1;
    for (int64_t extent : info.shape) elements *= static_cast<uint64_t>(extent);
    if (elements * static_cast<uint64_t>(lmhead::DtypeBytes(info.dtype)) != info.end - info.begin) {
      __builtin_trap();
    }
  }
  return 0;
}
