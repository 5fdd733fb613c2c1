// SPDX-License-Identifier: Apache-2.0
// convert's user errors: each is named clearly and leaves the output directory as it was.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <map>
#include <string>

#include "io/io_test_util.h"
#include "lmhead/convert.h"

namespace lmhead {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class ConvertErrorsTest : public ::testing::Test {
 protected:
  void Synth(int64_t vocab) {
    SynthOptions synth;
    synth.out_dir = dir_.Path("ckpt");
    synth.model = {128, vocab, "test"};
    ASSERT_TRUE(SynthesizeCheckpoint(synth).ok());
  }

  Status Convert(MeshShape mesh = {2, 4}, const std::string& tensor = "") {
    ConvertOptions options;
    options.checkpoint = dir_.Path("ckpt");
    options.out_dir = dir_.Path("w");
    options.mesh = mesh;
    options.tensor = tensor;
    return ConvertCheckpoint(options).status();
  }

  // Overwrites the bf16 head element (row, col) with `bf16_bits`.
  void PatchHead(int64_t row, int64_t col, uint16_t bf16_bits) {
    const std::string path = dir_.Path("ckpt/model.safetensors");
    Result<SafetensorsFile> file = SafetensorsFile::Open(path);
    ASSERT_TRUE(file.ok());
    const uint64_t offset = file->header().data_offset +
                            (*file->Find("lm_head.weight")).info->begin +
                            static_cast<uint64_t>(row * 128 + col) * 2;
    std::string bytes = ReadBytes(path);
    std::memcpy(bytes.data() + offset, &bf16_bits, 2);
    WriteBytes(path, bytes);
  }

  std::map<std::string, std::string> Snapshot(const std::string& dir) {
    std::map<std::string, std::string> files;
    if (!fs::exists(dir)) return files;
    for (const auto& entry : fs::directory_iterator(dir)) {
      files[entry.path().filename().string()] = ReadBytes(entry.path().string());
    }
    return files;
  }

  ScratchDir dir_;
};

TEST_F(ConvertErrorsTest, WrongTensorNameListsTheNamesPresent) {
  Synth(2048);
  const Status status = Convert({2, 4}, "output.weight");
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_THAT(status.message(), HasSubstr("no tensor 'output.weight'"));
  EXPECT_THAT(status.message(), HasSubstr("2 tensor(s): lm_head.weight, model.norm.weight"));
  EXPECT_THAT(status.message(), HasSubstr("--tensor"));
}

TEST_F(ConvertErrorsTest, ConfigProblems) {
  Synth(2048);
  std::string config = ReadBytes(dir_.Path("ckpt/config.json"));
  config.replace(config.find("\"vocab_size\": 2048"), 18, "\"vocab_size\": 2000");
  WriteBytes(dir_.Path("ckpt/config.json"), config);
  Status status = Convert();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("shape [2048, 128]"));
  EXPECT_THAT(status.message(), HasSubstr("[vocab_size, hidden_size] = [2000, 128]"));
  fs::remove(dir_.Path("ckpt/config.json"));
  status = Convert();
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_THAT(status.message(), HasSubstr("config.json is missing"));
}

TEST_F(ConvertErrorsTest, IndivisibleVocabSuggestsPadding) {
  Synth(1000);
  const Status status = Convert({4, 8});
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("vocab_size 1000 is not divisible by the 32 devices"));
  EXPECT_THAT(status.message(), HasSubstr("--pad-vocab to add 24 zero columns (vocab 1024"));
  EXPECT_FALSE(fs::exists(dir_.Path("w")));
}

// Negative counts once meant "all threads" silently, and huge ones were only
// capped by the work items.
TEST_F(ConvertErrorsTest, ThreadCountsOutOfRange) {
  Synth(2048);
  for (const int num_threads : {-1, kMaxThreads + 1}) {
    ConvertOptions options;
    options.checkpoint = dir_.Path("ckpt");
    options.out_dir = dir_.Path("w");
    options.num_threads = num_threads;
    const Status status = ConvertCheckpoint(options).status();
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(status.message(), HasSubstr("num_threads=" + std::to_string(num_threads)));
    EXPECT_FALSE(fs::exists(dir_.Path("w")));
  }
}

// A NaN fails the run with its coordinates and leaves the previous conversion intact.
TEST_F(ConvertErrorsTest, NonFiniteValuesAreLocatedAndNothingChanges) {
  Synth(2048);
  ASSERT_TRUE(Convert().ok());
  const auto before = Snapshot(dir_.Path("w"));
  PatchHead(2000, 3, 0x7F80);   // +Inf, later in row-major order.
  PatchHead(1234, 77, 0x7FC0);  // NaN: the first.
  const Status status = Convert();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("holds nan at row 1234 (vocab id), column 77"));
  EXPECT_EQ(Snapshot(dir_.Path("w")), before);
}

TEST_F(ConvertErrorsTest, UnsupportedDtypeAndTruncatedFiles) {
  Synth(2048);
  const std::string header = R"({"lm_head.weight":{"dtype":"F8_E4M3","shape":[2048,128],)"
                             R"("data_offsets":[0,262144]}})";
  WriteBytes(dir_.Path("ckpt/model.safetensors"), SafetensorsBytes(header, std::string(262144, 1)));
  Status status = Convert();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("dtype F8_E4M3"));
  Synth(2048);
  const std::string bytes = ReadBytes(dir_.Path("ckpt/model.safetensors"));
  WriteBytes(dir_.Path("ckpt/model.safetensors"), bytes.substr(0, bytes.size() - 1000));
  status = Convert();
  EXPECT_EQ(status.code(), StatusCode::kCorruption);
  EXPECT_THAT(status.message(), HasSubstr("truncated"));
}

// A full disk, simulated with the file size limit (writes fail with EFBIG, as
// with ENOSPC): a clean IOError and no file left behind. Runs in a child
// process because the limit applies to the whole process.
TEST_F(ConvertErrorsTest, WriteFailureLeavesNoFiles) {
  Synth(2048);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    signal(SIGXFSZ, SIG_IGN);
    const rlimit limit = {20000, 20000};
    setrlimit(RLIMIT_FSIZE, &limit);
    const Status status = Convert();
    const bool expected = status.code() == StatusCode::kIOError &&
                          status.message().find("file size limit") != std::string::npos;
    if (!expected) std::fprintf(stderr, "unexpected: %s\n", status.ToString().c_str());
    _exit(expected ? 0 : 1);
  }
  int wait_status = 0;
  ASSERT_EQ(waitpid(pid, &wait_status, 0), pid);
  ASSERT_TRUE(WIFEXITED(wait_status));
  EXPECT_EQ(WEXITSTATUS(wait_status), 0);
  EXPECT_TRUE(Snapshot(dir_.Path("w")).empty());
}

}  // namespace
}  // namespace lmhead
