// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: DecodeShardHeader and VerifyShardBlobs on arbitrary file bytes.
//
// Each input is decoded twice: as given, and with header_xxh3 recomputed, so that
// mutations get past the header checksum and reach the field validation behind it.
#include <xxhash.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "io/shard_file.h"

namespace {

void Check(std::span<const std::byte> file) {
  lmhead::Result<lmhead::ShardHeader> header = lmhead::DecodeShardHeader(file, "fuzz");
  if (!header.ok()) return;
  // What the reader promises once it says OK: every blob lies inside the file.
  for (const lmhead::ShardBankEntry& bank : header->banks) {
    if (bank.offset + bank.bytes > file.size() || bank.offset < header->data_offset) {
      __builtin_trap();
    }
  }
  (void)lmhead::VerifyShardBlobs(*header, file, "fuzz");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Check({reinterpret_cast<const std::byte*>(data), size});
  if (size < lmhead::kShardHeaderBytesV1) return 0;
  uint64_t data_offset = 0;
  std::memcpy(&data_offset, data + 32, sizeof(data_offset));
  if (data_offset < 24 || data_offset > size) return 0;
  std::vector<uint8_t> fixed(data, data + size);
  std::memset(fixed.data() + lmhead::kShardHeaderHashOffset, 0, 8);
  const uint64_t hash = XXH3_64bits(fixed.data(), data_offset);
  std::memcpy(fixed.data() + lmhead::kShardHeaderHashOffset, &hash, 8);
  Check(std::as_bytes(std::span(fixed)));
  return 0;
}
