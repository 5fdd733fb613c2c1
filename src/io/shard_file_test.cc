// SPDX-License-Identifier: Apache-2.0
// Shard files: geometry against the spec's worked numbers, byte layout, and corruption detection.
#include "io/shard_file.h"
#include "io/shard_test_geometry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <xxhash.h>

#include <cstring>
#include <string>
#include <vector>

namespace lmhead {
namespace {

using ::testing::HasSubstr;

ShardGeometry DeepSeek(int64_t rows, int64_t cols, int64_t banks = 12) {
  ShardGeometry g;
  g.format = TileFormat::kBfp4b;
  g.hidden_size = 7168;
  g.vocab_size = 129280;
  g.valid_vocab_size = 129280;
  g.mesh_rows = rows;
  g.mesh_cols = cols;
  g.num_banks = banks;
  const int64_t per_bank = (g.cols() + banks - 1) / banks;
  g.shard_w = (per_bank + 31) / 32 * 32;
  return g;
}

// Spec ttnn-lmhead.md §4 table: DRAM shard widths for D = 1, 8, 16, 32 on 12 banks
// (10784, 1376, 704, 352) and on 8 banks (16160, 2048, 1024, 512).
TEST(ShardGeometryTest, MatchesTheSpecTable) {
  EXPECT_EQ(DeepSeek(1, 1).shard_w, 10784);
  EXPECT_EQ(DeepSeek(1, 8).shard_w, 1376);
  EXPECT_EQ(DeepSeek(2, 8).shard_w, 704);
  EXPECT_EQ(DeepSeek(4, 8).shard_w, 352);
  EXPECT_EQ(DeepSeek(1, 1, 8).shard_w, 16160);
  EXPECT_EQ(DeepSeek(4, 8, 8).shard_w, 512);
  const ShardGeometry g = DeepSeek(4, 8);
  EXPECT_TRUE(ValidateShardGeometry(g).ok());
  EXPECT_EQ(g.cols(), 4040);
  EXPECT_EQ(g.k_tiles(), 224);
  EXPECT_EQ(g.n_tiles(), 127);
  EXPECT_EQ(g.bank_n_tiles(), 11);
  EXPECT_EQ(g.bank_bytes(), 224u * 11 * 576);
  // Banks 0..10 are full; bank 11 holds 4040 - 11 * 352 = 168 columns.
  EXPECT_EQ(g.BankCols(0), 352);
  EXPECT_EQ(g.BankCols(10), 352);
  EXPECT_EQ(g.BankCols(11), 168);
  ShardGeometry wrong = g;
  wrong.shard_w = 384;
  EXPECT_EQ(ValidateShardGeometry(wrong).code(), StatusCode::kInvalidArgument);
}

// V = 4096 on 4x8: V/D = 128 = 4 tiles, shard_w 32, so only banks 0..3 hold data (spec §4.1).
TEST(ShardGeometryTest, TinyVocabLeavesEmptyBanksAndPaddingIsInvalid) {
  ShardGeometry g = DeepSeek(4, 8);
  g.vocab_size = 4096 + 32;  // Padded: 129 columns per device.
  g.valid_vocab_size = 4096;
  g.shard_w = 32;
  ASSERT_TRUE(ValidateShardGeometry(g).ok());
  EXPECT_EQ(g.cols(), 129);
  EXPECT_EQ(g.BankCols(3), 32);
  EXPECT_EQ(g.BankCols(4), 1);
  EXPECT_EQ(g.BankCols(5), 0);
  // Device 31 covers vocab [3999, 4128): 97 real columns, 32 of padding.
  EXPECT_EQ(g.ValidCols(31), 97);
  EXPECT_EQ(g.BankValidCols(31, 3), 1);
  EXPECT_EQ(g.BankValidCols(31, 4), 0);
  EXPECT_EQ(g.ValidCols(0), 129);
}

// A complete shard file with deterministic blob contents and correct checksums.
std::string MakeFile(const ShardGeometry& g, int64_t device_idx) {
  ShardHeader header = MakeShardHeader(g, device_idx, ShardSourceDtype::kBF16, 0x1234);
  std::string file(header.file_bytes, '\0');
  for (ShardBankEntry& bank : header.banks) {
    for (uint64_t idx = 0; idx < bank.bytes; ++idx) {
      file[bank.offset + idx] = static_cast<char>((idx * 7 + bank.offset) & 0xFF);
    }
    bank.xxh3 = XXH3_64bits(file.data() + bank.offset, bank.bytes);
  }
  const std::vector<std::byte> encoded = EncodeShardHeader(&header);
  std::memcpy(file.data(), encoded.data(), encoded.size());
  return file;
}

Result<ShardHeader> Decode(const std::string& file) {
  return DecodeShardHeader(std::as_bytes(std::span(file)), "shard");
}

uint32_t Le32(const std::string& file, size_t offset) {
  uint32_t value;
  std::memcpy(&value, file.data() + offset, 4);
  return value;
}

TEST(ShardFileTest, ByteLayoutFollowsTheDoc) {
  const ShardGeometry g = SmallShardGeometry();
  const std::string file = MakeFile(g, 1);
  const unsigned char magic[8] = {0x89, 'L', 'M', 'W', '\r', '\n', 0x1A, '\n'};
  EXPECT_EQ(std::memcmp(file.data(), magic, 8), 0);
  EXPECT_EQ(Le32(file, 8), 1u);      // format_version
  EXPECT_EQ(Le32(file, 12), 128u);   // header_bytes
  EXPECT_EQ(Le32(file, 48), 4096u);  // blob_alignment
  EXPECT_EQ(Le32(file, 52), 3u);     // tile_format: bfloat4_b
  EXPECT_EQ(Le32(file, 56), 576u);   // tile_bytes
  EXPECT_EQ(Le32(file, 60), 1u);     // device_idx
  EXPECT_EQ(Le32(file, 88), 200u);   // col_offset
  EXPECT_EQ(Le32(file, 92), 200u);   // cols
  EXPECT_EQ(Le32(file, 96), 190u);   // valid_cols: 390 - 200
  EXPECT_EQ(Le32(file, 100), 2u);    // k_tiles
  EXPECT_EQ(Le32(file, 104), 7u);    // n_tiles
  EXPECT_EQ(Le32(file, 112), 3u);    // bank_n_tiles
  // Bank blobs: 2 x 3 tiles of 576 bytes = 3456 bytes each, starting at 4 KiB pages.
  EXPECT_EQ(Le32(file, 128), 4096u);
  EXPECT_EQ(Le32(file, 128 + 8), 3456u);
  EXPECT_EQ(Le32(file, 128 + 32), 8192u);
  EXPECT_EQ(Le32(file, 128 + 64), 12288u);
  EXPECT_EQ(file.size(), 12288u + 3456u);
  // Bank column counts: 96, 96, 8 (cols) and 96, 94, 0 (valid).
  EXPECT_EQ(Le32(file, 128 + 16), 96u);
  EXPECT_EQ(Le32(file, 128 + 64 + 16), 8u);
  EXPECT_EQ(Le32(file, 128 + 32 + 20), 94u);
  EXPECT_EQ(Le32(file, 128 + 64 + 20), 0u);

  Result<ShardHeader> header = Decode(file);
  ASSERT_TRUE(header.ok()) << header.status().ToString();
  EXPECT_EQ(header->device_idx, 1);
  EXPECT_EQ(header->source_xxh3, 0x1234u);
  EXPECT_TRUE(VerifyShardBlobs(*header, std::as_bytes(std::span(file)), "shard").ok());
  EXPECT_TRUE(CheckShardHeaderMatches(
                  *header, MakeShardHeader(g, 1, ShardSourceDtype::kBF16, 0x1234), "shard")
                  .ok());
  EXPECT_THAT(CheckShardHeaderMatches(
                  *header, MakeShardHeader(g, 1, ShardSourceDtype::kBF16, 0x999), "shard")
                  .message(),
              HasSubstr("source_xxh3"));
}

// Every single-byte change in the header page is caught by the header hash or a
// field check: none decodes as a valid shard.
TEST(ShardFileTest, EveryHeaderByteIsProtected) {
  const std::string good = MakeFile(SmallShardGeometry(), 0);
  for (size_t offset = 0; offset < 4096; ++offset) {
    std::string bad = good;
    bad[offset] = static_cast<char>(bad[offset] ^ 0x5A);
    Result<ShardHeader> header = Decode(bad);
    ASSERT_FALSE(header.ok()) << "offset " << offset;
  }
}

TEST(ShardFileTest, CorruptionsAreNamed) {
  const std::string good = MakeFile(SmallShardGeometry(), 0);
  EXPECT_THAT(Decode(good.substr(0, 100)).status().message(), HasSubstr("truncated"));
  EXPECT_THAT(Decode(good.substr(0, good.size() - 1)).status().message(), HasSubstr("file_bytes"));
  EXPECT_THAT(Decode(good + "x").status().message(), HasSubstr("file_bytes"));
  std::string text_mode = good;
  text_mode.erase(4, 1);  // CRLF -> LF, as a text-mode transfer does.
  EXPECT_THAT(Decode(text_mode).status().message(), HasSubstr("magic"));
  std::string newer = good;
  newer[8] = 2;
  EXPECT_EQ(Decode(newer).status().code(), StatusCode::kNotSupported);
  std::string blob = good;
  blob[8192 + 100] ^= 1;
  Result<ShardHeader> header = Decode(blob);
  ASSERT_TRUE(header.ok());
  const Status status = VerifyShardBlobs(*header, std::as_bytes(std::span(blob)), "shard");
  EXPECT_EQ(status.code(), StatusCode::kCorruption);
  EXPECT_THAT(status.message(), HasSubstr("bank 1 blob at offset 8192"));
}

}  // namespace
}  // namespace lmhead
