// SPDX-License-Identifier: Apache-2.0
// Checkpoint: a HuggingFace model directory, single-file or index form.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "io/file_util.h"
#include "lmhead/safetensors.h"

namespace lmhead {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

constexpr const char* kIndexName = "model.safetensors.index.json";
// DeepSeek-V3's index is ~9 MB; anything this large is not an index.
constexpr uint64_t kMaxIndexBytes = uint64_t{256} << 20;

// A weight_map value must name a file inside the checkpoint directory.
bool IsPlainFileName(const std::string& name) {
  return !name.empty() && name.find('/') == std::string::npos && name != "." && name != "..";
}

Status ReadIndex(const std::string& dir, std::map<std::string, std::string, std::less<>>* map) {
  const std::string path = (fs::path(dir) / kIndexName).string();
  LMHEAD_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path, kMaxIndexBytes));
  const Json json = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    return Status::Corruption(
        fmt::format("[Checkpoint] {} is not a well-formed JSON object; re-download it", path));
  }
  const auto it = json.find("weight_map");
  if (it == json.end() || !it->is_object()) {
    return Status::Corruption(fmt::format(
        "[Checkpoint] {} has no \"weight_map\" object mapping tensor names to files", path));
  }
  for (const auto& [name, file] : it->items()) {
    if (!file.is_string() || !IsPlainFileName(file.get_ref<const std::string&>())) {
      return Status::Corruption(fmt::format(
          "[Checkpoint] {}: weight_map entry '{}' does not name a file in {}", path, name, dir));
    }
    (*map)[name] = file.get<std::string>();
  }
  return Status::Ok();
}

Status ScanFiles(const std::string& dir, std::map<std::string, std::string, std::less<>>* map) {
  std::vector<std::string> files;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (it->path().extension() == ".safetensors" && !IsTempFileName(name)) files.push_back(name);
  }
  if (ec) return Status::IOError(fmt::format("[Checkpoint] cannot list {}: {}", dir, ec.message()));
  if (files.empty()) {
    return Status::NotFound(fmt::format(
        "[Checkpoint] {} holds neither {} nor any *.safetensors file; point at a HuggingFace model "
        "directory",
        dir, kIndexName));
  }
  std::sort(files.begin(), files.end());
  for (const std::string& file : files) {
    LMHEAD_ASSIGN_OR_RETURN(SafetensorsFile st,
                            SafetensorsFile::Open((fs::path(dir) / file).string()));
    for (const SafetensorsTensorInfo& info : st.header().tensors) {
      const auto [it, inserted] = map->emplace(info.name, file);
      if (!inserted) {
        return Status::Corruption(fmt::format(
            "[Checkpoint] tensor '{}' appears in both {} and {} in {}; remove the stray file",
            info.name, it->second, file, dir));
      }
    }
  }
  return Status::Ok();
}

}  // namespace

Result<Checkpoint> Checkpoint::Open(const std::string& path) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (ec || !fs::exists(status)) {
    return Status::NotFound(
        fmt::format("[Checkpoint] {} does not exist; pass a checkpoint directory", path));
  }
  Checkpoint checkpoint;
  if (fs::is_regular_file(status)) {
    const fs::path parent = fs::path(path).parent_path();
    checkpoint.dir_ = (parent.empty() ? fs::path(".") : parent).string();
    LMHEAD_ASSIGN_OR_RETURN(SafetensorsFile st, SafetensorsFile::Open(path));
    const std::string file = fs::path(path).filename().string();
    for (const SafetensorsTensorInfo& info : st.header().tensors) {
      checkpoint.weight_map_.emplace(info.name, file);
    }
    return checkpoint;
  }
  checkpoint.dir_ = path;
  if (fs::exists(fs::path(path) / kIndexName, ec)) {
    checkpoint.indexed_ = true;
    LMHEAD_RETURN_IF_ERROR(ReadIndex(path, &checkpoint.weight_map_));
  } else {
    LMHEAD_RETURN_IF_ERROR(ScanFiles(path, &checkpoint.weight_map_));
  }
  return checkpoint;
}

std::vector<std::string> Checkpoint::TensorNames() const {
  std::vector<std::string> names;
  names.reserve(weight_map_.size());
  for (const auto& [name, file] : weight_map_) names.push_back(name);
  return names;
}

std::vector<std::string> Checkpoint::FileNames() const {
  std::set<std::string> files;
  for (const auto& [name, file] : weight_map_) files.insert(file);
  return {files.begin(), files.end()};
}

bool Checkpoint::Contains(std::string_view name) const {
  return weight_map_.find(name) != weight_map_.end();
}

Result<CheckpointTensor> Checkpoint::Load(std::string_view name) const {
  const auto it = weight_map_.find(name);
  if (it == weight_map_.end()) {
    return Status::NotFound(fmt::format("[Checkpoint] no tensor '{}' in {}; it holds {}", name,
                                        dir_, DescribeTensorNames(TensorNames(), 20)));
  }
  const std::string path = (fs::path(dir_) / it->second).string();
  Result<SafetensorsFile> opened = SafetensorsFile::Open(path);
  if (!opened.ok() && opened.status().code() == StatusCode::kNotFound && indexed_) {
    return Status::NotFound(
        fmt::format("[Checkpoint] {} lists '{}' in {}, which is missing; the "
                    "download is incomplete",
                    kIndexName, name, path));
  }
  if (!opened.ok()) return opened.status();
  auto file = std::make_shared<const SafetensorsFile>(std::move(opened).value());
  Result<TensorView> view = file->Find(name);
  if (!view.ok()) {
    return Status::Corruption(
        fmt::format("[Checkpoint] {} says '{}' is in {}, but that file lacks "
                    "it; the index and the files disagree",
                    kIndexName, name, path));
  }
  return CheckpointTensor{std::move(file), *view};
}

Result<std::vector<std::shared_ptr<const SafetensorsFile>>> Checkpoint::OpenAll() const {
  std::vector<std::shared_ptr<const SafetensorsFile>> files;
  for (const std::string& name : FileNames()) {
    LMHEAD_ASSIGN_OR_RETURN(SafetensorsFile file,
                            SafetensorsFile::Open((fs::path(dir_) / name).string()));
    files.push_back(std::make_shared<const SafetensorsFile>(std::move(file)));
  }
  return files;
}

std::string DescribeTensorNames(const std::vector<std::string>& names, size_t max_names) {
  if (names.empty()) return "no tensors";
  std::vector<std::string> shown;
  // Heads and embeddings first: they are what a user looking for the LM head wants.
  for (const std::string& name : names) {
    const bool likely =
        name.find("head") != std::string::npos || name.find("embed") != std::string::npos;
    if (likely && shown.size() < max_names) shown.push_back(name);
  }
  for (const std::string& name : names) {
    if (shown.size() >= max_names) break;
    if (std::find(shown.begin(), shown.end(), name) == shown.end()) shown.push_back(name);
  }
  std::string text = fmt::format("{} tensor(s): {}", names.size(), fmt::join(shown, ", "));
  if (shown.size() < names.size())
    text += fmt::format(", ... ({} more)", names.size() - shown.size());
  return text;
}

}  // namespace lmhead
