// SPDX-License-Identifier: Apache-2.0
// MappedFile and HugePageBuffer: mmap/munmap and madvise wrappers.
#include "io/mapped_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace lmhead {
namespace {

// Page size for rounding madvise ranges inward: advice on a partial page would
// drop bytes a neighbouring range still needs.
uintptr_t PageBytes() {
  static const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  return page;
}

}  // namespace

Result<MappedFile> MappedFile::Open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    std::string msg =
        fmt::format("[MappedFile] cannot open {} ({}); check the path and permissions", path,
                    std::strerror(err));
    return err == ENOENT ? Status::NotFound(msg) : Status::IOError(msg);
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::IOError(
        fmt::format("[MappedFile] {} is not a regular file; pass a file path", path));
  }
  MappedFile file;
  file.path_ = path;
  file.size_ = static_cast<size_t>(st.st_size);
  if (file.size_ > 0) {
    void* p = ::mmap(nullptr, file.size_, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      return Status::IOError(fmt::format("[MappedFile] cannot map {} ({} bytes): {}", path,
                                         file.size_, std::strerror(err)));
    }
    file.data_ = static_cast<const std::byte*>(p);
  }
  ::close(fd);  // The mapping keeps the file alive.
  return file;
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : path_(std::move(other.path_)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) ::munmap(const_cast<std::byte*>(data_), size_);
    path_ = std::move(other.path_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<std::byte*>(data_), size_);
}

Result<HugePageBuffer> HugePageBuffer::Allocate(size_t bytes) {
  constexpr size_t kHugePage = size_t{2} << 20;
  HugePageBuffer buffer;
  if (bytes == 0) return buffer;
  const size_t rounded = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  // One huge page extra, so that an aligned start always fits.
  buffer.mapping_bytes_ = rounded + kHugePage;
  void* p = ::mmap(nullptr, buffer.mapping_bytes_, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    const int err = errno;
    return Status::IOError(fmt::format(
        "[HugePageBuffer] cannot map {} bytes of memory: {}; free memory or use fewer devices "
        "per process",
        buffer.mapping_bytes_, std::strerror(err)));
  }
  buffer.mapping_ = p;
  const uintptr_t aligned =
      (reinterpret_cast<uintptr_t>(p) + kHugePage - 1) / kHugePage * kHugePage;
  buffer.data_ = reinterpret_cast<uint8_t*>(aligned);
  buffer.size_ = bytes;
  // Advice is best effort: without it the buffer works on 4 KiB pages.
  ::madvise(buffer.data_, rounded, MADV_HUGEPAGE);
  return buffer;
}

HugePageBuffer::HugePageBuffer(HugePageBuffer&& other) noexcept
    : mapping_(std::exchange(other.mapping_, nullptr)),
      mapping_bytes_(std::exchange(other.mapping_bytes_, 0)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

HugePageBuffer& HugePageBuffer::operator=(HugePageBuffer&& other) noexcept {
  if (this != &other) {
    if (mapping_ != nullptr) ::munmap(mapping_, mapping_bytes_);
    mapping_ = std::exchange(other.mapping_, nullptr);
    mapping_bytes_ = std::exchange(other.mapping_bytes_, 0);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

HugePageBuffer::~HugePageBuffer() {
  if (mapping_ != nullptr) ::munmap(mapping_, mapping_bytes_);
}

void ReleaseMappedPages(const void* p, size_t bytes) {
  const uintptr_t page = PageBytes();
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(p) + page - 1) / page * page;
  const uintptr_t end = (reinterpret_cast<uintptr_t>(p) + bytes) / page * page;
  // Advice is best effort: failure only means the pages stay resident longer.
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

void PrefetchMappedPages(const void* p, size_t bytes) {
  const uintptr_t page = PageBytes();
  const uintptr_t begin = reinterpret_cast<uintptr_t>(p) / page * page;
  const uintptr_t end = reinterpret_cast<uintptr_t>(p) + bytes;
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_WILLNEED);
}

}  // namespace lmhead
