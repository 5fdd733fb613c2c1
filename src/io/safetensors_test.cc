// SPDX-License-Identifier: Apache-2.0
// safetensors reader: hand-written headers, every validation rule, checkpoints and index files.
#include "lmhead/safetensors.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "io/io_test_util.h"

namespace lmhead {
namespace {

using ::testing::HasSubstr;

Result<SafetensorsHeader> Parse(const std::string& bytes) {
  return ParseSafetensorsHeader(std::as_bytes(std::span(bytes)), bytes.size(), "test.safetensors");
}

TEST(SafetensorsHeaderTest, ParsesHandWrittenHeader) {
  const std::string json = R"({"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                           R"("a":{"dtype":"BF16","shape":[1,3],"data_offsets":[8,14]},)"
                           R"("__metadata__":{"format":"pt"}})";
  Result<SafetensorsHeader> header = Parse(SafetensorsBytes(json, std::string(14, 'x')));
  ASSERT_TRUE(header.ok()) << header.status().ToString();
  EXPECT_EQ(header->data_offset, 8 + json.size());
  EXPECT_EQ(header->data_bytes, 14u);
  ASSERT_EQ(header->tensors.size(), 2u);
  EXPECT_EQ(header->tensors[0].name, "a");  // Sorted by name.
  EXPECT_EQ(header->tensors[0].dtype, SafetensorsDtype::kBF16);
  EXPECT_EQ(header->tensors[0].shape, (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(header->tensors[0].begin, 8u);
  EXPECT_EQ(header->tensors[0].end, 14u);
  EXPECT_EQ(header->tensors[1].name, "b");
  EXPECT_EQ(header->metadata.at("format"), "pt");
}

struct CorruptCase {
  const char* name;
  std::string bytes;
  const char* message;
};

std::string Tensor(const char* name, const char* dtype, const char* shape, const char* offsets) {
  return fmt::format(R"("{}":{{"dtype":"{}","shape":{},"data_offsets":{}}})", name, dtype, shape,
                     offsets);
}

// A JSON object of the given entries. (fmt rather than concatenation: GCC 12 reports a
// -Wrestrict false positive for `"{" + std::string`.)
std::string Obj(const std::vector<std::string>& entries) {
  return fmt::format("{{{}}}", fmt::join(entries, ","));
}

std::vector<CorruptCase> CorruptCases() {
  std::string huge = SafetensorsBytes("{}", "");
  huge[3] = 0x10;  // Header length 0x10000000 + 2 = 268 MB.
  std::string past_end = SafetensorsBytes("{}", "");
  past_end[0] = 50;
  return {
      {"short", "abcde", "fewer than the 8-byte header length"},
      {"huge_header", huge, "exceeds the 100000000-byte limit"},
      {"header_past_end", past_end, "runs past the end"},
      {"not_json", SafetensorsBytes("{nope", ""), "not a well-formed JSON object"},
      {"array", SafetensorsBytes("[1,2]", ""), "not a well-formed JSON object"},
      {"entry_not_object", SafetensorsBytes(R"({"a":3})", ""), "is not a JSON object"},
      {"missing_dtype", SafetensorsBytes(R"({"a":{"shape":[1],"data_offsets":[0,4]}})", "abcd"),
       "lacks one of dtype, shape, data_offsets"},
      {"unknown_dtype", SafetensorsBytes(Obj({Tensor("a", "F4", "[2]", "[0,1]")}), "a"),
       "unknown dtype 'F4'"},
      {"negative_dim", SafetensorsBytes(Obj({Tensor("a", "U8", "[-1]", "[0,1]")}), "a"),
       "not a non-negative integer"},
      {"float_dim", SafetensorsBytes(Obj({Tensor("a", "U8", "[1.5]", "[0,1]")}), "a"),
       "not a non-negative integer"},
      {"reversed_offsets", SafetensorsBytes(Obj({Tensor("a", "U8", "[0]", "[4,0]")}), "abcd"),
       "outside the data region"},
      {"offsets_past_data", SafetensorsBytes(Obj({Tensor("a", "F32", "[2]", "[0,8]")}), "abcd"),
       "outside the data region"},
      {"size_mismatch", SafetensorsBytes(Obj({Tensor("a", "F32", "[3]", "[0,8]")}), "abcdefgh"),
       "need 12 bytes"},
      {"overlap",
       SafetensorsBytes(
           Obj({Tensor("a", "F32", "[2]", "[0,8]"), Tensor("b", "F32", "[2]", "[4,12]")}),
           std::string(12, 'x')),
       "overlaps tensor 'a'"},
      {"gap",
       SafetensorsBytes(
           Obj({Tensor("a", "F32", "[1]", "[0,4]"), Tensor("b", "F32", "[1]", "[8,12]")}),
           std::string(12, 'x')),
       "4 unused bytes before tensor 'b'"},
      {"trailing_bytes",
       SafetensorsBytes(Obj({Tensor("a", "F32", "[1]", "[0,4]")}), std::string(8, 'x')),
       "truncated or appended"},
      {"metadata_not_string", SafetensorsBytes(R"({"__metadata__":{"x":1}})", ""),
       "__metadata__ entry 'x' is not a string"},
      {"overflowing_shape",
       SafetensorsBytes(Obj({Tensor("a", "U8", "[4294967296,4294967296,4294967296]", "[0,1]")}),
                        "a"),
       "overflows 64 bits"},
  };
}

TEST(SafetensorsHeaderTest, RejectsEveryMalformedHeader) {
  for (const CorruptCase& c : CorruptCases()) {
    SCOPED_TRACE(c.name);
    Result<SafetensorsHeader> header = Parse(c.bytes);
    ASSERT_FALSE(header.ok());
    EXPECT_EQ(header.status().code(), StatusCode::kCorruption) << header.status().ToString();
    EXPECT_THAT(header.status().message(), HasSubstr(c.message));
    EXPECT_THAT(header.status().message(), HasSubstr("test.safetensors"));
  }
}

TEST(SafetensorsFileTest, MapsAndFindsTensors) {
  ScratchDir dir;
  const std::string path = dir.Path("m.safetensors");
  const float values[2] = {1.5f, -2.0f};
  std::string data(reinterpret_cast<const char*>(values), sizeof(values));
  WriteBytes(path, SafetensorsBytes(Obj({Tensor("w", "F32", "[2]", "[0,8]")}), data));
  Result<SafetensorsFile> file = SafetensorsFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  Result<TensorView> view = file->Find("w");
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->num_elements(), 2u);
  EXPECT_EQ(view->num_bytes(), 8u);
  float read[2];
  std::memcpy(read, view->data, sizeof(read));
  EXPECT_EQ(read[0], 1.5f);
  EXPECT_EQ(read[1], -2.0f);
  Result<TensorView> missing = file->Find("lm_head.weight");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("1 tensor(s): w"));
}

TEST(SafetensorsFileTest, TruncatedAndMissingFiles) {
  ScratchDir dir;
  const std::string path = dir.Path("m.safetensors");
  WriteBytes(path, SafetensorsBytes(Obj({Tensor("w", "F32", "[2]", "[0,8]")}), "1234567"));
  EXPECT_EQ(SafetensorsFile::Open(path).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(SafetensorsFile::Open(dir.Path("nope.safetensors")).status().code(),
            StatusCode::kNotFound);
}

TEST(SafetensorsLayoutTest, HeaderParsesBackAndDataIsAligned) {
  const std::vector<SafetensorsTensorSpec> specs = {
      {"lm_head.weight", SafetensorsDtype::kBF16, {3, 5}},
      {"norm", SafetensorsDtype::kF32, {5}},
  };
  Result<SafetensorsLayout> layout = LayoutSafetensors(specs, {{"format", "pt"}});
  ASSERT_TRUE(layout.ok());
  EXPECT_EQ(layout->header_bytes.size() % 8, 0u);
  EXPECT_EQ(layout->file_offsets[0], layout->header_bytes.size());
  EXPECT_EQ(layout->file_offsets[1], layout->header_bytes.size() + 30);
  EXPECT_EQ(layout->file_bytes, layout->header_bytes.size() + 30 + 20);
  const std::string bytes = layout->header_bytes + std::string(50, '\0');
  Result<SafetensorsHeader> header = Parse(bytes);
  ASSERT_TRUE(header.ok()) << header.status().ToString();
  EXPECT_EQ(header->tensors[0].name, "lm_head.weight");
  EXPECT_EQ(header->tensors[0].shape, (std::vector<int64_t>{3, 5}));
  EXPECT_EQ(header->metadata.at("format"), "pt");
  const std::vector<SafetensorsTensorSpec> twice = {specs[0], specs[0]};
  EXPECT_EQ(LayoutSafetensors(twice, {}).status().code(), StatusCode::kInvalidArgument);
}

class CheckpointTest : public ::testing::Test {
 protected:
  void WriteTensorFile(const std::string& name, const std::string& tensor) {
    WriteBytes(dir_.Path(name),
               SafetensorsBytes(Obj({Tensor(tensor.c_str(), "U8", "[2]", "[0,2]")}), "ab"));
  }
  ScratchDir dir_;
};

TEST_F(CheckpointTest, IndexFormOpensOnlyTheListedFile) {
  WriteTensorFile("model-00001-of-00002.safetensors", "embed");
  WriteTensorFile("model-00002-of-00002.safetensors", "lm_head.weight");
  WriteBytes(dir_.Path("model.safetensors.index.json"),
             R"({"metadata":{"total_size":4},"weight_map":{)"
             R"("embed":"model-00001-of-00002.safetensors",)"
             R"("lm_head.weight":"model-00002-of-00002.safetensors"}})");
  Result<Checkpoint> checkpoint = Checkpoint::Open(dir_.Path());
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status().ToString();
  EXPECT_TRUE(checkpoint->indexed());
  EXPECT_EQ(checkpoint->TensorNames(), (std::vector<std::string>{"embed", "lm_head.weight"}));
  EXPECT_EQ(checkpoint->FileNames().size(), 2u);
  Result<CheckpointTensor> head = checkpoint->Load("lm_head.weight");
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_THAT(head->file->path(), HasSubstr("model-00002-of-00002"));
  EXPECT_EQ(std::memcmp(head->view.data, "ab", 2), 0);
  Result<CheckpointTensor> missing = checkpoint->Load("nope");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("2 tensor(s): embed, lm_head.weight"));
}

TEST_F(CheckpointTest, IndexErrorsAreNamed) {
  WriteTensorFile("a.safetensors", "x");
  WriteBytes(dir_.Path("model.safetensors.index.json"),
             R"({"weight_map":{"x":"a.safetensors","lm_head.weight":"gone.safetensors",)"
             R"("y":"a.safetensors"}})");
  Result<Checkpoint> checkpoint = Checkpoint::Open(dir_.Path());
  ASSERT_TRUE(checkpoint.ok());
  EXPECT_THAT(checkpoint->Load("lm_head.weight").status().message(), HasSubstr("is missing"));
  Result<CheckpointTensor> y = checkpoint->Load("y");
  EXPECT_EQ(y.status().code(), StatusCode::kCorruption);
  EXPECT_THAT(y.status().message(), HasSubstr("disagree"));
  WriteBytes(dir_.Path("model.safetensors.index.json"),
             R"({"weight_map":{"x":"../a.safetensors"}})");
  EXPECT_EQ(Checkpoint::Open(dir_.Path()).status().code(), StatusCode::kCorruption);
  WriteBytes(dir_.Path("model.safetensors.index.json"), R"({"weights":{}})");
  EXPECT_THAT(Checkpoint::Open(dir_.Path()).status().message(), HasSubstr("weight_map"));
}

TEST_F(CheckpointTest, ScannedFilesAndEmptyDirectories) {
  EXPECT_EQ(Checkpoint::Open(dir_.Path()).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Checkpoint::Open(dir_.Path("absent")).status().code(), StatusCode::kNotFound);
  WriteTensorFile("a.safetensors", "x");
  WriteTensorFile("b.safetensors", "y");
  // A leftover temp file of an interrupted writer is not part of the checkpoint.
  WriteTensorFile("c.safetensors.tmp-12-0", "x");
  Result<Checkpoint> checkpoint = Checkpoint::Open(dir_.Path());
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status().ToString();
  EXPECT_FALSE(checkpoint->indexed());
  EXPECT_EQ(checkpoint->TensorNames(), (std::vector<std::string>{"x", "y"}));
  Result<Checkpoint> single = Checkpoint::Open(dir_.Path("b.safetensors"));
  ASSERT_TRUE(single.ok());
  EXPECT_EQ(single->TensorNames(), (std::vector<std::string>{"y"}));
  WriteTensorFile("d.safetensors", "x");
  EXPECT_THAT(Checkpoint::Open(dir_.Path()).status().message(), HasSubstr("appears in both"));
}

TEST(DescribeTensorNamesTest, PrefersHeadsAndCountsTheRest) {
  const std::vector<std::string> names = {"a", "b", "c", "model.embed_tokens.weight", "z"};
  EXPECT_EQ(DescribeTensorNames(names, 2),
            "5 tensor(s): model.embed_tokens.weight, a, ... (3 more)");
  EXPECT_EQ(DescribeTensorNames({}, 2), "no tensors");
}

}  // namespace
}  // namespace lmhead
