// SPDX-License-Identifier: Apache-2.0
// Small file helpers: whole-file reads, atomic writes through temp files, hashing.
#ifndef LMHEAD_IO_FILE_UTIL_H_
#define LMHEAD_IO_FILE_UTIL_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lmhead/status.h"

namespace lmhead {

// Reads a whole file. NotFound if missing; InvalidArgument if over `max_bytes`.
Result<std::string> ReadFileToString(const std::string& path, uint64_t max_bytes);

// Size of a regular file. NotFound if missing.
Result<uint64_t> FileBytes(const std::string& path);

// XXH3-64 of a file's bytes, read in chunks (bounded memory, no mapping).
Result<uint64_t> HashFileXxh3(const std::string& path);

// 16 lower-case hex digits.
std::string HexU64(uint64_t value);
// Parses HexU64's output; false on anything else.
bool ParseHexU64(std::string_view text, uint64_t* value);

// A file written under a temporary name beside its final path and renamed
// into place by Commit(). Destroying an uncommitted TempFile deletes it, so an
// error path never leaves a partial file. Move-only; thread-compatible, but
// WriteAt may be called from several threads for disjoint ranges.
class TempFile {
 public:
  // Creates `<final_path>.tmp-<pid>-<n>` exclusively. IOError on failure.
  static Result<TempFile> Create(const std::string& final_path);

  TempFile(TempFile&& other) noexcept;
  TempFile& operator=(TempFile&& other) noexcept;
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile();

  // Allocates `bytes` on disk up front so that a full disk fails here, with
  // a clear message, rather than half-way through. Filesystems that cannot
  // preallocate are tolerated.
  Status Reserve(uint64_t bytes);
  // Writes all of `data` at `offset`; IOError names the file, offset and errno.
  Status WriteAt(uint64_t offset, std::span<const std::byte> data) const;
  // Flushes to disk and closes the descriptor; no more writes. Lets a caller
  // hold many finished files without holding their descriptors.
  Status Sync();
  // Sync() if not done yet, then renames onto the final path.
  Status Commit();

  const std::string& temp_path() const { return temp_path_; }
  const std::string& final_path() const { return final_path_; }

 private:
  TempFile(std::string final_path, std::string temp_path, int fd);
  void Discard();

  std::string final_path_;
  std::string temp_path_;
  int fd_ = -1;
  bool exists_ = false;  // The temp file is on disk and ours to delete.
};

// The output directory of a run (a checkpoint, a weights directory), created
// with its missing parents. Unless Keep() is called, the destructor removes
// the directories it created that are still empty: a run that fails before
// writing a file leaves no trace, and one that fails later leaves only what
// its TempFiles did not clean up (nothing). Never removes a directory that
// existed before or holds anything.
class OutputDirectory {
 public:
  // IOError (naming `what`, e.g. "[Synth]") when the directory cannot be made.
  static Result<OutputDirectory> Create(const std::string& path, std::string_view what);

  OutputDirectory(OutputDirectory&& other) noexcept;
  OutputDirectory& operator=(OutputDirectory&&) = delete;
  OutputDirectory(const OutputDirectory&) = delete;
  OutputDirectory& operator=(const OutputDirectory&) = delete;
  ~OutputDirectory();

  // The run succeeded: keep every directory.
  void Keep() { created_.clear(); }

 private:
  OutputDirectory() = default;

  std::vector<std::string> created_;  // deepest last
};

// Writes `content` to `path` atomically (temp file + rename).
Status WriteFileAtomically(const std::string& path, std::string_view content);

// True if `name` is a TempFile name ("<base>.tmp-<pid>-<n>").
bool IsTempFileName(std::string_view name);

// Deletes the leftover temp files of killed runs in `dir` whose final name
// starts with one of `prefixes`. Returns how many were deleted.
Result<int> RemoveStaleTempFiles(const std::string& dir, const std::vector<std::string>& prefixes);

}  // namespace lmhead

#endif  // LMHEAD_IO_FILE_UTIL_H_
