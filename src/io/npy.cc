// SPDX-License-Identifier: Apache-2.0
// NumPy .npy reader and writer, plus the whole-file read and atomic write helpers.
#include "lmhead/npy.h"

#include <fmt/format.h>

#include <bit>
#include <cstring>
#include <string>

#include "base/check.h"
#include "io/file_util.h"

namespace lmhead {
namespace {

static_assert(std::endian::native == std::endian::little,
              ".npy data is read in place; a big-endian host would need byte swaps");

constexpr std::string_view kMagic = "\x93NUMPY";
constexpr size_t kPreludeV1 = 10;    // magic, 2 version bytes, u16 header length
constexpr size_t kPreludeV2 = 12;    // magic, 2 version bytes, u32 header length
constexpr size_t kHeaderAlign = 64;  // numpy pads prelude + header to a multiple of 64
// Element bytes above this are refused, so no size arithmetic can overflow.
constexpr uint64_t kMaxDataBytes = uint64_t{1} << 56;

struct DtypeInfo {
  NpyDtype dtype;
  const char* descr;      // As numpy writes it.
  std::string_view code;  // Without the byte-order character.
  size_t bytes;
};
constexpr DtypeInfo kDtypes[] = {
    {NpyDtype::kFloat32, "<f4", "f4", 4}, {NpyDtype::kFloat64, "<f8", "f8", 8},
    {NpyDtype::kUint8, "|u1", "u1", 1},   {NpyDtype::kUint16, "<u2", "u2", 2},
    {NpyDtype::kUint32, "<u4", "u4", 4},  {NpyDtype::kUint64, "<u8", "u8", 8},
    {NpyDtype::kInt8, "|i1", "i1", 1},    {NpyDtype::kInt16, "<i2", "i2", 2},
    {NpyDtype::kInt32, "<i4", "i4", 4},   {NpyDtype::kInt64, "<i8", "i8", 8},
};

const DtypeInfo& Info(NpyDtype dtype) {
  for (const DtypeInfo& info : kDtypes) {
    if (info.dtype == dtype) return info;
  }
  LMHEAD_CHECK(false, "unknown NpyDtype {}", static_cast<int>(dtype));
}

std::string ShapeText(std::span<const int64_t> shape) {
  return fmt::format("({}{})", fmt::join(shape, ", "), shape.size() == 1 ? "," : "");
}

// Bytes of `shape` elements of `item_bytes`, or an error if a dim is negative
// or the total is absurd.
Result<uint64_t> DataBytes(std::span<const int64_t> shape, size_t item_bytes,
                           std::string_view context) {
  uint64_t total = item_bytes;
  for (int64_t dim : shape) {
    if (dim < 0) {
      return Status::InvalidArgument(
          fmt::format("{}: shape {} has a negative dimension; dimensions must be >= 0", context,
                      ShapeText(shape)));
    }
    if (dim != 0 && total > kMaxDataBytes / static_cast<uint64_t>(dim)) {
      return Status::InvalidArgument(fmt::format(
          "{}: shape {} needs more than 2^56 bytes; split the array", context, ShapeText(shape)));
    }
    total *= static_cast<uint64_t>(dim);
  }
  return total;
}

// Reads the header's Python dict literal, e.g.
// {'descr': '<f4', 'fortran_order': False, 'shape': (32, 960), }
// Only the literal forms numpy writes are accepted.
class HeaderParser {
 public:
  HeaderParser(std::string_view text, std::string_view name) : text_(text), name_(name) {}

  Status Parse(std::string& descr, bool& fortran_order, std::vector<int64_t>& shape) {
    bool seen_descr = false, seen_order = false, seen_shape = false;
    LMHEAD_RETURN_IF_ERROR(Expect('{'));
    while (!Peek('}')) {
      LMHEAD_ASSIGN_OR_RETURN(const std::string key, String());
      LMHEAD_RETURN_IF_ERROR(Expect(':'));
      if (key == "descr") {
        LMHEAD_ASSIGN_OR_RETURN(descr, String());
        seen_descr = true;
      } else if (key == "fortran_order") {
        LMHEAD_ASSIGN_OR_RETURN(fortran_order, Bool());
        seen_order = true;
      } else if (key == "shape") {
        LMHEAD_ASSIGN_OR_RETURN(shape, Shape());
        seen_shape = true;
      } else {
        return Error(fmt::format("unexpected key '{}'", key));
      }
      if (!Peek('}')) LMHEAD_RETURN_IF_ERROR(Expect(','));
    }
    if (!seen_descr || !seen_order || !seen_shape) {
      return Error("it lacks one of 'descr', 'fortran_order', 'shape'");
    }
    return Status::Ok();
  }

 private:
  Status Error(std::string_view what) const {
    return Status::Corruption(fmt::format(
        "[ReadNpy] {}: malformed header near offset {} ({}) in \"{}\"; rewrite the file with "
        "numpy.save",
        name_, pos_, what, text_));
  }
  void SkipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n')) ++pos_;
  }
  bool Peek(char c) {
    SkipSpace();
    return pos_ < text_.size() && text_[pos_] == c;
  }
  Status Expect(char c) {
    if (!Peek(c)) return Error(fmt::format("expected '{}'", c));
    ++pos_;
    return Status::Ok();
  }
  Result<std::string> String() {
    SkipSpace();
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"')) {
      return Error("expected a quoted string");
    }
    const char quote = text_[pos_++];
    const size_t end = text_.find(quote, pos_);
    if (end == std::string_view::npos) return Error("unterminated string");
    std::string value(text_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return value;
  }
  Result<bool> Bool() {
    SkipSpace();
    for (const auto& [word, value] : {std::pair{"True", true}, std::pair{"False", false}}) {
      if (text_.substr(pos_).starts_with(word)) {
        pos_ += std::strlen(word);
        return value;
      }
    }
    return Error("expected True or False");
  }
  Result<std::vector<int64_t>> Shape() {
    std::vector<int64_t> dims;
    LMHEAD_RETURN_IF_ERROR(Expect('('));
    while (!Peek(')')) {
      int64_t dim = 0;
      const size_t start = pos_;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
        if (dim > (int64_t{1} << 56)) return Error("dimension too large");
        dim = dim * 10 + (text_[pos_++] - '0');
      }
      if (pos_ == start) return Error("expected a non-negative integer dimension");
      dims.push_back(dim);
      if (!Peek(')')) LMHEAD_RETURN_IF_ERROR(Expect(','));
    }
    ++pos_;
    return dims;
  }

  std::string_view text_;
  std::string_view name_;
  size_t pos_ = 0;
};

Result<NpyDtype> ResolveDescr(std::string_view descr, std::string_view name) {
  const DtypeInfo* found = nullptr;
  if (descr.size() >= 2) {
    for (const DtypeInfo& info : kDtypes) {
      if (descr.substr(1) == info.code) found = &info;
    }
  }
  const char order = descr.empty() ? '?' : descr[0];
  if (found == nullptr || (order != '<' && order != '>' && order != '|' && order != '=')) {
    return Status::NotSupported(fmt::format(
        "[ReadNpy] {}: dtype '{}' is not supported; save float32, float64, uint8/16/32/64 or "
        "int8/16/32/64 (e.g. arr.astype(np.float32))",
        name, descr));
  }
  if (order == '>' && found->bytes > 1) {
    return Status::NotSupported(
        fmt::format("[ReadNpy] {}: dtype '{}' is big-endian; save it little-endian "
                    "(arr.astype(arr.dtype.newbyteorder('<')))",
                    name, descr));
  }
  return found->dtype;
}

std::string HeaderDict(NpyDtype dtype, std::span<const int64_t> shape) {
  return fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}", Info(dtype).descr,
                     ShapeText(shape));
}

}  // namespace

const char* ToString(NpyDtype dtype) { return Info(dtype).descr; }
size_t NpyDtypeBytes(NpyDtype dtype) { return Info(dtype).bytes; }

int64_t NpyArray::NumElements() const {
  int64_t count = 1;
  for (int64_t dim : shape) count *= dim;
  return count;
}

void NpyArray::CheckDtype(NpyDtype expected) const {
  LMHEAD_CHECK(dtype == expected, "array holds {} but was read as {}", ToString(dtype),
               ToString(expected));
}

Result<NpyArray> ParseNpy(std::span<const uint8_t> file, std::string_view name) {
  const auto truncated = [&](std::string_view what) {
    return Status::Corruption(
        fmt::format("[ReadNpy] {}: {} ({} bytes); the file is truncated or not a .npy file", name,
                    what, file.size()));
  };
  if (file.size() < kPreludeV1 ||
      std::string_view(reinterpret_cast<const char*>(file.data()), kMagic.size()) != kMagic) {
    return truncated("no .npy magic \\x93NUMPY at the start");
  }
  const uint8_t major = file[6];
  if (major < 1 || major > 3) {
    return Status::NotSupported(fmt::format(
        "[ReadNpy] {}: .npy format version {}.{} is not supported; use version 1.0, 2.0 or 3.0",
        name, major, file[7]));
  }
  const size_t prelude = major == 1 ? kPreludeV1 : kPreludeV2;
  if (file.size() < prelude) return truncated("the header length is cut off");
  size_t header_len = 0;
  for (size_t byte = 0; byte < prelude - 8; ++byte) {
    header_len |= static_cast<size_t>(file[8 + byte]) << (8 * byte);
  }
  if (file.size() - prelude < header_len) return truncated("the header is cut off");
  const std::string_view header(reinterpret_cast<const char*>(file.data()) + prelude, header_len);

  std::string descr;
  bool fortran_order = false;
  NpyArray array;
  LMHEAD_RETURN_IF_ERROR(HeaderParser(header, name).Parse(descr, fortran_order, array.shape));
  LMHEAD_ASSIGN_OR_RETURN(array.dtype, ResolveDescr(descr, name));
  if (fortran_order && array.shape.size() > 1) {
    return Status::NotSupported(
        fmt::format("[ReadNpy] {}: array is in Fortran order; save it in C order "
                    "(np.save(path, np.ascontiguousarray(arr)))",
                    name));
  }
  const std::string context = fmt::format("[ReadNpy] {}", name);
  LMHEAD_ASSIGN_OR_RETURN(const uint64_t data_bytes,
                          DataBytes(array.shape, NpyDtypeBytes(array.dtype), context));
  const size_t have = file.size() - prelude - header_len;
  if (have != data_bytes) {
    return Status::Corruption(
        fmt::format("[ReadNpy] {}: {} data bytes but shape {} of {} needs {}; the file is {}", name,
                    have, ShapeText(array.shape), descr, data_bytes,
                    have < data_bytes ? "truncated" : "followed by unexpected bytes"));
  }
  array.data.assign(file.end() - static_cast<ptrdiff_t>(have), file.end());
  return array;
}

Result<NpyArray> ReadNpy(const std::string& path) {
  LMHEAD_ASSIGN_OR_RETURN(const std::string file, ReadFileToString(path, kMaxDataBytes));
  return ParseNpy({reinterpret_cast<const uint8_t*>(file.data()), file.size()}, path);
}

Result<std::vector<uint8_t>> EncodeNpy(NpyDtype dtype, std::span<const int64_t> shape,
                                       std::span<const uint8_t> data) {
  LMHEAD_ASSIGN_OR_RETURN(const uint64_t data_bytes,
                          DataBytes(shape, NpyDtypeBytes(dtype), "[EncodeNpy]"));
  if (data.size() != data_bytes) {
    return Status::InvalidArgument(fmt::format(
        "[EncodeNpy] {} data bytes given but shape {} of {} needs {}; pass the whole array",
        data.size(), ShapeText(shape), ToString(dtype), data_bytes));
  }
  std::string header = HeaderDict(dtype, shape);
  const bool v1 = header.size() + 1 + kPreludeV1 <= 65535;  // u16 header length
  const size_t prelude = v1 ? kPreludeV1 : kPreludeV2;
  const size_t padded =
      (prelude + header.size() + 1 + kHeaderAlign - 1) / kHeaderAlign * kHeaderAlign;
  header.append(padded - prelude - header.size() - 1, ' ');
  header.push_back('\n');

  std::vector<uint8_t> file(kMagic.begin(), kMagic.end());
  file.push_back(v1 ? 1 : 2);
  file.push_back(0);
  const auto header_len = static_cast<uint32_t>(header.size());
  for (size_t byte = 0; byte < prelude - kMagic.size() - 2; ++byte) {
    file.push_back(static_cast<uint8_t>(header_len >> (8 * byte)));
  }
  file.insert(file.end(), header.begin(), header.end());
  file.insert(file.end(), data.begin(), data.end());
  return file;
}

Status WriteNpy(const std::string& path, NpyDtype dtype, std::span<const int64_t> shape,
                std::span<const uint8_t> data) {
  LMHEAD_ASSIGN_OR_RETURN(const std::vector<uint8_t> file, EncodeNpy(dtype, shape, data));
  return WriteFileAtomic(path, file);
}

Result<std::vector<uint8_t>> ReadFileBytes(const std::string& path) {
  LMHEAD_ASSIGN_OR_RETURN(const std::string content, ReadFileToString(path, kMaxDataBytes));
  return std::vector<uint8_t>(content.begin(), content.end());
}

Status WriteFileAtomic(const std::string& path, std::span<const uint8_t> bytes) {
  return WriteFileAtomically(
      path, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

}  // namespace lmhead
