// SPDX-License-Identifier: Apache-2.0
// Stage 1: synthetic checkpoints, and HF checkpoint -> per-device shard files.
//
// Design goals:
//  - Full DeepSeek-V3 size (129280 x 7168) with bounded memory: the source is
//    mapped and streamed, one (device, DRAM bank) at a time, with the pages it
//    is done with released; peak RSS stays far below the 1.85 GB tensor.
//  - Deterministic: the same inputs give the same bytes, on any thread count.
//  - Atomic and re-runnable: every file goes through temp + rename, the
//    manifest is removed first and written last, and a re-run reuses shards
//    whose header and checksums match the inputs (docs/shard_format.md).
// Non-goals: other tensors than the LM head; layouts other than TTNN's
// DRAM width-sharded weight of spec ttnn-lmhead.md §3.13.
#ifndef LMHEAD_CONVERT_H_
#define LMHEAD_CONVERT_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "lmhead/formats.h"
#include "lmhead/plan.h"
#include "lmhead/safetensors.h"
#include "lmhead/status.h"
#include "lmhead/threads.h"

namespace lmhead {

// ---------------------------------------------------------------------------
// lmhead synth

struct SynthOptions {
  std::string out_dir;                               // Created if missing.
  ModelDims model;                                   // hidden_size x vocab_size of the head.
  SafetensorsDtype dtype = SafetensorsDtype::kBF16;  // BF16, F16 or F32.
  uint64_t seed = 0;
  // Store the head as `model.embed_tokens.weight` and set tie_word_embeddings.
  bool tied_embedding = false;
  // 1 writes model.safetensors; N > 1 writes N files plus
  // model.safetensors.index.json, the head in one of them, small dummy
  // tensors in the rest (the layout of real DeepSeek-V3 checkpoints).
  int num_shards = 1;
  int num_threads = 0;  // 0: one per CPU this process may run on; at most kMaxThreads.
};

struct SynthReport {
  std::string tensor_name;         // "lm_head.weight" or "model.embed_tokens.weight".
  std::string head_file;           // The file holding it, relative to out_dir.
  std::vector<std::string> files;  // Written, relative to out_dir, config.json last.
  uint64_t head_bytes = 0;
  double seconds = 0;
};

// Writes out_dir/config.json and the safetensors file(s). The head's values
// look trained: log-normal per-row scales, a heavy-tailed (scale-mixture)
// element distribution and a few outlier hidden columns; each element is a
// pure function of (seed, row, column). InvalidArgument for bad options,
// IOError when a file cannot be written (nothing partial is left behind).
Result<SynthReport> SynthesizeCheckpoint(const SynthOptions& options);

// The fp32 value synth writes at [row, col] before rounding to the dtype:
// the specification of the generator, exposed for tests.
float SynthValue(uint64_t seed, int64_t hidden_size, int64_t row, int64_t col);

// ---------------------------------------------------------------------------
// lmhead convert

struct ConvertProgress {
  int64_t units_done = 0;  // (device, bank) pieces finished, reused ones included.
  int64_t units_total = 0;
  int num_devices = 0;
  int devices_reused = 0;  // Shards found valid and kept.
  uint64_t bytes_written = 0;
};
using ConvertProgressFn = std::function<void(const ConvertProgress&)>;

struct ConvertOptions {
  std::string checkpoint;  // A checkpoint directory (or one .safetensors file).
  std::string out_dir;     // Created if missing.
  MeshShape mesh;
  std::string device = std::string(kDefaultDevicePreset);
  // Empty: "lm_head.weight", or "model.embed_tokens.weight" when config.json
  // says tie_word_embeddings and the checkpoint has no lm_head.weight.
  std::string tensor;
  TileFormat format = TileFormat::kBfp4b;
  // Pad the vocabulary with zero columns to the next multiple of D,
  // SuggestPaddedVocab(V, D, 1), when D does not divide it (recorded in the
  // shard headers and the manifest; the engine never lets them win).
  bool pad_vocab = false;
  int num_threads = 0;  // 0: one per CPU this process may run on; at most kMaxThreads.
  // Called from one thread at a time, roughly every finished piece.
  ConvertProgressFn progress;
};

struct ConvertReport {
  std::string manifest_path;
  std::string tensor_name;
  int num_devices = 0;
  int shards_reused = 0;
  int shards_written = 0;
  uint64_t bytes_written = 0;
  int64_t pad_vocab_cols = 0;
  double seconds = 0;
};

// Converts the checkpoint's head [V, H] into out_dir/device_NNN.shard and
// out_dir/manifest.json for `mesh` of `device`s. Errors (nothing half-written
// is left): NotFound for a missing tensor (listing the names present);
// InvalidArgument for a shape that is not [vocab_size, hidden_size] of
// config.json, an unsupported dtype, a vocabulary the mesh does not divide
// (naming the padded size and --pad-vocab), or a NaN/Inf (naming its row and
// column); Corruption for malformed files; IOError for write failures such as
// a full disk.
Result<ConvertReport> ConvertCheckpoint(const ConvertOptions& options);

}  // namespace lmhead

#endif  // LMHEAD_CONVERT_H_
