// SPDX-License-Identifier: Apache-2.0
// Shard file header encoding and validation.
#include "io/shard_file.h"

// The state struct is public only under XXH_STATIC_LINKING_ONLY; it lets the
// header hash live on the stack.
#define XXH_STATIC_LINKING_ONLY
#include <fmt/format.h>
#include <xxhash.h>

#include <cstring>

namespace lmhead {
namespace {

// Field offsets of the v1 fixed header (docs/shard_format.md §2.1).
enum Field : size_t {
  kVersion = 8,
  kHeaderBytes = 12,
  kHeaderHash = 16,
  kFileBytes = 24,
  kDataOffset = 32,
  kBankTable = 40,
  kAlignment = 48,
  kTileFormat = 52,
  kTileBytes = 56,
  kDeviceIdx = 60,
  kNumDevices = 64,
  kMeshRows = 68,
  kMeshCols = 72,
  kHidden = 76,
  kVocab = 80,
  kValidVocab = 84,
  kColOffset = 88,
  kCols = 92,
  kValidCols = 96,
  kKTiles = 100,
  kNTiles = 104,
  kNumBanks = 108,
  kBankNTiles = 112,
  kSourceDtype = 116,
  kSourceHash = 120,
};

void Put32(std::byte* base, size_t offset, uint64_t value) {
  for (size_t idx = 0; idx < 4; ++idx) base[offset + idx] = std::byte((value >> (8 * idx)) & 0xFF);
}
void Put64(std::byte* base, size_t offset, uint64_t value) {
  for (size_t idx = 0; idx < 8; ++idx) base[offset + idx] = std::byte((value >> (8 * idx)) & 0xFF);
}
uint32_t Get32(const std::byte* base, size_t offset) {
  uint32_t value = 0;
  for (size_t idx = 0; idx < 4; ++idx)
    value |= static_cast<uint32_t>(base[offset + idx]) << (8 * idx);
  return value;
}
uint64_t Get64(const std::byte* base, size_t offset) {
  uint64_t value = 0;
  for (size_t idx = 0; idx < 8; ++idx)
    value |= static_cast<uint64_t>(base[offset + idx]) << (8 * idx);
  return value;
}

uint64_t RoundUp(uint64_t value, uint64_t multiple) {
  return (value + multiple - 1) / multiple * multiple;
}

// XXH3 of [0, data_offset) with the 8 bytes of header_xxh3 read as zero.
uint64_t HeaderHash(const std::byte* file, uint64_t data_offset) {
  XXH3_state_t state;
  XXH3_64bits_reset(&state);
  const uint64_t zero = 0;
  XXH3_64bits_update(&state, file, kShardHeaderHashOffset);
  XXH3_64bits_update(&state, &zero, sizeof(zero));
  const size_t rest = kShardHeaderHashOffset + sizeof(zero);
  XXH3_64bits_update(&state, file + rest, data_offset - rest);
  return XXH3_64bits_digest(&state);
}

Status Mismatch(std::string_view what, std::string_view field, size_t offset, uint64_t expected,
                uint64_t actual) {
  return Status::Corruption(fmt::format(
      "[ShardFile] {}: {} at offset {} is {}, expected {}; the file is corrupted, re-run convert",
      what, field, offset, actual, expected));
}

// Layout checks on a decoded header whose hash already matched.
Status ValidateDecoded(const ShardHeader& h, uint64_t file_bytes, std::string_view what) {
  const ShardGeometry& g = h.geometry;
  if (h.device_idx >= g.num_devices()) {
    return Mismatch(what, "device_idx (< num_devices)", kDeviceIdx, g.num_devices() - 1,
                    static_cast<uint64_t>(h.device_idx));
  }
  uint64_t expected_offset = h.data_offset;
  for (size_t bank_idx = 0; bank_idx < h.banks.size(); ++bank_idx) {
    const ShardBankEntry& bank = h.banks[bank_idx];
    const size_t entry = h.bank_table_offset + bank_idx * kShardBankEntryBytes;
    const auto idx = static_cast<int64_t>(bank_idx);
    if (bank.offset != expected_offset) {
      return Mismatch(what, fmt::format("bank {} offset", bank_idx), entry, expected_offset,
                      bank.offset);
    }
    if (bank.bytes != g.bank_bytes()) {
      return Mismatch(what, fmt::format("bank {} bytes", bank_idx), entry + 8, g.bank_bytes(),
                      bank.bytes);
    }
    if (bank.cols != static_cast<uint64_t>(g.BankCols(idx)) ||
        bank.valid_cols != static_cast<uint64_t>(g.BankValidCols(h.device_idx, idx))) {
      return Mismatch(what, fmt::format("bank {} cols", bank_idx), entry + 16,
                      static_cast<uint64_t>(g.BankCols(idx)), bank.cols);
    }
    expected_offset = RoundUp(bank.offset + bank.bytes, h.blob_alignment);
    if (bank_idx + 1 == h.banks.size()) expected_offset = bank.offset + bank.bytes;
  }
  if (expected_offset != file_bytes) {
    return Mismatch(what, "end of the last bank blob", kFileBytes, file_bytes, expected_offset);
  }
  return Status::Ok();
}

// Magic, version, sizes and the header hash: everything needed before the
// header's other bytes can be trusted.
Status DecodeFraming(std::span<const std::byte> file, std::string_view what, ShardHeader* h) {
  const std::byte* p = file.data();
  if (file.size() < kShardHeaderBytesV1) {
    return Status::Corruption(fmt::format(
        "[ShardFile] {}: file has {} bytes, fewer than the {}-byte header; it is truncated", what,
        file.size(), kShardHeaderBytesV1));
  }
  if (std::memcmp(p, kShardMagic, sizeof(kShardMagic)) != 0) {
    return Status::Corruption(fmt::format(
        "[ShardFile] {}: magic at offset 0 is {:02x}, expected 894c4d570d0a1a0a; not an lmhead "
        "shard file (or it was transferred in text mode)",
        what, fmt::join(file.first(8), "")));
  }
  h->format_version = Get32(p, kVersion);
  if (h->format_version != kShardFormatVersion) {
    return Status::NotSupported(fmt::format(
        "[ShardFile] {}: format_version {} is not {}; it was written by a newer lmhead, re-run "
        "this lmhead's convert",
        what, h->format_version, kShardFormatVersion));
  }
  h->header_bytes = Get32(p, kHeaderBytes);
  h->header_xxh3 = Get64(p, kHeaderHash);
  h->file_bytes = Get64(p, kFileBytes);
  h->data_offset = Get64(p, kDataOffset);
  h->bank_table_offset = Get64(p, kBankTable);
  h->blob_alignment = Get32(p, kAlignment);
  if (h->header_bytes < kShardHeaderBytesV1) {
    return Mismatch(what, "header_bytes (at least)", kHeaderBytes, kShardHeaderBytesV1,
                    h->header_bytes);
  }
  if (h->file_bytes != file.size()) {
    return Mismatch(what, "file_bytes (the real size; truncated or appended?)", kFileBytes,
                    file.size(), h->file_bytes);
  }
  if (h->blob_alignment != kShardBlobAlignment) {
    return Mismatch(what, "blob_alignment", kAlignment, kShardBlobAlignment, h->blob_alignment);
  }
  if (h->data_offset % kShardBlobAlignment != 0 || h->data_offset < h->header_bytes ||
      h->data_offset > file.size()) {
    return Status::Corruption(fmt::format(
        "[ShardFile] {}: data_offset {} at offset {} is not a 4096-aligned offset in [{}, {}]",
        what, h->data_offset, size_t{kDataOffset}, h->header_bytes, file.size()));
  }
  const uint64_t actual_hash = HeaderHash(p, h->data_offset);
  if (actual_hash != h->header_xxh3) {
    return Status::Corruption(fmt::format(
        "[ShardFile] {}: header_xxh3 at offset 16 is {:016x}, but bytes [0, {}) hash to {:016x}; "
        "the header is corrupted, re-run convert",
        what, h->header_xxh3, h->data_offset, actual_hash));
  }
  return Status::Ok();
}

// The layout fields and the bank table, checked against the values the
// geometry derives. Precondition: DecodeFraming passed.
Status DecodeLayout(const std::byte* p, std::string_view what, ShardHeader* h) {
  Result<TileFormat> format = TileFormatFromCode(Get32(p, kTileFormat));
  if (!format.ok()) {
    return Status::Corruption(fmt::format(
        "[ShardFile] {}: tile_format at offset {} is {}, not a known code (1..4); the file is "
        "corrupted or from a newer lmhead",
        what, size_t{kTileFormat}, Get32(p, kTileFormat)));
  }
  h->geometry.format = *format;
  if (Get32(p, kTileBytes) != TileBytes(h->geometry.format)) {
    return Mismatch(what, "tile_bytes", kTileBytes, TileBytes(h->geometry.format),
                    Get32(p, kTileBytes));
  }
  ShardGeometry& g = h->geometry;
  h->device_idx = Get32(p, kDeviceIdx);
  g.mesh_rows = Get32(p, kMeshRows);
  g.mesh_cols = Get32(p, kMeshCols);
  g.hidden_size = Get32(p, kHidden);
  g.vocab_size = Get32(p, kVocab);
  g.valid_vocab_size = Get32(p, kValidVocab);
  g.num_banks = Get32(p, kNumBanks);
  g.shard_w = int64_t{Get32(p, kBankNTiles)} * kTileDim;
  const uint32_t source_dtype = Get32(p, kSourceDtype);
  if (source_dtype < 1 || source_dtype > 3) {
    return Mismatch(what, "source_dtype (1..3)", kSourceDtype, 3, source_dtype);
  }
  h->source_dtype = static_cast<ShardSourceDtype>(source_dtype);
  h->source_xxh3 = Get64(p, kSourceHash);
  const Status geometry = ValidateShardGeometry(g);
  if (!geometry.ok()) {
    return Status::Corruption(fmt::format("[ShardFile] {}: {}", what, geometry.message()));
  }
  if (h->bank_table_offset < h->header_bytes ||
      h->bank_table_offset + static_cast<uint64_t>(g.num_banks) * kShardBankEntryBytes >
          h->data_offset) {
    return Status::Corruption(
        fmt::format("[ShardFile] {}: bank table of {} entries at {} does not fit in [{}, {})", what,
                    g.num_banks, h->bank_table_offset, h->header_bytes, h->data_offset));
  }
  const std::pair<Field, int64_t> derived[] = {{kNumDevices, g.num_devices()},
                                               {kCols, g.cols()},
                                               {kColOffset, h->device_idx * g.cols()},
                                               {kValidCols, g.ValidCols(h->device_idx)},
                                               {kKTiles, g.k_tiles()},
                                               {kNTiles, g.n_tiles()}};
  for (const auto& [field, value] : derived) {
    if (Get32(p, field) != static_cast<uint64_t>(value)) {
      return Mismatch(what,
                      "a derived field (num_devices, cols, col_offset, valid_cols, k_tiles "
                      "or n_tiles)",
                      field, static_cast<uint64_t>(value), Get32(p, field));
    }
  }
  for (int64_t bank_idx = 0; bank_idx < g.num_banks; ++bank_idx) {
    const size_t entry = h->bank_table_offset + bank_idx * kShardBankEntryBytes;
    h->banks.push_back({Get64(p, entry), Get64(p, entry + 8), Get32(p, entry + 16),
                        Get32(p, entry + 20), Get64(p, entry + 24)});
  }
  return Status::Ok();
}

}  // namespace

const char* ToString(ShardSourceDtype dtype) {
  switch (dtype) {
    case ShardSourceDtype::kF32:
      return "F32";
    case ShardSourceDtype::kF16:
      return "F16";
    case ShardSourceDtype::kBF16:
      return "BF16";
  }
  return "?";
}

Result<ShardSourceDtype> ShardSourceDtypeFromName(std::string_view name) {
  for (ShardSourceDtype dtype :
       {ShardSourceDtype::kF32, ShardSourceDtype::kF16, ShardSourceDtype::kBF16}) {
    if (name == ToString(dtype)) return dtype;
  }
  return Status::InvalidArgument(
      fmt::format("[ShardFile] source dtype '{}' is not one of F32, F16, BF16", name));
}

uint32_t TileFormatCode(TileFormat format) {
  switch (format) {
    case TileFormat::kBf16:
      return 1;
    case TileFormat::kBfp8b:
      return 2;
    case TileFormat::kBfp4b:
      return 3;
    case TileFormat::kFp32:
      return 4;
  }
  return 0;
}

Result<TileFormat> TileFormatFromCode(uint32_t code) {
  for (TileFormat format :
       {TileFormat::kBf16, TileFormat::kBfp8b, TileFormat::kBfp4b, TileFormat::kFp32}) {
    if (TileFormatCode(format) == code) return format;
  }
  return Status::Corruption(fmt::format("unknown tile_format code {}", code));
}

ShardHeader MakeShardHeader(const ShardGeometry& geometry, int64_t device_idx,
                            ShardSourceDtype source_dtype, uint64_t source_xxh3) {
  ShardHeader header;
  header.geometry = geometry;
  header.device_idx = device_idx;
  header.source_dtype = source_dtype;
  header.source_xxh3 = source_xxh3;
  const uint64_t table_end =
      header.bank_table_offset + static_cast<uint64_t>(geometry.num_banks) * kShardBankEntryBytes;
  header.data_offset = RoundUp(table_end, kShardBlobAlignment);
  uint64_t offset = header.data_offset;
  for (int64_t bank_idx = 0; bank_idx < geometry.num_banks; ++bank_idx) {
    ShardBankEntry bank;
    bank.offset = offset;
    bank.bytes = geometry.bank_bytes();
    bank.cols = static_cast<uint32_t>(geometry.BankCols(bank_idx));
    bank.valid_cols = static_cast<uint32_t>(geometry.BankValidCols(device_idx, bank_idx));
    header.banks.push_back(bank);
    header.file_bytes = bank.offset + bank.bytes;
    offset = RoundUp(header.file_bytes, kShardBlobAlignment);
  }
  return header;
}

std::vector<std::byte> EncodeShardHeader(ShardHeader* header) {
  const ShardGeometry& g = header->geometry;
  std::vector<std::byte> bytes(header->data_offset, std::byte{0});
  std::byte* p = bytes.data();
  std::memcpy(p, kShardMagic, sizeof(kShardMagic));
  Put32(p, kVersion, header->format_version);
  Put32(p, kHeaderBytes, header->header_bytes);
  Put64(p, kFileBytes, header->file_bytes);
  Put64(p, kDataOffset, header->data_offset);
  Put64(p, kBankTable, header->bank_table_offset);
  Put32(p, kAlignment, header->blob_alignment);
  Put32(p, kTileFormat, TileFormatCode(g.format));
  Put32(p, kTileBytes, TileBytes(g.format));
  Put32(p, kDeviceIdx, static_cast<uint64_t>(header->device_idx));
  Put32(p, kNumDevices, static_cast<uint64_t>(g.num_devices()));
  Put32(p, kMeshRows, static_cast<uint64_t>(g.mesh_rows));
  Put32(p, kMeshCols, static_cast<uint64_t>(g.mesh_cols));
  Put32(p, kHidden, static_cast<uint64_t>(g.hidden_size));
  Put32(p, kVocab, static_cast<uint64_t>(g.vocab_size));
  Put32(p, kValidVocab, static_cast<uint64_t>(g.valid_vocab_size));
  Put32(p, kColOffset, static_cast<uint64_t>(header->device_idx * g.cols()));
  Put32(p, kCols, static_cast<uint64_t>(g.cols()));
  Put32(p, kValidCols, static_cast<uint64_t>(g.ValidCols(header->device_idx)));
  Put32(p, kKTiles, static_cast<uint64_t>(g.k_tiles()));
  Put32(p, kNTiles, static_cast<uint64_t>(g.n_tiles()));
  Put32(p, kNumBanks, static_cast<uint64_t>(g.num_banks));
  Put32(p, kBankNTiles, static_cast<uint64_t>(g.bank_n_tiles()));
  Put32(p, kSourceDtype, static_cast<uint32_t>(header->source_dtype));
  Put64(p, kSourceHash, header->source_xxh3);
  for (size_t bank_idx = 0; bank_idx < header->banks.size(); ++bank_idx) {
    const ShardBankEntry& bank = header->banks[bank_idx];
    const size_t entry = header->bank_table_offset + bank_idx * kShardBankEntryBytes;
    Put64(p, entry, bank.offset);
    Put64(p, entry + 8, bank.bytes);
    Put32(p, entry + 16, bank.cols);
    Put32(p, entry + 20, bank.valid_cols);
    Put64(p, entry + 24, bank.xxh3);
  }
  header->header_xxh3 = HeaderHash(p, header->data_offset);
  Put64(p, kHeaderHash, header->header_xxh3);
  return bytes;
}

Result<ShardHeader> DecodeShardHeader(std::span<const std::byte> file, std::string_view what) {
  ShardHeader h;
  LMHEAD_RETURN_IF_ERROR(DecodeFraming(file, what, &h));
  LMHEAD_RETURN_IF_ERROR(DecodeLayout(file.data(), what, &h));
  LMHEAD_RETURN_IF_ERROR(ValidateDecoded(h, file.size(), what));
  return h;
}

Status VerifyShardBlobs(const ShardHeader& header, std::span<const std::byte> file,
                        std::string_view what) {
  for (size_t bank_idx = 0; bank_idx < header.banks.size(); ++bank_idx) {
    const ShardBankEntry& bank = header.banks[bank_idx];
    const uint64_t actual = XXH3_64bits(file.data() + bank.offset, bank.bytes);
    if (actual != bank.xxh3) {
      return Status::Corruption(fmt::format(
          "[ShardFile] {}: bank {} blob at offset {} hashes to {:016x}, the header says {:016x}; "
          "the data is corrupted, re-run convert",
          what, bank_idx, bank.offset, actual, bank.xxh3));
    }
  }
  return Status::Ok();
}

Status CheckShardHeaderMatches(const ShardHeader& actual, const ShardHeader& expected,
                               std::string_view what) {
  const ShardGeometry& a = actual.geometry;
  const ShardGeometry& e = expected.geometry;
  const std::pair<const char*, std::pair<uint64_t, uint64_t>> fields[] = {
      {"tile_format", {TileFormatCode(a.format), TileFormatCode(e.format)}},
      {"device_idx", {actual.device_idx, expected.device_idx}},
      {"mesh_rows", {a.mesh_rows, e.mesh_rows}},
      {"mesh_cols", {a.mesh_cols, e.mesh_cols}},
      {"hidden_size", {a.hidden_size, e.hidden_size}},
      {"vocab_size", {a.vocab_size, e.vocab_size}},
      {"valid_vocab_size", {a.valid_vocab_size, e.valid_vocab_size}},
      {"num_banks", {a.num_banks, e.num_banks}},
      {"bank_n_tiles", {a.bank_n_tiles(), e.bank_n_tiles()}},
      {"source_dtype",
       {static_cast<uint32_t>(actual.source_dtype), static_cast<uint32_t>(expected.source_dtype)}},
      {"source_xxh3", {actual.source_xxh3, expected.source_xxh3}},
  };
  for (const auto& [name, values] : fields) {
    if (values.first != values.second) {
      return Status::Corruption(fmt::format("[ShardFile] {}: {} is {}, expected {}", what, name,
                                            values.first, values.second));
    }
  }
  return Status::Ok();
}

}  // namespace lmhead
