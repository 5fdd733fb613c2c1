// SPDX-License-Identifier: Apache-2.0
// Writes one valid input per fuzzer into DIR/{safetensors,shard_file,manifest}/ as seed corpora.
#include <xxhash.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "io/shard_file.h"
#include "io/shard_test_geometry.h"
#include "lmhead/safetensors.h"
#include "lmhead/weights.h"

namespace {

void Write(const std::filesystem::path& path, const std::string& bytes) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_seeds CORPUS_DIR\n");
    return 1;
  }
  const std::filesystem::path dir = argv[1];
  const std::vector<lmhead::SafetensorsTensorSpec> tensors = {
      {"lm_head.weight", lmhead::SafetensorsDtype::kBF16, {4, 3}},
      {"model.norm.weight", lmhead::SafetensorsDtype::kF32, {3}}};
  lmhead::Result<lmhead::SafetensorsLayout> layout =
      lmhead::LayoutSafetensors(tensors, {{"format", "pt"}});
  if (!layout.ok()) return 1;
  Write(dir / "safetensors" / "seed", layout->header_bytes + std::string(36, '\x01'));

  const lmhead::ShardGeometry g = lmhead::SmallShardGeometry();
  lmhead::ShardHeader header =
      lmhead::MakeShardHeader(g, 1, lmhead::ShardSourceDtype::kBF16, 0x1234);
  std::string shard(header.file_bytes, '\x11');
  for (lmhead::ShardBankEntry& bank : header.banks) {
    bank.xxh3 = XXH3_64bits(shard.data() + bank.offset, bank.bytes);
  }
  const std::vector<std::byte> encoded = lmhead::EncodeShardHeader(&header);
  std::memcpy(shard.data(), encoded.data(), encoded.size());
  Write(dir / "shard_file" / "seed", shard);

  lmhead::WeightsManifest manifest;
  manifest.geometry = g;
  manifest.device = "wormhole_b0-galaxy";
  manifest.plan_json = R"({"compat":"seed","mesh":{"shape":[1,2]}})";
  manifest.source_checkpoint = "/ckpt";
  manifest.source_tensor = "lm_head.weight";
  manifest.source_dtype = "BF16";
  manifest.source_shape = {390, 64};
  manifest.source_files = {{"model.safetensors", 1000}};
  for (int64_t device_idx = 0; device_idx < 2; ++device_idx) {
    manifest.shards.push_back({lmhead::ShardFileName(device_idx),
                               device_idx,
                               0,
                               device_idx,
                               header.file_bytes,
                               0x42,
                               device_idx * 200,
                               200,
                               g.ValidCols(device_idx),
                               {96, 96, 8}});
  }
  Write(dir / "manifest" / "seed", lmhead::WeightsManifestToJson(manifest));
  return 0;
}
