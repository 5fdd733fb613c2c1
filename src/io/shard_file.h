// SPDX-License-Identifier: Apache-2.0
// Shard file headers: encode, decode and validate (docs/shard_format.md §2).
//
// Design goals: every field of docs/shard_format.md has one encoder and one
// decoder here; a reader validates every offset and size before anything is
// dereferenced, and returns Corruption naming the file, offset and values.
// Non-goals: writing blobs (the converter) and mapping files (WeightsDir).
#ifndef LMHEAD_IO_SHARD_FILE_H_
#define LMHEAD_IO_SHARD_FILE_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "lmhead/status.h"
#include "lmhead/weights.h"

namespace lmhead {

// "\x89LMW\r\n\x1a\n": see docs/shard_format.md §2.4 for why these bytes.
inline constexpr unsigned char kShardMagic[8] = {0x89, 'L', 'M', 'W', '\r', '\n', 0x1A, '\n'};
inline constexpr uint32_t kShardFormatVersion = 1;
inline constexpr uint32_t kShardHeaderBytesV1 = 128;
inline constexpr uint32_t kShardBankEntryBytes = 32;
// Page-aligned blobs (docs §2.4); a multiple of the 64 bytes the issue asks.
inline constexpr uint32_t kShardBlobAlignment = 4096;
// Offset of header_xxh3, which is hashed as zero.
inline constexpr size_t kShardHeaderHashOffset = 16;

// On-disk codes (docs §2.1); never renumber.
enum class ShardSourceDtype : uint32_t { kF32 = 1, kF16 = 2, kBF16 = 3 };
// "F32", "F16", "BF16" (the safetensors spellings).
const char* ToString(ShardSourceDtype dtype);
Result<ShardSourceDtype> ShardSourceDtypeFromName(std::string_view name);
uint32_t TileFormatCode(TileFormat format);
Result<TileFormat> TileFormatFromCode(uint32_t code);

struct ShardBankEntry {
  uint64_t offset = 0;
  uint64_t bytes = 0;
  uint32_t cols = 0;
  uint32_t valid_cols = 0;
  uint64_t xxh3 = 0;
};

// The decoded header; geometry and device_idx determine everything else.
struct ShardHeader {
  uint32_t format_version = kShardFormatVersion;
  uint32_t header_bytes = kShardHeaderBytesV1;
  uint64_t header_xxh3 = 0;
  uint64_t file_bytes = 0;
  uint64_t data_offset = 0;
  uint64_t bank_table_offset = kShardHeaderBytesV1;
  uint32_t blob_alignment = kShardBlobAlignment;
  ShardGeometry geometry;
  int64_t device_idx = 0;
  ShardSourceDtype source_dtype = ShardSourceDtype::kBF16;
  uint64_t source_xxh3 = 0;
  std::vector<ShardBankEntry> banks;
};

// The header of device `device_idx`: offsets, sizes and per-bank columns
// filled in, blob checksums zero. Precondition: ValidateShardGeometry is OK.
ShardHeader MakeShardHeader(const ShardGeometry& geometry, int64_t device_idx,
                            ShardSourceDtype source_dtype, uint64_t source_xxh3);

// Bytes [0, data_offset) of the file: fixed header, bank table, zero padding.
// Sets header->header_xxh3.
std::vector<std::byte> EncodeShardHeader(ShardHeader* header);

// Decodes and validates the header of a whole shard file `file`. Blob
// checksums are not checked (see VerifyShardBlobs). `what` names the file.
Result<ShardHeader> DecodeShardHeader(std::span<const std::byte> file, std::string_view what);

// Checks every bank blob of `file` against its XXH3. Precondition: `header`
// came from DecodeShardHeader(file).
Status VerifyShardBlobs(const ShardHeader& header, std::span<const std::byte> file,
                        std::string_view what);

// Corruption unless `actual` has the layout and source identity of
// `expected` (checksums and header hash excluded); names the first field.
Status CheckShardHeaderMatches(const ShardHeader& actual, const ShardHeader& expected,
                               std::string_view what);

}  // namespace lmhead

#endif  // LMHEAD_IO_SHARD_FILE_H_
