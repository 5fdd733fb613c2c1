// SPDX-License-Identifier: Apache-2.0
// Converted weights: shard geometry, manifest.json, and the mmap loader the engine uses.
//
// Design goals:
//  - The engine maps one device's shard file and gets, per DRAM bank, a
//    pointer to Kt x bank_n_tiles tiles in TT's width-sharded page order,
//    without copying (docs/shard_format.md).
//  - Everything is validated before a pointer is handed out: the manifest
//    against the plan the caller expects, each shard header against the
//    manifest, and (on request) every blob against its checksum. Bad files
//    give Status::Corruption naming the file, offset and values.
// Non-goals: writing shards (lmhead/convert.h) or choosing a layout (the
// planner); this header only reads what they decided.
#ifndef LMHEAD_WEIGHTS_H_
#define LMHEAD_WEIGHTS_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lmhead/formats.h"
#include "lmhead/status.h"

namespace lmhead {

// The layout of every shard of one conversion. Plain data; the converter
// fills it from the plan's WeightPlan, readers from a shard header.
struct ShardGeometry {
  TileFormat format = TileFormat::kBfp4b;
  int64_t hidden_size = 0;       // H: rows of each device slice.
  int64_t vocab_size = 0;        // V after --pad-vocab; a multiple of num_devices.
  int64_t valid_vocab_size = 0;  // The checkpoint's V; columns above are zero.
  int64_t mesh_rows = 1;
  int64_t mesh_cols = 1;
  int64_t num_banks = 1;  // DRAM banks per device.
  int64_t shard_w = 0;    // Columns per bank: roundup(divup(V/D, banks), 32).

  int64_t num_devices() const { return mesh_rows * mesh_cols; }
  int64_t cols() const { return vocab_size / num_devices(); }  // V/D.
  int64_t k_tiles() const { return (hidden_size + kTileDim - 1) / kTileDim; }
  int64_t n_tiles() const { return (cols() + kTileDim - 1) / kTileDim; }
  int64_t bank_n_tiles() const { return shard_w / kTileDim; }
  uint64_t bank_bytes() const;
  // Logical columns of the device slice inside bank `bank_idx`.
  int64_t BankCols(int64_t bank_idx) const;
  // Columns of device `device_idx` below valid_vocab_size, in total and per bank.
  int64_t ValidCols(int64_t device_idx) const;
  int64_t BankValidCols(int64_t device_idx, int64_t bank_idx) const;
};

// OK when the geometry is self-consistent (positive dims, D divides V,
// shard_w as the spec formula gives, <= 124 banks); InvalidArgument otherwise.
Status ValidateShardGeometry(const ShardGeometry& geometry);

// What manifest.json says (docs/shard_format.md §3).
struct WeightsManifest {
  struct SourceFile {
    std::string name;
    uint64_t bytes = 0;
  };
  struct Shard {
    std::string file;
    int64_t device_idx = 0;
    int64_t mesh_row = 0;
    int64_t mesh_col = 0;
    uint64_t bytes = 0;
    uint64_t xxh3 = 0;  // Of the whole file.
    int64_t col_offset = 0;
    int64_t cols = 0;
    int64_t valid_cols = 0;
    std::vector<int64_t> bank_cols;
  };
  int64_t format_version = 1;
  ShardGeometry geometry;
  std::string device;     // Device preset name, e.g. "wormhole_b0-galaxy".
  std::string plan_json;  // The planner's JSON the shards were made for.
  std::string source_checkpoint;
  std::string source_tensor;
  std::string source_dtype;  // "BF16", "F16" or "F32".
  std::vector<int64_t> source_shape;
  uint64_t source_xxh3 = 0;  // Of the checkpoint tensor's bytes.
  std::vector<SourceFile> source_files;
  std::vector<Shard> shards;  // One per device, in device order.
};

// Parses and validates manifest text; Corruption names `what` and the field.
Result<WeightsManifest> ParseWeightsManifest(std::string_view text, std::string_view what);
// Pretty-printed JSON; ParseWeightsManifest(WeightsManifestToJson(m)) == m.
std::string WeightsManifestToJson(const WeightsManifest& manifest);

// The shard file name of a device: "device_007.shard".
std::string ShardFileName(int64_t device_idx);

// What the caller's plan says the weights must be. Fill it from the
// LmHeadPlan: model dims, mesh shape, device name, weights.num_dram_banks and
// weights.shard_width, and the tile format the kernels expect.
struct WeightsExpectation {
  int64_t hidden_size = 0;
  int64_t vocab_size = 0;  // As planned (after any padding).
  int64_t mesh_rows = 1;
  int64_t mesh_cols = 1;
  std::string device;
  TileFormat format = TileFormat::kBfp4b;
  int64_t num_banks = 0;
  int64_t shard_w = 0;
};

// One bank of a mapped shard: Kt x bank_n_tiles tiles in row-major tile
// order; tile (kt, nt) starts at tiles + (kt * n_tiles + nt) * tile_bytes.
struct BankTiles {
  const uint8_t* tiles = nullptr;  // 4096-byte aligned.
  int64_t k_tiles = 0;
  int64_t n_tiles = 0;     // Tile columns stored (shard_w / 32), padding included.
  int64_t col_begin = 0;   // First column of the device slice held here.
  int64_t cols = 0;        // Logical columns here; the first divup(cols, 32) tiles are real.
  int64_t valid_cols = 0;  // Of those, columns below valid_vocab_size.
  size_t bytes = 0;
};

// How much a loader checks before returning a mapping.
enum class VerifyLevel {
  kHeader,  // Header hash and layout (fast: reads one page).
  kFull,    // Plus every blob's XXH3 (reads the whole file).
};

// One device's shard, mapped read-only. Move-only; the views live as long as
// the object. Thread-safe: immutable after construction.
class DeviceShard {
 public:
  DeviceShard(DeviceShard&&) noexcept;
  DeviceShard& operator=(DeviceShard&&) noexcept;
  ~DeviceShard();

  const ShardGeometry& geometry() const;
  int64_t device_idx() const;
  int64_t col_offset() const;  // First vocabulary column: device_idx * V/D.
  int64_t valid_cols() const;
  std::span<const BankTiles> banks() const;

 private:
  friend class WeightsDir;
  struct Impl;
  explicit DeviceShard(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Dequantises a device's slice to float32 [H, V/D] (row-major, padding
// dropped, vocabulary padding included as zeros) with TT's host unpacker.
std::vector<float> DequantizeDeviceSlice(const DeviceShard& shard);

// A converted weights directory (manifest.json + shard files).
// Thread-safe: const methods may be called concurrently.
class WeightsDir {
 public:
  // Reads and validates manifest.json. NotFound when it is missing (an
  // unfinished or absent conversion), Corruption when it is malformed.
  static Result<WeightsDir> Open(const std::string& dir);

  const std::string& dir() const { return dir_; }
  const WeightsManifest& manifest() const { return manifest_; }

  // InvalidArgument naming every field that differs from `expected`, with
  // the convert command that would produce matching weights.
  Status CheckMatches(const WeightsExpectation& expected) const;
  // Maps device `device_idx`'s shard after checking its header against the
  // manifest (and its blobs, with kFull).
  Result<DeviceShard> MapDevice(int64_t device_idx, VerifyLevel verify) const;
  // Checks shard `device_idx`: size and whole-file XXH3 against the manifest,
  // then header and blobs. Corruption names the file and what differs.
  Status VerifyShard(int64_t device_idx) const;

 private:
  std::string dir_;
  WeightsManifest manifest_;
};

}  // namespace lmhead

#endif  // LMHEAD_WEIGHTS_H_
