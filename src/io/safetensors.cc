// SPDX-License-Identifier: Apache-2.0
// safetensors header validation and the mapped SafetensorsFile.
#include "lmhead/safetensors.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <nlohmann/json.hpp>
#include <utility>

#include "io/mapped_file.h"

namespace lmhead {
namespace {

using Json = nlohmann::json;

struct DtypeEntry {
  SafetensorsDtype dtype;
  const char* name;
  int bytes;
};

// Every whole-byte dtype of the safetensors specification.
constexpr std::array<DtypeEntry, 16> kDtypes = {{
    {SafetensorsDtype::kBool, "BOOL", 1},
    {SafetensorsDtype::kU8, "U8", 1},
    {SafetensorsDtype::kI8, "I8", 1},
    {SafetensorsDtype::kF8_E5M2, "F8_E5M2", 1},
    {SafetensorsDtype::kF8_E4M3, "F8_E4M3", 1},
    {SafetensorsDtype::kF8_E8M0, "F8_E8M0", 1},
    {SafetensorsDtype::kI16, "I16", 2},
    {SafetensorsDtype::kU16, "U16", 2},
    {SafetensorsDtype::kF16, "F16", 2},
    {SafetensorsDtype::kBF16, "BF16", 2},
    {SafetensorsDtype::kI32, "I32", 4},
    {SafetensorsDtype::kU32, "U32", 4},
    {SafetensorsDtype::kF32, "F32", 4},
    {SafetensorsDtype::kF64, "F64", 8},
    {SafetensorsDtype::kI64, "I64", 8},
    {SafetensorsDtype::kU64, "U64", 8},
}};

const DtypeEntry& Entry(SafetensorsDtype dtype) {
  for (const DtypeEntry& entry : kDtypes) {
    if (entry.dtype == dtype) return entry;
  }
  return kDtypes[0];  // Unreachable: the table covers the enum.
}

uint64_t ReadLe64(const std::byte* p) {
  uint64_t value = 0;
  for (int byte_idx = 7; byte_idx >= 0; --byte_idx) {
    value = (value << 8) | static_cast<uint64_t>(p[byte_idx]);
  }
  return value;
}

// JSON text for messages; never throws (invalid UTF-8 is replaced).
std::string Dump(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// Reads a JSON unsigned integer; false for negatives, floats and other types.
bool GetUnsigned(const Json& value, uint64_t* out) {
  if (!value.is_number_unsigned()) return false;
  *out = value.get<uint64_t>();
  return true;
}

Result<SafetensorsTensorInfo> ParseTensorEntry(const std::string& name, const Json& value,
                                               uint64_t data_bytes, std::string_view what) {
  const std::string where = fmt::format("[Safetensors] {}: tensor '{}'", what, name);
  if (!value.is_object())
    return Status::Corruption(where + " is not a JSON object; the header is corrupted");
  const auto dtype_it = value.find("dtype");
  const auto shape_it = value.find("shape");
  const auto offsets_it = value.find("data_offsets");
  if (dtype_it == value.end() || shape_it == value.end() || offsets_it == value.end()) {
    return Status::Corruption(where + " lacks one of dtype, shape, data_offsets");
  }
  if (!dtype_it->is_string()) return Status::Corruption(where + " has a non-string dtype");
  SafetensorsTensorInfo info;
  info.name = name;
  Result<SafetensorsDtype> dtype = ParseSafetensorsDtype(dtype_it->get_ref<const std::string&>());
  if (!dtype.ok()) return Status::Corruption(where + ": " + dtype.status().message());
  info.dtype = *dtype;
  if (!shape_it->is_array()) return Status::Corruption(where + " has a non-array shape");
  uint64_t num_elements = 1;
  for (const Json& dim : *shape_it) {
    uint64_t extent = 0;
    if (!GetUnsigned(dim, &extent) || extent > (uint64_t{1} << 62)) {
      return Status::Corruption(fmt::format(
          "{} has shape entry {} that is not a non-negative integer", where, Dump(dim)));
    }
    if (__builtin_mul_overflow(num_elements, extent, &num_elements)) {
      return Status::Corruption(
          fmt::format("{}: shape {} overflows 64 bits", where, Dump(*shape_it)));
    }
    info.shape.push_back(static_cast<int64_t>(extent));
  }
  if (!offsets_it->is_array() || offsets_it->size() != 2 ||
      !GetUnsigned((*offsets_it)[0], &info.begin) || !GetUnsigned((*offsets_it)[1], &info.end)) {
    return Status::Corruption(
        fmt::format("{} has data_offsets {} (want [begin, end])", where, Dump(*offsets_it)));
  }
  if (info.begin > info.end || info.end > data_bytes) {
    return Status::Corruption(fmt::format(
        "{} has data_offsets [{}, {}] outside the data region of {} bytes; the file is truncated "
        "or corrupted",
        where, info.begin, info.end, data_bytes));
  }
  uint64_t want_bytes = 0;
  if (__builtin_mul_overflow(num_elements, static_cast<uint64_t>(DtypeBytes(info.dtype)),
                             &want_bytes) ||
      want_bytes != info.end - info.begin) {
    return Status::Corruption(
        fmt::format("{}: {} x {} elements of {} need {} bytes but data_offsets [{}, {}] span {}",
                    where, Dump(*shape_it), num_elements, ToString(info.dtype), want_bytes,
                    info.begin, info.end, info.end - info.begin));
  }
  return info;
}

// HF's reader demands that the tensors tile the data region exactly: no
// overlap, no gap, nothing after the last one.
Status CheckTiling(std::vector<SafetensorsTensorInfo>& tensors, uint64_t data_bytes,
                   std::string_view what) {
  std::sort(tensors.begin(), tensors.end(), [](const auto& a, const auto& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t expected = 0;
  const SafetensorsTensorInfo* previous = nullptr;
  for (const SafetensorsTensorInfo& info : tensors) {
    if (info.begin < expected) {
      return Status::Corruption(fmt::format(
          "[Safetensors] {}: tensor '{}' [{}, {}) overlaps tensor '{}' [{}, {}); the header is "
          "corrupted",
          what, info.name, info.begin, info.end, previous->name, previous->begin, previous->end));
    }
    if (info.begin > expected) {
      return Status::Corruption(fmt::format(
          "[Safetensors] {}: {} unused bytes before tensor '{}' at data offset {}; the header is "
          "corrupted",
          what, info.begin - expected, info.name, info.begin));
    }
    expected = info.end;
    previous = &info;
  }
  if (expected != data_bytes) {
    return Status::Corruption(fmt::format(
        "[Safetensors] {}: tensors end at data offset {} but the data region has {} bytes; the "
        "file was truncated or appended to",
        what, expected, data_bytes));
  }
  return Status::Ok();
}

Status ParseMetadata(const Json& value, std::string_view what,
                     std::map<std::string, std::string>* metadata) {
  if (!value.is_object()) {
    return Status::Corruption(
        fmt::format("[Safetensors] {}: __metadata__ is not an object of strings", what));
  }
  for (const auto& [key, entry] : value.items()) {
    if (!entry.is_string()) {
      return Status::Corruption(
          fmt::format("[Safetensors] {}: __metadata__ entry '{}' is not a string", what, key));
    }
    (*metadata)[key] = entry.get<std::string>();
  }
  return Status::Ok();
}

}  // namespace

const char* ToString(SafetensorsDtype dtype) { return Entry(dtype).name; }

int DtypeBytes(SafetensorsDtype dtype) { return Entry(dtype).bytes; }

Result<SafetensorsDtype> ParseSafetensorsDtype(std::string_view text) {
  for (const DtypeEntry& entry : kDtypes) {
    if (text == entry.name) return entry.dtype;
  }
  return Status::NotSupported(fmt::format(
      "[Safetensors] unknown dtype '{}'; lmhead reads BOOL, U8, I8, F8_*, I16, U16, F16, BF16, "
      "I32, U32, F32, F64, I64, U64",
      text));
}

Result<SafetensorsHeader> ParseSafetensorsHeader(std::span<const std::byte> prefix,
                                                 uint64_t file_bytes, std::string_view what) {
  if (file_bytes < 8 || prefix.size() < 8) {
    return Status::Corruption(fmt::format(
        "[Safetensors] {}: file has {} bytes, fewer than the 8-byte header length; it is "
        "truncated or not a safetensors file",
        what, file_bytes));
  }
  const uint64_t header_len = ReadLe64(prefix.data());
  if (header_len > kMaxSafetensorsHeaderBytes) {
    return Status::Corruption(fmt::format(
        "[Safetensors] {}: header length {} exceeds the {}-byte limit; the file is corrupted or "
        "not a safetensors file",
        what, header_len, kMaxSafetensorsHeaderBytes));
  }
  if (header_len > file_bytes - 8) {
    return Status::Corruption(fmt::format(
        "[Safetensors] {}: header length {} runs past the end of the {}-byte file; the file is "
        "truncated",
        what, header_len, file_bytes));
  }
  if (prefix.size() < 8 + header_len) {
    return Status::InvalidArgument(fmt::format("[Safetensors] {}: {} header bytes given, {} needed",
                                               what, prefix.size(), 8 + header_len));
  }
  const char* text = reinterpret_cast<const char*>(prefix.data() + 8);
  const Json json = Json::parse(text, text + header_len, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    return Status::Corruption(fmt::format(
        "[Safetensors] {}: the {}-byte header is not a well-formed JSON object; the file is "
        "corrupted",
        what, header_len));
  }
  SafetensorsHeader header;
  header.data_offset = 8 + header_len;
  header.data_bytes = file_bytes - header.data_offset;
  for (const auto& [name, value] : json.items()) {
    if (name == "__metadata__") {
      LMHEAD_RETURN_IF_ERROR(ParseMetadata(value, what, &header.metadata));
      continue;
    }
    LMHEAD_ASSIGN_OR_RETURN(SafetensorsTensorInfo info,
                            ParseTensorEntry(name, value, header.data_bytes, what));
    header.tensors.push_back(std::move(info));
  }
  LMHEAD_RETURN_IF_ERROR(CheckTiling(header.tensors, header.data_bytes, what));
  std::sort(header.tensors.begin(), header.tensors.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  return header;
}

uint64_t TensorView::num_elements() const {
  uint64_t count = 1;
  for (int64_t extent : info->shape) count *= static_cast<uint64_t>(extent);
  return count;
}

struct SafetensorsFile::Impl {
  MappedFile mapping;
  SafetensorsHeader header;
};

SafetensorsFile::SafetensorsFile(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SafetensorsFile::SafetensorsFile(SafetensorsFile&&) noexcept = default;
SafetensorsFile& SafetensorsFile::operator=(SafetensorsFile&&) noexcept = default;
SafetensorsFile::~SafetensorsFile() = default;

Result<SafetensorsFile> SafetensorsFile::Open(const std::string& path) {
  auto impl = std::make_unique<Impl>();
  LMHEAD_ASSIGN_OR_RETURN(impl->mapping, MappedFile::Open(path));
  const std::span<const std::byte> bytes = impl->mapping.bytes();
  LMHEAD_ASSIGN_OR_RETURN(impl->header, ParseSafetensorsHeader(bytes, bytes.size(), path));
  return SafetensorsFile(std::move(impl));
}

const std::string& SafetensorsFile::path() const { return impl_->mapping.path(); }
uint64_t SafetensorsFile::file_bytes() const { return impl_->mapping.bytes().size(); }
const SafetensorsHeader& SafetensorsFile::header() const { return impl_->header; }

Result<TensorView> SafetensorsFile::Find(std::string_view name) const {
  const auto& tensors = impl_->header.tensors;
  const auto it =
      std::lower_bound(tensors.begin(), tensors.end(), name,
                       [](const auto& info, std::string_view key) { return info.name < key; });
  if (it == tensors.end() || it->name != name) {
    std::vector<std::string> names;
    for (const auto& info : tensors) names.push_back(info.name);
    return Status::NotFound(fmt::format("[Safetensors] {} has no tensor '{}'; it holds {}", path(),
                                        name, DescribeTensorNames(names, 20)));
  }
  TensorView view;
  view.info = &*it;
  view.data = impl_->mapping.bytes().data() + impl_->header.data_offset + it->begin;
  return view;
}

}  // namespace lmhead
