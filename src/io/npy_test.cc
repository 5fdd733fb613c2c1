// SPDX-License-Identifier: Apache-2.0
// .npy reader/writer: byte-exact headers as numpy writes them, round trips, every error.
#include "lmhead/npy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

namespace lmhead {
namespace {

using ::testing::HasSubstr;

std::vector<uint8_t> Bytes(std::string_view text) { return {text.begin(), text.end()}; }

// A .npy image with a hand-written header, padded like numpy (to 64 bytes).
std::vector<uint8_t> Npy(std::string dict, std::vector<uint8_t> data, uint8_t major = 1) {
  const size_t prelude = major == 1 ? 10 : 12;
  while ((prelude + dict.size() + 1) % 64 != 0) dict.push_back(' ');
  dict.push_back('\n');
  std::vector<uint8_t> file = Bytes("\x93NUMPY");
  file.push_back(major);
  file.push_back(0);
  for (size_t byte = 0; byte < prelude - 8; ++byte) {
    file.push_back(static_cast<uint8_t>(dict.size() >> (8 * byte)));
  }
  file.insert(file.end(), dict.begin(), dict.end());
  file.insert(file.end(), data.begin(), data.end());
  return file;
}

class NpyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("lmhead_npy_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  std::filesystem::path dir_;
};

// The exact bytes numpy 1.x/2.x writes for np.save(f, np.array([[1, 2, 3]], '<f4')).
TEST_F(NpyTest, EncodeMatchesNumpyBytes) {
  const std::vector<float> values = {1.0f, 2.0f, 3.0f};
  const std::vector<int64_t> shape = {1, 3};
  const Result<std::vector<uint8_t>> file =
      EncodeNpy(NpyDtype::kFloat32, shape, {reinterpret_cast<const uint8_t*>(values.data()), 12});
  ASSERT_TRUE(file.ok());
  std::vector<uint8_t> data(12);
  std::memcpy(data.data(), values.data(), 12);
  EXPECT_EQ(*file, Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3), }", data));
  EXPECT_EQ(file->size(), 128u + 12u);
}

TEST_F(NpyTest, RoundTripsEveryDtypeAndRank) {
  const std::vector<int64_t> matrix = {2, 3}, vector = {6}, scalar = {};
  const std::vector<uint16_t> halves = {1, 2, 3, 0xFFFF, 5, 6};
  ASSERT_TRUE(WriteNpy<uint16_t>(Path("u2.npy"), matrix, halves).ok());
  Result<NpyArray> read = ReadNpy(Path("u2.npy"));
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->dtype, NpyDtype::kUint16);
  EXPECT_EQ(read->shape, matrix);
  EXPECT_EQ(std::vector<uint16_t>(read->Values<uint16_t>().begin(), read->Values<uint16_t>().end()),
            halves);

  const std::vector<int64_t> longs = {-1, 1LL << 40, 3, 4, 5, 6};
  ASSERT_TRUE(WriteNpy<int64_t>(Path("i8.npy"), vector, longs).ok());
  read = ReadNpy(Path("i8.npy"));
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->shape, vector);
  EXPECT_EQ(read->Values<int64_t>()[1], 1LL << 40);

  const std::vector<double> one = {2.5};
  ASSERT_TRUE(WriteNpy<double>(Path("f8.npy"), scalar, one).ok());
  read = ReadNpy(Path("f8.npy"));
  ASSERT_TRUE(read.ok());
  EXPECT_TRUE(read->shape.empty());
  EXPECT_EQ(read->NumElements(), 1);
  EXPECT_EQ(read->Values<double>()[0], 2.5);

  for (NpyDtype dtype : {NpyDtype::kUint8, NpyDtype::kUint32, NpyDtype::kInt8, NpyDtype::kInt16,
                         NpyDtype::kInt32, NpyDtype::kUint64, NpyDtype::kFloat32}) {
    std::vector<uint8_t> data(6 * NpyDtypeBytes(dtype));
    for (size_t idx = 0; idx < data.size(); ++idx) data[idx] = static_cast<uint8_t>(idx * 7);
    const Result<std::vector<uint8_t>> file = EncodeNpy(dtype, matrix, data);
    ASSERT_TRUE(file.ok());
    const Result<NpyArray> parsed = ParseNpy(*file, "mem");
    ASSERT_TRUE(parsed.ok()) << ToString(dtype);
    EXPECT_EQ(parsed->dtype, dtype);
    EXPECT_EQ(parsed->data, data);
  }
}

// Headers as other numpy versions may write them: version 2.0 and 3.0 preludes,
// '=' and '|' byte orders, double quotes, no trailing comma, Fortran order on 1-D.
TEST_F(NpyTest, ParsesHeaderVariants) {
  const std::vector<uint8_t> data = {1, 0, 2, 0};
  for (const uint8_t major : {uint8_t{1}, uint8_t{2}, uint8_t{3}}) {
    const Result<NpyArray> read = ParseNpy(
        Npy("{\"descr\": \"=u2\", \"shape\": (2,), \"fortran_order\": True}", data, major), "v");
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    EXPECT_EQ(read->Values<uint16_t>()[1], 2);
  }
  const Result<NpyArray> big_u1 =
      ParseNpy(Npy("{'descr': '>u1', 'fortran_order': False, 'shape': (4,), }", data), "b");
  EXPECT_TRUE(big_u1.ok());  // One-byte items have no byte order.
}

void ExpectError(const std::vector<uint8_t>& file, StatusCode code, const std::string& what) {
  const Result<NpyArray> read = ParseNpy(file, "bad.npy");
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), code) << read.status().ToString();
  EXPECT_THAT(read.status().message(), HasSubstr("bad.npy"));
  EXPECT_THAT(read.status().message(), HasSubstr(what));
}

TEST_F(NpyTest, ErrorsAreClear) {
  const std::vector<uint8_t> eight(8, 0);
  ExpectError(Npy("{'descr': '<f4', 'fortran_order': True, 'shape': (1, 2), }", eight),
              StatusCode::kNotSupported, "Fortran order");
  ExpectError(Npy("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", eight),
              StatusCode::kNotSupported, "big-endian");
  ExpectError(Npy("{'descr': '<f2', 'fortran_order': False, 'shape': (4,), }", eight),
              StatusCode::kNotSupported, "'<f2' is not supported");
  ExpectError(Npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", eight),
              StatusCode::kCorruption, "quoted string");
  ExpectError(Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", eight),
              StatusCode::kCorruption, "truncated");
  ExpectError(Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", eight),
              StatusCode::kCorruption, "unexpected bytes");
  ExpectError(Npy("{'descr': '<f4', 'shape': (2,), }", eight), StatusCode::kCorruption, "lacks");
  ExpectError(Npy("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,), }", eight),
              StatusCode::kCorruption, "True or False");
  ExpectError(Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", eight),
              StatusCode::kCorruption, "non-negative integer");
  ExpectError(Bytes("\x93NUMPY\x01"), StatusCode::kCorruption, "truncated");
  ExpectError(Bytes("PK\x03\x04 this is a zip file"), StatusCode::kCorruption, "magic");
  std::vector<uint8_t> cut =
      Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", eight);
  cut.resize(40);
  ExpectError(cut, StatusCode::kCorruption, "header is cut off");
  std::vector<uint8_t> v9 = Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", eight);
  v9[6] = 9;
  ExpectError(v9, StatusCode::kNotSupported, "version 9.0");
}

TEST_F(NpyTest, FileErrors) {
  const Result<NpyArray> missing = ReadNpy(Path("missing.npy"));
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("missing.npy"));

  const std::vector<float> values = {1.0f};
  const std::vector<int64_t> shape = {1};
  const Status no_dir = WriteNpy<float>(Path("no/such/dir/x.npy"), shape, values);
  EXPECT_EQ(no_dir.code(), StatusCode::kIOError);

  const std::vector<int64_t> wrong = {2};
  const Status mismatch = WriteNpy<float>(Path("x.npy"), wrong, values);
  EXPECT_EQ(mismatch.code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(std::filesystem::exists(Path("x.npy")));  // Nothing half-written.
}

TEST_F(NpyTest, AtomicWriteReplacesAndLeavesNoTemporaries) {
  const std::vector<uint8_t> first = {1, 2, 3}, second = {4, 5};
  ASSERT_TRUE(WriteFileAtomic(Path("f.bin"), first).ok());
  ASSERT_TRUE(WriteFileAtomic(Path("f.bin"), second).ok());
  const Result<std::vector<uint8_t>> read = ReadFileBytes(Path("f.bin"));
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, second);
  int entries = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    (void)entry;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

}  // namespace
}  // namespace lmhead
