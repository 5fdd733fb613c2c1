// SPDX-License-Identifier: Apache-2.0
// Memory mappings: a whole file read-only (with page release for streaming), huge-page buffers.
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

// Owns an anonymous read-write mapping, 2 MiB-aligned and advised for
// transparent huge pages (MADV_HUGEPAGE; best effort). For large buffers that
// every call streams, such as weights repacked at load time: with 4 KiB pages
// a stream takes a TLB miss every 4 KiB. Move-only; zero-filled.
class HugePageBuffer {
 public:
  // IOError (naming the size) when the mapping cannot be made.
  static Result<HugePageBuffer> Allocate(size_t bytes);

  HugePageBuffer() = default;
  HugePageBuffer(HugePageBuffer&& other) noexcept;
  HugePageBuffer& operator=(HugePageBuffer&& other) noexcept;
  HugePageBuffer(const HugePageBuffer&) = delete;
  HugePageBuffer& operator=(const HugePageBuffer&) = delete;
  ~HugePageBuffer();

  uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  void* mapping_ = nullptr;  // what munmap takes: the mapping before alignment
  size_t mapping_bytes_ = 0;
  uint8_t* data_ = nullptr;
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
