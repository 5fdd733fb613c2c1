// SPDX-License-Identifier: Apache-2.0
// OutputDirectory: a failed run removes the directories it made, and only those.
#include "io/file_util.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "io/io_test_util.h"

namespace lmhead {
namespace {

namespace fs = std::filesystem;

TEST(OutputDirectoryTest, AFailedRunRemovesTheEmptyDirectoriesItMade) {
  ScratchDir scratch;
  const std::string out = scratch.Path("a/b/out");
  {
    Result<OutputDirectory> dir = OutputDirectory::Create(out, "[Test]");
    ASSERT_TRUE(dir.ok()) << dir.status().ToString();
    EXPECT_TRUE(fs::is_directory(out));
  }
  EXPECT_FALSE(fs::exists(scratch.Path("a")));
  EXPECT_TRUE(fs::is_directory(scratch.Path()));  // existed before: kept
}

TEST(OutputDirectoryTest, KeepsWhatHoldsAFileAndWhatExistedBefore) {
  ScratchDir scratch;
  fs::create_directories(scratch.Path("a"));
  {
    Result<OutputDirectory> dir = OutputDirectory::Create(scratch.Path("a/b/out"), "[Test]");
    ASSERT_TRUE(dir.ok());
    WriteBytes(scratch.Path("a/b/note"), "x");  // not ours to delete: b stays, out goes
  }
  EXPECT_FALSE(fs::exists(scratch.Path("a/b/out")));
  EXPECT_TRUE(fs::exists(scratch.Path("a/b/note")));
  {
    Result<OutputDirectory> dir = OutputDirectory::Create(scratch.Path("a"), "[Test]");
    ASSERT_TRUE(dir.ok());
  }
  EXPECT_TRUE(fs::is_directory(scratch.Path("a")));
}

TEST(OutputDirectoryTest, ASuccessfulRunKeepsItsDirectories) {
  ScratchDir scratch;
  {
    Result<OutputDirectory> dir = OutputDirectory::Create(scratch.Path("a/out"), "[Test]");
    ASSERT_TRUE(dir.ok());
    dir->Keep();
  }
  EXPECT_TRUE(fs::is_directory(scratch.Path("a/out")));
}

TEST(OutputDirectoryTest, AFileInTheWayIsAClearError) {
  ScratchDir scratch;
  WriteBytes(scratch.Path("file"), "x");
  Result<OutputDirectory> dir = OutputDirectory::Create(scratch.Path("file/out"), "[Test]");
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.status().code(), StatusCode::kIOError);
  EXPECT_NE(dir.status().message().find("[Test] cannot create"), std::string::npos)
      << dir.status().message();
  EXPECT_NE(dir.status().message().find("file/out"), std::string::npos);
}

}  // namespace
}  // namespace lmhead
