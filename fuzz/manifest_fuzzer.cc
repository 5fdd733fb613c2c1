// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: ParseWeightsManifest on arbitrary text, and its round trip.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "lmhead/weights.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  lmhead::Result<lmhead::WeightsManifest> manifest = lmhead::ParseWeightsManifest(text, "fuzz");
  if (!manifest.ok()) return 0;
  // An accepted manifest writes out as JSON that parses back to the same JSON.
  const std::string json = lmhead::WeightsManifestToJson(*manifest);
  lmhead::Result<lmhead::WeightsManifest> again = lmhead::ParseWeightsManifest(json, "fuzz");
  if (!again.ok() || lmhead::WeightsManifestToJson(*again) != json) __builtin_trap();
  return 0;
}
