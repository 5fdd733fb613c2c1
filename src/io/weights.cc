// SPDX-License-Identifier: Apache-2.0
// WeightsDir and DeviceShard: validated, memory-mapped access to converted weights.
#include "lmhead/weights.h"

#include <fmt/format.h>
#include <xxhash.h>

#include <algorithm>
#include <filesystem>

#include "io/file_util.h"
#include "io/mapped_file.h"
#include "io/shard_file.h"

namespace lmhead {
namespace {

namespace fs = std::filesystem;

// manifest.json of a 1024-device mesh is ~400 KB; more is not a manifest.
constexpr uint64_t kMaxManifestBytes = uint64_t{64} << 20;

}  // namespace

struct DeviceShard::Impl {
  MappedFile mapping;
  ShardGeometry geometry;
  int64_t device_idx = 0;
  std::vector<BankTiles> banks;
};

DeviceShard::DeviceShard(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DeviceShard::DeviceShard(DeviceShard&&) noexcept = default;
DeviceShard& DeviceShard::operator=(DeviceShard&&) noexcept = default;
DeviceShard::~DeviceShard() = default;

const ShardGeometry& DeviceShard::geometry() const { return impl_->geometry; }
int64_t DeviceShard::device_idx() const { return impl_->device_idx; }
int64_t DeviceShard::col_offset() const { return impl_->device_idx * impl_->geometry.cols(); }
int64_t DeviceShard::valid_cols() const { return impl_->geometry.ValidCols(impl_->device_idx); }
std::span<const BankTiles> DeviceShard::banks() const { return impl_->banks; }

std::vector<float> DequantizeDeviceSlice(const DeviceShard& shard) {
  const ShardGeometry& g = shard.geometry();
  const int64_t rows = g.hidden_size;
  const int64_t cols = g.cols();
  const size_t tile_bytes = TileBytes(g.format);
  std::vector<float> out(static_cast<size_t>(rows * cols), 0.0f);
  for (const BankTiles& bank : shard.banks()) {
    const int64_t real_tiles = (bank.cols + kTileDim - 1) / kTileDim;
    for (int64_t kt = 0; kt < bank.k_tiles; ++kt) {
      const int valid_rows = static_cast<int>(std::min<int64_t>(kTileDim, rows - kt * kTileDim));
      for (int64_t nt = 0; nt < real_tiles; ++nt) {
        const int valid_cols =
            static_cast<int>(std::min<int64_t>(kTileDim, bank.cols - nt * kTileDim));
        const uint8_t* tile = bank.tiles + static_cast<size_t>(kt * bank.n_tiles + nt) * tile_bytes;
        float* dst = out.data() + kt * kTileDim * cols + bank.col_begin + nt * kTileDim;
        UnpackTileToFp32(g.format, tile, dst, cols, valid_rows, valid_cols);
      }
    }
  }
  return out;
}

Result<WeightsDir> WeightsDir::Open(const std::string& dir) {
  const std::string path = (fs::path(dir) / "manifest.json").string();
  Result<std::string> text = ReadFileToString(path, kMaxManifestBytes);
  if (!text.ok() && text.status().code() == StatusCode::kNotFound) {
    return Status::NotFound(fmt::format(
        "[WeightsDir] {} has no manifest.json: it is not a converted weights directory, or its "
        "conversion did not finish; run lmhead convert --out {}",
        dir, dir));
  }
  if (!text.ok()) return text.status();
  WeightsDir weights;
  weights.dir_ = dir;
  LMHEAD_ASSIGN_OR_RETURN(weights.manifest_, ParseWeightsManifest(*text, path));
  return weights;
}

Status WeightsDir::CheckMatches(const WeightsExpectation& want) const {
  const ShardGeometry& g = manifest_.geometry;
  std::vector<std::string> diffs;
  auto compare = [&](const char* name, auto have, auto expected) {
    if (have != expected) diffs.push_back(fmt::format("{} {} (plan: {})", name, have, expected));
  };
  compare("hidden_size", g.hidden_size, want.hidden_size);
  compare("vocab_size", g.vocab_size, want.vocab_size);
  compare("mesh_rows", g.mesh_rows, want.mesh_rows);
  compare("mesh_cols", g.mesh_cols, want.mesh_cols);
  compare("device", manifest_.device, want.device);
  compare("format", std::string(ToString(g.format)), std::string(ToString(want.format)));
  compare("num_banks", g.num_banks, want.num_banks);
  compare("shard_w", g.shard_w, want.shard_w);
  if (diffs.empty()) return Status::Ok();
  return Status::InvalidArgument(fmt::format(
      "[WeightsDir] {} does not match the plan: {}; re-run lmhead convert --checkpoint {} --mesh "
      "{}x{} --device {} --format {} --out {}",
      dir_, fmt::join(diffs, ", "), manifest_.source_checkpoint, want.mesh_rows, want.mesh_cols,
      want.device, ToString(want.format), dir_));
}

Result<DeviceShard> WeightsDir::MapDevice(int64_t device_idx, VerifyLevel verify) const {
  const ShardGeometry& g = manifest_.geometry;
  if (device_idx < 0 || device_idx >= g.num_devices()) {
    return Status::InvalidArgument(fmt::format("[WeightsDir] device {} is not in [0, {}) for {}",
                                               device_idx, g.num_devices(), dir_));
  }
  const WeightsManifest::Shard& entry = manifest_.shards[static_cast<size_t>(device_idx)];
  const std::string path = (fs::path(dir_) / entry.file).string();
  auto impl = std::make_unique<DeviceShard::Impl>();
  LMHEAD_ASSIGN_OR_RETURN(impl->mapping, MappedFile::Open(path));
  const std::span<const std::byte> file = impl->mapping.bytes();
  if (file.size() != entry.bytes) {
    return Status::Corruption(fmt::format(
        "[WeightsDir] {} has {} bytes but manifest.json says {}; it is truncated or replaced, "
        "re-run lmhead convert",
        path, file.size(), entry.bytes));
  }
  LMHEAD_ASSIGN_OR_RETURN(const ShardHeader header, DecodeShardHeader(file, path));
  Result<ShardSourceDtype> dtype = ShardSourceDtypeFromName(manifest_.source_dtype);
  if (!dtype.ok()) return Status::Corruption(dtype.status().message());
  const ShardHeader expected = MakeShardHeader(g, device_idx, *dtype, manifest_.source_xxh3);
  LMHEAD_RETURN_IF_ERROR(CheckShardHeaderMatches(header, expected, path));
  if (verify == VerifyLevel::kFull) LMHEAD_RETURN_IF_ERROR(VerifyShardBlobs(header, file, path));
  impl->geometry = g;
  impl->device_idx = device_idx;
  for (size_t bank_idx = 0; bank_idx < header.banks.size(); ++bank_idx) {
    const ShardBankEntry& bank = header.banks[bank_idx];
    BankTiles tiles;
    tiles.tiles = reinterpret_cast<const uint8_t*>(file.data() + bank.offset);
    tiles.k_tiles = g.k_tiles();
    tiles.n_tiles = g.bank_n_tiles();
    tiles.col_begin = static_cast<int64_t>(bank_idx) * g.shard_w;
    tiles.cols = bank.cols;
    tiles.valid_cols = bank.valid_cols;
    tiles.bytes = bank.bytes;
    impl->banks.push_back(tiles);
  }
  return DeviceShard(std::move(impl));
}

Status WeightsDir::VerifyShard(int64_t device_idx) const {
  LMHEAD_ASSIGN_OR_RETURN(DeviceShard shard, MapDevice(device_idx, VerifyLevel::kFull));
  const WeightsManifest::Shard& entry = manifest_.shards[static_cast<size_t>(device_idx)];
  const std::span<const std::byte> file = shard.impl_->mapping.bytes();
  const uint64_t actual = XXH3_64bits(file.data(), file.size());
  ReleaseMappedPages(file.data(), file.size());
  if (actual != entry.xxh3) {
    return Status::Corruption(fmt::format(
        "[WeightsDir] {}: file XXH3 is {:016x} but manifest.json says {:016x}; the shard was "
        "modified or replaced, re-run lmhead convert",
        shard.impl_->mapping.path(), actual, entry.xxh3));
  }
  return Status::Ok();
}

}  // namespace lmhead
