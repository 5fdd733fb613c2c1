// SPDX-License-Identifier: Apache-2.0
// HuggingFace safetensors checkpoints: validated, memory-mapped, typed views.
//
// Design goals:
//  - Validate everything before handing out a pointer: header length bounds,
//    well-formed JSON, each tensor's dtype/shape/offsets consistent and inside
//    the file, tensors neither overlapping nor leaving gaps (as the HF reader
//    requires). A bad file returns Status::Corruption naming the file and the
//    value; nothing aborts or throws.
//  - Zero copy: a TensorView points into the read-only mapping.
//  - Sharded checkpoints through `model.safetensors.index.json` ("weight_map"),
//    opening only the file that holds the requested tensor.
// Non-goals: writing checkpoints (see SafetensorsLayout for the header half of
// that) and dtype conversion, which belongs to the formats layer.
#ifndef LMHEAD_SAFETENSORS_H_
#define LMHEAD_SAFETENSORS_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lmhead/status.h"

namespace lmhead {

// The dtypes of the safetensors specification that have a whole-byte size.
enum class SafetensorsDtype {
  kBool,
  kU8,
  kI8,
  kF8_E5M2,
  kF8_E4M3,
  kF8_E8M0,
  kI16,
  kU16,
  kF16,
  kBF16,
  kI32,
  kU32,
  kF32,
  kF64,
  kI64,
  kU64,
};

// The spelling used in safetensors headers: "BF16", "F8_E4M3", ...
const char* ToString(SafetensorsDtype dtype);
// Bytes per element (1, 2, 4 or 8).
int DtypeBytes(SafetensorsDtype dtype);
// Parses a header spelling; NotSupported names `text` when unknown.
Result<SafetensorsDtype> ParseSafetensorsDtype(std::string_view text);

// One tensor of a parsed header. Offsets are relative to the data region, as
// in the file; `data_offset` of the header turns them into file offsets.
struct SafetensorsTensorInfo {
  std::string name;
  SafetensorsDtype dtype = SafetensorsDtype::kU8;
  std::vector<int64_t> shape;
  uint64_t begin = 0;  // First byte, relative to the data region.
  uint64_t end = 0;    // One past the last byte.
};

// A validated header: tensors sorted by name, plus the free-form metadata.
struct SafetensorsHeader {
  uint64_t data_offset = 0;  // File offset of the data region (8 + header length).
  uint64_t data_bytes = 0;   // Size of the data region.
  std::vector<SafetensorsTensorInfo> tensors;
  std::map<std::string, std::string> metadata;  // "__metadata__", if present.
};

// The header may not exceed this (the HF reader's own limit is 100 MB).
inline constexpr uint64_t kMaxSafetensorsHeaderBytes = 100'000'000;

// Validates the first bytes of a file of `file_bytes` bytes; `prefix` holds at
// least min(file_bytes, 8 + header length) bytes. `what` names the file in
// messages. Returns Corruption for anything malformed.
Result<SafetensorsHeader> ParseSafetensorsHeader(std::span<const std::byte> prefix,
                                                 uint64_t file_bytes, std::string_view what);

// A typed view of one tensor inside a mapped file. Valid while its file lives.
struct TensorView {
  const SafetensorsTensorInfo* info = nullptr;
  const std::byte* data = nullptr;  // Little-endian elements, row-major.
  uint64_t num_elements() const;
  uint64_t num_bytes() const { return info->end - info->begin; }
};

// One memory-mapped .safetensors file. Move-only; the mapping lives as long as
// the object. Thread-safe: all const methods may be called concurrently.
class SafetensorsFile {
 public:
  // Maps `path` read-only and validates its header. NotFound/IOError when the
  // file cannot be opened or mapped, Corruption when its bytes are malformed.
  static Result<SafetensorsFile> Open(const std::string& path);

  SafetensorsFile(SafetensorsFile&&) noexcept;
  SafetensorsFile& operator=(SafetensorsFile&&) noexcept;
  ~SafetensorsFile();

  const std::string& path() const;
  uint64_t file_bytes() const;
  const SafetensorsHeader& header() const;
  // NotFound naming the tensor and listing the names present.
  Result<TensorView> Find(std::string_view name) const;

 private:
  struct Impl;
  explicit SafetensorsFile(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A tensor found in a checkpoint together with the file that keeps it mapped.
struct CheckpointTensor {
  std::shared_ptr<const SafetensorsFile> file;
  TensorView view;
};

// A checkpoint: a directory holding `model.safetensors.index.json` (sharded
// form), or one or more `*.safetensors` files, or a single .safetensors path.
// Thread-compatible.
class Checkpoint {
 public:
  // Reads the index (if any) or the headers of the files. NotFound when the
  // path holds no safetensors file; Corruption for a malformed index.
  static Result<Checkpoint> Open(const std::string& path);

  // The directory (or the file's directory).
  const std::string& dir() const { return dir_; }
  // True for the `model.safetensors.index.json` form.
  bool indexed() const { return indexed_; }
  // Every tensor name, sorted.
  std::vector<std::string> TensorNames() const;
  // File names (relative to dir()) that hold tensors, sorted.
  std::vector<std::string> FileNames() const;
  bool Contains(std::string_view name) const;
  // Opens the file holding `name` and returns its view. NotFound names the
  // tensor and lists (a sample of) the names present.
  Result<CheckpointTensor> Load(std::string_view name) const;
  // Opens and returns every file of the checkpoint, in FileNames() order.
  Result<std::vector<std::shared_ptr<const SafetensorsFile>>> OpenAll() const;

 private:
  std::string dir_;
  bool indexed_ = false;
  std::map<std::string, std::string, std::less<>> weight_map_;  // tensor -> file
};

// Formats "NotFound" text for a missing tensor: the names present (at most
// `max_names`, preferring those that look like heads or embeddings).
std::string DescribeTensorNames(const std::vector<std::string>& names, size_t max_names);

// The header half of writing a safetensors file: tensors are laid out in the
// given order, the JSON is space-padded so the data region starts 8-aligned.
struct SafetensorsTensorSpec {
  std::string name;
  SafetensorsDtype dtype = SafetensorsDtype::kBF16;
  std::vector<int64_t> shape;
};
struct SafetensorsLayout {
  std::string header_bytes;            // 8-byte length + JSON + padding.
  std::vector<uint64_t> file_offsets;  // Where each tensor's data starts in the file.
  uint64_t file_bytes = 0;
};
// InvalidArgument for duplicate names, negative dims or sizes that overflow.
Result<SafetensorsLayout> LayoutSafetensors(std::span<const SafetensorsTensorSpec> tensors,
                                            const std::map<std::string, std::string>& metadata);

}  // namespace lmhead

#endif  // LMHEAD_SAFETENSORS_H_
