// SPDX-License-Identifier: Apache-2.0
// ModelDims from a HuggingFace config.json or a built-in preset.
#include <fmt/format.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "lmhead/plan.h"
#include "planner/limits.h"

namespace lmhead {
namespace {

using Json = nlohmann::json;

// A config.json is a few KiB; anything this large is not one.
constexpr std::uintmax_t kMaxConfigBytes = 16u << 20;

// Records where the JSON parser stopped, without exceptions (library code throws nothing).
class ErrorRecordingSax : public nlohmann::json_sax<Json> {
 public:
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t, const std::string&,
                   const nlohmann::detail::exception& error) override {
    message_ = error.what();
    return false;
  }
  const std::string& message() const { return message_; }

 private:
  std::string message_;
};

Result<int64_t> ReadPositiveInt(const Json& config, const char* key, const std::string& path) {
  const auto it = config.find(key);
  if (it == config.end()) {
    std::string hint;
    if (config.contains("text_config") && config["text_config"].contains(key)) {
      hint = fmt::format(
          " (it is under \"text_config\": a multimodal config; write a config.json "
          "with the text model's {} at the top level)",
          key);
    }
    return Status::InvalidArgument(fmt::format(
        "[LoadModelDims] '{}' has no \"{}\"{}; pass the config.json of a causal LM, which lists "
        "hidden_size and vocab_size",
        path, key, hint));
  }
  // nlohmann parses every non-negative JSON integer as unsigned; floats, strings, booleans and
  // negative numbers are something else.
  if (!it->is_number_unsigned() || it->get<uint64_t>() == 0 ||
      it->get<uint64_t>() > static_cast<uint64_t>(kMaxModelDim)) {
    return Status::InvalidArgument(fmt::format(
        "[LoadModelDims] \"{}\" in '{}' is {}, not a positive integer <= {}; fix the config.json",
        key, path, it->dump(), kMaxModelDim));
  }
  return it->get<int64_t>();
}

}  // namespace

Result<ModelDims> LoadModelDims(const std::string& config_path) {
  std::filesystem::path path(config_path);
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) path /= "config.json";  // A model directory.
  if (!std::filesystem::is_regular_file(path, ec)) {
    return Status::NotFound(fmt::format(
        "[LoadModelDims] config file '{}' does not exist or is not a file; pass a HuggingFace "
        "config.json (or its model directory), or use --model deepseek-v3",
        path.string()));
  }
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec || size > kMaxConfigBytes) {
    return Status::InvalidArgument(fmt::format(
        "[LoadModelDims] '{}' is {} bytes, larger than any config.json ({} bytes at most); pass "
        "the model's config.json",
        path.string(), size, kMaxConfigBytes));
  }
  std::ifstream file(path, std::ios::binary);
  std::stringstream buffer;
  buffer << file.rdbuf();
  if (!file) {
    return Status::IOError(
        fmt::format("[LoadModelDims] cannot read '{}'; check its permissions", path.string()));
  }
  const std::string text = buffer.str();
  ErrorRecordingSax sax;
  if (!Json::sax_parse(text, &sax)) {
    return Status::InvalidArgument(
        fmt::format("[LoadModelDims] '{}' is not valid JSON ({}); pass a HuggingFace config.json",
                    path.string(), sax.message()));
  }
  const Json config = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!config.is_object()) {
    return Status::InvalidArgument(fmt::format(
        "[LoadModelDims] '{}' holds a JSON {}, not an object; pass a HuggingFace config.json",
        path.string(), config.type_name()));
  }
  ModelDims dims;
  LMHEAD_ASSIGN_OR_RETURN(dims.hidden_size, ReadPositiveInt(config, "hidden_size", path.string()));
  LMHEAD_ASSIGN_OR_RETURN(dims.vocab_size, ReadPositiveInt(config, "vocab_size", path.string()));
  dims.name = path.string();
  return dims;
}

Result<ModelDims> FindModelPreset(std::string_view name) {
  // DeepSeek-V3's config.json: hidden_size 7168, vocab_size 129280 (spec conventions).
  if (name == "deepseek-v3") return ModelDims{7168, 129280, "deepseek-v3"};
  return Status::InvalidArgument(fmt::format(
      "[FindModelPreset] unknown model '{}'; use one of: {}, or --config path/to/config.json", name,
      fmt::join(ModelPresetNames(), ", ")));
}

std::vector<std::string> ModelPresetNames() { return {"deepseek-v3"}; }

}  // namespace lmhead
