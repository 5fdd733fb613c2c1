// SPDX-License-Identifier: Apache-2.0
// Device presets (spec §2) and parsing of "RxC" mesh shapes and "XxY" core grids.
#include <fmt/format.h>

#include <charconv>
#include <string>
#include <vector>

#include "lmhead/plan.h"
#include "planner/limits.h"

namespace lmhead {
namespace {

// worker_l1_size from the soc descriptors (spec §2).
constexpr int64_t kWormholeL1Bytes = 1'499'136;
constexpr int64_t kBlackholeL1Bytes = 1'572'864;
// dram_grid_size().x: Wormhole has 6 GDDR6 channels x 2 views, Blackhole P150 8 channels.
constexpr int64_t kWormholeDramBanks = 12;
constexpr int64_t kBlackholeDramBanks = 8;

const std::vector<DeviceSpec>& Presets() {
  static const std::vector<DeviceSpec> kPresets = {
      {"wormhole_b0-galaxy",
       "wormhole_b0",
       {8, 8},
       kWormholeDramBanks,
       kWormholeL1Bytes,
       "Wormhole B0 Galaxy (TG), tensix dispatch on the ROW axis (DeepSeek conftest default): "
       "core grid (0,0)-(7,7)"},
      {"wormhole_b0-galaxy-col",
       "wormhole_b0",
       {7, 10},
       kWormholeDramBanks,
       kWormholeL1Bytes,
       "Wormhole B0 Galaxy with dispatch on the COL axis (test_ds_lm_head.py): 7x10 grid, "
       "inferred from Llama-galaxy sub-core grids, not verified"},
      {"wormhole_b0-galaxy-eth",
       "wormhole_b0",
       {8, 10},
       kWormholeDramBanks,
       kWormholeL1Bytes,
       "Wormhole B0 Galaxy with ETH dispatch: core grid (0,0)-(7,9)"},
      {"wormhole_b0-n300",
       "wormhole_b0",
       {8, 7},
       kWormholeDramBanks,
       kWormholeL1Bytes,
       "Wormhole B0 N300 / T3K (nebula_x2): core grid (0,0)-(7,6)"},
      {"wormhole_b0-n150",
       "wormhole_b0",
       {8, 8},
       kWormholeDramBanks,
       kWormholeL1Bytes,
       "Wormhole B0 N150 (nebula_x1): core grid (0,0)-(7,7)"},
      {"blackhole-p150",
       "blackhole",
       {13, 10},
       kBlackholeDramBanks,
       kBlackholeL1Bytes,
       "Blackhole P150, unharvested, COL dispatch: core grid (0,0)-(12,9)"},
      {"blackhole-p150-harvested",
       "blackhole",
       {11, 10},
       kBlackholeDramBanks,
       kBlackholeL1Bytes,
       "Blackhole, 2x harvested (P100a, or P150 after the 2026 firmware cut to 120 cores): "
       "core grid (0,0)-(10,9)"},
  };
  return kPresets;
}

// Parses "<a>x<b>" with both parts decimal integers in [1, max_dim].
Result<std::array<int64_t, 2>> ParseDimPair(std::string_view text, std::string_view function,
                                            std::string_view what, std::string_view example,
                                            int64_t max_dim) {
  const size_t sep = text.find_first_of("xX");
  std::array<int64_t, 2> dims{};
  bool ok = sep != std::string_view::npos && sep > 0 && sep + 1 < text.size();
  for (int part_idx = 0; ok && part_idx < 2; ++part_idx) {
    const std::string_view part = part_idx == 0 ? text.substr(0, sep) : text.substr(sep + 1);
    const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), dims[part_idx]);
    ok = ec == std::errc() && end == part.data() + part.size();
  }
  if (!ok) {
    return Status::InvalidArgument(
        fmt::format("[{}] {} '{}' is not of the form <int>x<int>; write it like {}", function, what,
                    text, example));
  }
  for (int64_t dim : dims) {
    if (dim < 1 || dim > max_dim) {
      return Status::InvalidArgument(
          fmt::format("[{}] {} '{}' has a dimension {} outside [1, {}]; write it like {}", function,
                      what, text, dim, max_dim, example));
    }
  }
  return dims;
}

}  // namespace

Result<DeviceSpec> FindDevicePreset(std::string_view name) {
  for (const DeviceSpec& spec : Presets()) {
    if (spec.name == name) return spec;
  }
  return Status::InvalidArgument(
      fmt::format("[FindDevicePreset] unknown device '{}'; use one of: {}", name,
                  fmt::join(DevicePresetNames(), ", ")));
}

std::vector<std::string> DevicePresetNames() {
  std::vector<std::string> names;
  for (const DeviceSpec& spec : Presets()) names.push_back(spec.name);
  return names;
}

Result<MeshShape> ParseMeshShape(std::string_view text) {
  LMHEAD_ASSIGN_OR_RETURN(
      auto dims, ParseDimPair(text, "ParseMeshShape", "mesh", "4x8 (rows x cols)", kMaxMeshDim));
  if (dims[0] * dims[1] > kMaxMeshDevices) {
    return Status::InvalidArgument(fmt::format(
        "[ParseMeshShape] mesh '{}' has {} devices; lmhead plans at most {} (a Galaxy is 4x8)",
        text, dims[0] * dims[1], kMaxMeshDevices));
  }
  return MeshShape{dims[0], dims[1]};
}

Result<CoreCoord> ParseCoreGrid(std::string_view text) {
  LMHEAD_ASSIGN_OR_RETURN(auto dims, ParseDimPair(text, "ParseCoreGrid", "core grid",
                                                  "8x8 (x columns x y rows)", kMaxCoreGridDim));
  return CoreCoord{dims[0], dims[1]};
}

}  // namespace lmhead
