// SPDX-License-Identifier: Apache-2.0
// Test helpers for io: scratch directories and raw file writes.
#ifndef LMHEAD_IO_IO_TEST_UTIL_H_
#define LMHEAD_IO_IO_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace lmhead {

// A fresh directory under the test temp dir, removed when the object dies.
class ScratchDir {
 public:
  ScratchDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string(info->test_suite_name()) + "_" + info->name();
    for (char& c : name) c = c == '/' ? '_' : c;  // Parameterised tests have slashes.
    path_ = std::filesystem::temp_directory_path() /
            ("lmhead_" + name + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() { std::filesystem::remove_all(path_); }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  std::string Path(const std::string& name = "") const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline void WriteBytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// "<8-byte little-endian length><json>" followed by `data`.
inline std::string SafetensorsBytes(const std::string& json, const std::string& data) {
  std::string bytes;
  const uint64_t length = json.size();
  for (int byte_idx = 0; byte_idx < 8; ++byte_idx) {
    bytes.push_back(static_cast<char>((length >> (8 * byte_idx)) & 0xFF));
  }
  return bytes + json + data;
}

}  // namespace lmhead

#endif  // LMHEAD_IO_IO_TEST_UTIL_H_
