// SPDX-License-Identifier: Apache-2.0
// Read-only memory mapping of a whole file, with page release for streaming.
#ifndef LMHEAD_IO_MAPPED_FILE_H_
#define LMHEAD_IO_MAPPED_FILE_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "lmhead/status.h"

namespace lmhead {

// Owns one read-only MAP_SHARED mapping of a file. Move-only.
// Thread-safe: the bytes are immutable; Release may be called concurrently.
class MappedFile {
 public:
  // Maps `path`. NotFound when it does not exist, IOError when it cannot be
  // opened or mapped. An empty file maps to an empty span.
  static Result<MappedFile> Open(const std::string& path);

  MappedFile() = default;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  std::span<const std::byte> bytes() const { return {data_, size_}; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  const std::byte* data_ = nullptr;
  size_t size_ = 0;
};

// Drops the pages of [p, p + bytes) from this process's resident set (they stay
// in the page cache). Streaming readers call it on ranges they are done with so
// that peak RSS stays bounded while a multi-GB mapping is read once.
void ReleaseMappedPages(const void* p, size_t bytes);

// Asks the kernel to start reading [p, p + bytes) in, ahead of use.
void PrefetchMappedPages(const void* p, size_t bytes);

}  // namespace lmhead

#endif  // LMHEAD_IO_MAPPED_FILE_H_
