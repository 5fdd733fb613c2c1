// SPDX-License-Identifier: Apache-2.0
// File helpers: POSIX I/O with every error checked and named.
#include "io/file_util.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <utility>

namespace lmhead {
namespace {

constexpr std::string_view kTempMarker = ".tmp-";

std::string ErrnoText(int err) {
  std::string text = std::strerror(err);
  if (err == ENOSPC || err == EDQUOT)
    text += "; the disk is full: free space or choose another output";
  if (err == EFBIG) text += "; the file size limit (ulimit -f) is too small";
  return text;
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

Result<std::string> ReadFileToString(const std::string& path, uint64_t max_bytes) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    const int err = errno;
    std::string msg = fmt::format("[ReadFile] cannot open {}: {}", path, std::strerror(err));
    return err == ENOENT ? Status::NotFound(msg) : Status::IOError(msg);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return Status::IOError(fmt::format("[ReadFile] {} is not a regular file", path));
  }
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    return Status::InvalidArgument(fmt::format(
        "[ReadFile] {} has {} bytes, more than the {} allowed", path, st.st_size, max_bytes));
  }
  std::string content(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::read(fd.get(), content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return Status::IOError(fmt::format("[ReadFile] reading {} failed at byte {}: {}", path, done,
                                         n == 0 ? "unexpected end of file" : std::strerror(errno)));
    }
    done += static_cast<size_t>(n);
  }
  return content;
}

Result<uint64_t> FileBytes(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    std::string msg = fmt::format("[FileBytes] cannot stat {}: {}", path, std::strerror(err));
    return err == ENOENT ? Status::NotFound(msg) : Status::IOError(msg);
  }
  return static_cast<uint64_t>(st.st_size);
}

Result<uint64_t> HashFileXxh3(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    const int err = errno;
    std::string msg = fmt::format("[HashFile] cannot open {}: {}", path, std::strerror(err));
    return err == ENOENT ? Status::NotFound(msg) : Status::IOError(msg);
  }
  std::unique_ptr<XXH3_state_t, decltype(&XXH3_freeState)> state(XXH3_createState(),
                                                                 &XXH3_freeState);
  XXH3_64bits_reset(state.get());
  // 4 MiB chunks: large enough to amortise syscalls, small next to the data.
  constexpr size_t kChunkBytes = size_t{4} << 20;
  std::unique_ptr<char[]> buffer(new char[kChunkBytes]);
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer.get(), kChunkBytes);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return Status::IOError(
          fmt::format("[HashFile] reading {} failed: {}", path, ErrnoText(errno)));
    }
    if (n == 0) break;
    XXH3_64bits_update(state.get(), buffer.get(), static_cast<size_t>(n));
  }
  return static_cast<uint64_t>(XXH3_64bits_digest(state.get()));
}

std::string HexU64(uint64_t value) { return fmt::format("{:016x}", value); }

bool ParseHexU64(std::string_view text, uint64_t* value) {
  if (text.size() != 16) return false;
  uint64_t result = 0;
  for (char c : text) {
    int digit = 0;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else {
      return false;
    }
    result = (result << 4) | static_cast<uint64_t>(digit);
  }
  *value = result;
  return true;
}

TempFile::TempFile(std::string final_path, std::string temp_path, int fd)
    : final_path_(std::move(final_path)),
      temp_path_(std::move(temp_path)),
      fd_(fd),
      exists_(true) {}

TempFile::TempFile(TempFile&& other) noexcept
    : final_path_(std::move(other.final_path_)),
      temp_path_(std::move(other.temp_path_)),
      fd_(std::exchange(other.fd_, -1)),
      exists_(std::exchange(other.exists_, false)) {}

TempFile& TempFile::operator=(TempFile&& other) noexcept {
  if (this != &other) {
    Discard();
    final_path_ = std::move(other.final_path_);
    temp_path_ = std::move(other.temp_path_);
    fd_ = std::exchange(other.fd_, -1);
    exists_ = std::exchange(other.exists_, false);
  }
  return *this;
}

TempFile::~TempFile() { Discard(); }

void TempFile::Discard() {
  if (fd_ >= 0) ::close(std::exchange(fd_, -1));
  if (exists_) ::unlink(temp_path_.c_str());
  exists_ = false;
}

Result<TempFile> TempFile::Create(const std::string& final_path) {
  static std::atomic<uint64_t> counter{0};
  const std::string temp_path =
      fmt::format("{}{}{}-{}", final_path, kTempMarker, ::getpid(), counter.fetch_add(1));
  const int fd = ::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Status::IOError(
        fmt::format("[TempFile] cannot create {}: {}; check that the directory "
                    "exists and is writable",
                    temp_path, ErrnoText(errno)));
  }
  return TempFile(final_path, temp_path, fd);
}

Status TempFile::Reserve(uint64_t bytes) {
  if (bytes == 0) return Status::Ok();
  const int err = ::posix_fallocate(fd_, 0, static_cast<off_t>(bytes));
  if (err == 0 || err == EOPNOTSUPP || err == EINVAL) return Status::Ok();
  return Status::IOError(fmt::format("[TempFile] cannot reserve {} bytes for {}: {}", bytes,
                                     final_path_, ErrnoText(err)));
}

Status TempFile::WriteAt(uint64_t offset, std::span<const std::byte> data) const {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n =
        ::pwrite(fd_, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n == 0 ? ENOSPC : errno;
      return Status::IOError(fmt::format("[TempFile] writing {} failed at offset {}: {}",
                                         final_path_, offset + done, ErrnoText(err)));
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status TempFile::Sync() {
  if (fd_ < 0) return Status::Ok();
  const int fd = std::exchange(fd_, -1);
  const bool synced = ::fdatasync(fd) == 0;
  const int sync_err = errno;
  const bool closed = ::close(fd) == 0;
  if (!synced || !closed) {
    const int err = synced ? errno : sync_err;
    Discard();
    return Status::IOError(
        fmt::format("[TempFile] flushing {} failed: {}", final_path_, ErrnoText(err)));
  }
  return Status::Ok();
}

Status TempFile::Commit() {
  LMHEAD_RETURN_IF_ERROR(Sync());
  if (!exists_) {
    return Status::Internal(
        fmt::format("[TempFile] {} was already committed or discarded", final_path_));
  }
  if (::rename(temp_path_.c_str(), final_path_.c_str()) != 0) {
    const int err = errno;
    Discard();
    return Status::IOError(fmt::format("[TempFile] renaming {} to {} failed: {}", temp_path_,
                                       final_path_, std::strerror(err)));
  }
  exists_ = false;
  return Status::Ok();
}

Result<OutputDirectory> OutputDirectory::Create(const std::string& path, std::string_view what) {
  OutputDirectory dir;
  std::error_code ec;
  // The missing directories, from `path` up to the first that exists.
  for (std::filesystem::path p = std::filesystem::absolute(path, ec);
       !ec && !p.empty() && !std::filesystem::exists(p, ec); p = p.parent_path()) {
    dir.created_.insert(dir.created_.begin(), p.string());
    if (p == p.parent_path()) break;
  }
  std::filesystem::create_directories(path, ec);
  if (ec) {
    return Status::IOError(fmt::format("{} cannot create {}: {}; pass a directory you may write",
                                       what, path, ec.message()));
  }
  return dir;
}

OutputDirectory::OutputDirectory(OutputDirectory&& other) noexcept
    : created_(std::move(other.created_)) {
  other.created_.clear();
}

OutputDirectory::~OutputDirectory() {
  std::error_code ec;
  // Deepest first; remove() refuses a directory that is not empty.
  for (auto it = created_.rbegin(); it != created_.rend(); ++it) {
    if (!std::filesystem::is_empty(*it, ec) || ec) return;
    std::filesystem::remove(*it, ec);
  }
}

Status WriteFileAtomically(const std::string& path, std::string_view content) {
  LMHEAD_ASSIGN_OR_RETURN(TempFile file, TempFile::Create(path));
  LMHEAD_RETURN_IF_ERROR(file.WriteAt(0, std::as_bytes(std::span(content))));
  return file.Commit();
}

bool IsTempFileName(std::string_view name) {
  const size_t marker = name.rfind(kTempMarker);
  if (marker == std::string_view::npos || marker == 0) return false;
  const std::string_view tail = name.substr(marker + kTempMarker.size());
  const size_t dash = tail.find('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 == tail.size()) return false;
  for (size_t idx = 0; idx < tail.size(); ++idx) {
    if (idx != dash && (tail[idx] < '0' || tail[idx] > '9')) return false;
  }
  return true;
}

Result<int> RemoveStaleTempFiles(const std::string& dir, const std::vector<std::string>& prefixes) {
  namespace fs = std::filesystem;
  std::error_code ec;
  int removed = 0;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!IsTempFileName(name)) continue;
    bool ours = false;
    for (const std::string& prefix : prefixes) ours = ours || name.starts_with(prefix);
    if (!ours) continue;
    if (fs::remove(it->path(), ec)) ++removed;
  }
  if (ec) {
    return Status::IOError(
        fmt::format("[RemoveStaleTempFiles] listing {} failed: {}", dir, ec.message()));
  }
  return removed;
}

}  // namespace lmhead
