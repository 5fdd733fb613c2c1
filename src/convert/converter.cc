// SPDX-License-Identifier: Apache-2.0
// ConvertCheckpoint: streams the head into per-device shard files, reusing valid ones.
#include <fmt/format.h>
#include <xxhash.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>

#include "convert/bank_packer.h"
#include "convert/convert_input.h"
#include "convert/parallel.h"
#include "io/file_util.h"
#include "io/mapped_file.h"
#include "io/shard_file.h"
#include "lmhead/convert.h"

namespace lmhead {
namespace {

namespace fs = std::filesystem;

// Source bytes hashed between page releases: large enough for full-speed
// XXH3, small enough that the hash pass adds little to peak RSS.
constexpr uint64_t kHashChunkBytes = uint64_t{64} << 20;

struct DeviceState {
  ShardHeader header;  // Expected layout; bank hashes filled in as banks finish.
  bool reused = false;
  uint64_t file_xxh3 = 0;
  std::mutex mutex;              // Guards the lazy creation of `file`.
  std::optional<TempFile> file;  // Rebuilt shards, until committed.
  std::atomic<int64_t> banks_left{0};
};

struct Progress {
  std::mutex mutex;
  ConvertProgress state;
  const ConvertProgressFn* callback = nullptr;
  void Report(int64_t units, uint64_t bytes) {
    std::lock_guard<std::mutex> lock(mutex);
    state.units_done += units;
    state.bytes_written += bytes;
    if (*callback) (*callback)(state);
  }
};

uint64_t HashSource(const HeadSource& source) {
  const uint64_t total = static_cast<uint64_t>(source.rows * source.cols) *
                         static_cast<uint64_t>(DtypeBytes(source.dtype));
  XXH3_state_t* state = XXH3_createState();
  XXH3_64bits_reset(state);
  for (uint64_t offset = 0; offset < total; offset += kHashChunkBytes) {
    const uint64_t bytes = std::min(kHashChunkBytes, total - offset);
    XXH3_64bits_update(state, source.data + offset, bytes);
    ReleaseMappedPages(source.data + offset, bytes);
  }
  const uint64_t hash = XXH3_64bits_digest(state);
  XXH3_freeState(state);
  return hash;
}

// True (and the file's XXH3) when `path` is a complete shard with exactly the
// expected layout and source and intact blobs.
bool ExistingShardIsValid(const std::string& path, const ShardHeader& expected, uint64_t* xxh3) {
  Result<MappedFile> mapping = MappedFile::Open(path);
  if (!mapping.ok()) return false;
  const std::span<const std::byte> file = mapping->bytes();
  Result<ShardHeader> header = DecodeShardHeader(file, path);
  bool valid = header.ok() && CheckShardHeaderMatches(*header, expected, path).ok() &&
               VerifyShardBlobs(*header, file, path).ok();
  if (valid) *xxh3 = XXH3_64bits(file.data(), file.size());
  ReleaseMappedPages(file.data(), file.size());
  return valid;
}

Status FinishDevice(DeviceState* device) {
  const std::vector<std::byte> header = EncodeShardHeader(&device->header);
  LMHEAD_RETURN_IF_ERROR(device->file->WriteAt(0, header));
  LMHEAD_RETURN_IF_ERROR(device->file->Sync());
  // Read back from the page cache: the checksum covers what is on disk.
  LMHEAD_ASSIGN_OR_RETURN(device->file_xxh3, HashFileXxh3(device->file->temp_path()));
  return Status::Ok();
}

Status ConvertBank(const ConvertInput& input, const std::string& out_dir, DeviceState* device,
                   int64_t bank_idx, BankScratch* scratch, std::atomic<bool>* non_finite) {
  const ShardGeometry& g = input.geometry;
  const int64_t device_idx = device->header.device_idx;
  {
    std::lock_guard<std::mutex> lock(device->mutex);
    if (!device->file) {
      const std::string path = (fs::path(out_dir) / ShardFileName(device_idx)).string();
      LMHEAD_ASSIGN_OR_RETURN(TempFile file, TempFile::Create(path));
      LMHEAD_RETURN_IF_ERROR(file.Reserve(device->header.file_bytes));
      device->file.emplace(std::move(file));
    }
  }
  if (!PackBank(input.source, g, device_idx, bank_idx, scratch)) {
    non_finite->store(true);
    return Status::InvalidArgument("[Convert] non-finite value");  // Located by the caller.
  }
  ShardBankEntry& bank = device->header.banks[static_cast<size_t>(bank_idx)];
  bank.xxh3 = XXH3_64bits(scratch->blob.data(), scratch->blob.size());
  LMHEAD_RETURN_IF_ERROR(
      device->file->WriteAt(bank.offset, std::as_bytes(std::span(scratch->blob))));
  int64_t first_row = 0;
  int64_t last_row = 0;
  BankSourceRows(g, device_idx, bank_idx, &first_row, &last_row);
  const size_t row_bytes = static_cast<size_t>(g.hidden_size * DtypeBytes(input.source.dtype));
  ReleaseMappedPages(input.source.data + first_row * row_bytes,
                     static_cast<size_t>(last_row - first_row) * row_bytes);
  if (device->banks_left.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    LMHEAD_RETURN_IF_ERROR(FinishDevice(device));
  }
  return Status::Ok();
}

Status NonFiniteError(const ConvertInput& input) {
  int64_t row = 0;
  int64_t col = 0;
  float value = 0;
  if (!FindNonFinite(input.source, 0, input.source.rows, &row, &col, &value)) {
    return Status::Internal("[Convert] a bank reported a NaN/Inf that a full scan does not find");
  }
  return Status::InvalidArgument(fmt::format(
      "[Convert] tensor '{}' holds {} at row {} (vocab id), column {} (hidden index), the first "
      "non-finite value in row-major order; TT would flush its whole 16-value group, so fix the "
      "checkpoint",
      input.tensor_name, value, row, col));
}

Status ConvertAll(const ConvertInput& input, const ConvertOptions& options,
                  std::vector<std::unique_ptr<DeviceState>>& devices, Progress* progress) {
  std::vector<std::pair<DeviceState*, int64_t>> units;
  for (auto& device : devices) {
    if (device->reused) continue;
    device->banks_left = input.geometry.num_banks;
    for (int64_t bank_idx = 0; bank_idx < input.geometry.num_banks; ++bank_idx) {
      units.emplace_back(device.get(), bank_idx);
    }
  }
  const int threads = ResolveThreads(options.num_threads, static_cast<int64_t>(units.size()));
  std::vector<std::unique_ptr<BankScratch>> scratch;
  for (int thread_idx = 0; thread_idx < threads; ++thread_idx) {
    scratch.push_back(std::make_unique<BankScratch>());
  }
  std::atomic<bool> non_finite{false};
  const Status status = ParallelFor(
      threads, static_cast<int64_t>(units.size()), [&](int thread_idx, int64_t unit) -> Status {
        auto [device, bank_idx] = units[static_cast<size_t>(unit)];
        LMHEAD_RETURN_IF_ERROR(ConvertBank(input, options.out_dir, device, bank_idx,
                                           scratch[static_cast<size_t>(thread_idx)].get(),
                                           &non_finite));
        progress->Report(1, input.geometry.bank_bytes());
        return Status::Ok();
      });
  if (non_finite.load()) return NonFiniteError(input);
  return status;
}

// Publishes the conversion: no manifest while shards change, then renames,
// removes shards of devices the mesh no longer has, writes the manifest.
Status Commit(const ConvertInput& input, const ConvertOptions& options,
              std::vector<std::unique_ptr<DeviceState>>& devices, uint64_t source_xxh3) {
  const fs::path out(options.out_dir);
  std::error_code ec;
  fs::remove(out / "manifest.json", ec);
  if (ec)
    return Status::IOError(fmt::format("[Convert] cannot remove {}: {}",
                                       (out / "manifest.json").string(), ec.message()));
  for (auto& device : devices) {
    if (device->file) LMHEAD_RETURN_IF_ERROR(device->file->Commit());
  }
  for (int64_t stale = static_cast<int64_t>(devices.size());
       fs::exists(out / ShardFileName(stale), ec); ++stale) {
    fs::remove(out / ShardFileName(stale), ec);
  }
  WeightsManifest manifest;
  manifest.geometry = input.geometry;
  manifest.device = options.device;
  manifest.plan_json = input.plan_json;
  manifest.source_checkpoint = fs::absolute(input.checkpoint.dir(), ec).string();
  manifest.source_tensor = input.tensor_name;
  manifest.source_dtype = ToString(input.source.dtype);
  manifest.source_shape = input.tensor.view.info->shape;
  manifest.source_xxh3 = source_xxh3;
  manifest.source_files = input.source_files;
  const ShardGeometry& g = input.geometry;
  for (const auto& device : devices) {
    const int64_t device_idx = device->header.device_idx;
    WeightsManifest::Shard shard{ShardFileName(device_idx), device_idx,
                                 device_idx / g.mesh_cols,  device_idx % g.mesh_cols,
                                 device->header.file_bytes, device->file_xxh3,
                                 device_idx * g.cols(),     g.cols(),
                                 g.ValidCols(device_idx),   {}};
    for (int64_t bank_idx = 0; bank_idx < g.num_banks; ++bank_idx) {
      shard.bank_cols.push_back(g.BankCols(bank_idx));
    }
    manifest.shards.push_back(std::move(shard));
  }
  return WriteFileAtomically((out / "manifest.json").string(), WeightsManifestToJson(manifest));
}

}  // namespace

Result<ConvertReport> ConvertCheckpoint(const ConvertOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  LMHEAD_ASSIGN_OR_RETURN(const ConvertInput input, ResolveConvertInput(options));
  LMHEAD_ASSIGN_OR_RETURN(OutputDirectory out_dir,
                          OutputDirectory::Create(options.out_dir, "[Convert]"));
  LMHEAD_RETURN_IF_ERROR(
      RemoveStaleTempFiles(options.out_dir, {"device_", "manifest.json"}).status());
  const uint64_t source_xxh3 = HashSource(input.source);
  const ShardGeometry& g = input.geometry;
  std::vector<std::unique_ptr<DeviceState>> devices;
  Progress progress;
  progress.callback = &options.progress;
  progress.state.num_devices = static_cast<int>(g.num_devices());
  progress.state.units_total = g.num_devices() * g.num_banks;
  for (int64_t device_idx = 0; device_idx < g.num_devices(); ++device_idx) {
    auto device = std::make_unique<DeviceState>();
    device->header = MakeShardHeader(g, device_idx, input.source_dtype, source_xxh3);
    const std::string path = (fs::path(options.out_dir) / ShardFileName(device_idx)).string();
    device->reused = ExistingShardIsValid(path, device->header, &device->file_xxh3);
    if (device->reused) {
      ++progress.state.devices_reused;
      progress.Report(g.num_banks, 0);
    }
    devices.push_back(std::move(device));
  }
  LMHEAD_RETURN_IF_ERROR(ConvertAll(input, options, devices, &progress));
  LMHEAD_RETURN_IF_ERROR(Commit(input, options, devices, source_xxh3));
  out_dir.Keep();
  ConvertReport report;
  report.manifest_path = (fs::path(options.out_dir) / "manifest.json").string();
  report.tensor_name = input.tensor_name;
  report.num_devices = static_cast<int>(g.num_devices());
  report.shards_reused = progress.state.devices_reused;
  report.shards_written = report.num_devices - report.shards_reused;
  report.bytes_written = progress.state.bytes_written;
  report.pad_vocab_cols = g.vocab_size - g.valid_vocab_size;
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace lmhead
