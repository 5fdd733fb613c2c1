// SPDX-License-Identifier: Apache-2.0
// manifest.json: the WeightsManifest <-> JSON mapping and its validation.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "io/file_util.h"
#include "lmhead/weights.h"

namespace lmhead {
namespace {

using Json = nlohmann::ordered_json;

// Typed, checked access to the fields of one JSON object; every failure
// names the manifest and the dotted path of the field.
class Fields {
 public:
  Fields(const Json& object, std::string_view what, std::string path)
      : object_(object), what_(what), path_(std::move(path)) {}

  Status Get(const char* key, const Json** out) const {
    const auto it = object_.find(key);
    if (it == object_.end()) return Error(key, "is missing");
    *out = &*it;
    return Status::Ok();
  }
  Status Int(const char* key, int64_t* out) const {
    const Json* value = nullptr;
    LMHEAD_RETURN_IF_ERROR(Get(key, &value));
    if (!value->is_number_integer()) return Error(key, "is not an integer");
    *out = value->get<int64_t>();
    return Status::Ok();
  }
  Status UInt(const char* key, uint64_t* out) const {
    const Json* value = nullptr;
    LMHEAD_RETURN_IF_ERROR(Get(key, &value));
    if (!value->is_number_unsigned()) return Error(key, "is not a non-negative integer");
    *out = value->get<uint64_t>();
    return Status::Ok();
  }
  Status Str(const char* key, std::string* out) const {
    const Json* value = nullptr;
    LMHEAD_RETURN_IF_ERROR(Get(key, &value));
    if (!value->is_string()) return Error(key, "is not a string");
    *out = value->get<std::string>();
    return Status::Ok();
  }
  Status Hex(const char* key, uint64_t* out) const {
    std::string text;
    LMHEAD_RETURN_IF_ERROR(Str(key, &text));
    if (!ParseHexU64(text, out)) return Error(key, "is not 16 lower-case hex digits");
    return Status::Ok();
  }
  Status Ints(const char* key, std::vector<int64_t>* out) const {
    const Json* value = nullptr;
    LMHEAD_RETURN_IF_ERROR(Get(key, &value));
    if (!value->is_array()) return Error(key, "is not an array");
    for (const Json& item : *value) {
      if (!item.is_number_integer()) return Error(key, "holds a non-integer");
      out->push_back(item.get<int64_t>());
    }
    return Status::Ok();
  }
  Result<Fields> Object(const char* key) const {
    const Json* value = nullptr;
    LMHEAD_RETURN_IF_ERROR(Get(key, &value));
    if (!value->is_object()) return Error(key, "is not an object");
    return Fields(*value, what_, path_ + key + ".");
  }
  std::string_view what() const { return what_; }
  Status Error(const char* key, std::string_view problem) const {
    return Status::Corruption(
        fmt::format("[WeightsManifest] {}: {}{} {}; the manifest is damaged, re-run lmhead convert",
                    what_, path_, key, problem));
  }

 private:
  const Json& object_;
  std::string_view what_;
  std::string path_;
};

Status ParseGeometry(const Fields& root, WeightsManifest* m) {
  std::string format;
  LMHEAD_RETURN_IF_ERROR(root.Str("tile_format", &format));
  Result<TileFormat> tile_format = ParseTileFormat(format);
  if (!tile_format.ok()) return root.Error("tile_format", "names no known tile format");
  ShardGeometry& g = m->geometry;
  g.format = *tile_format;
  LMHEAD_ASSIGN_OR_RETURN(Fields model, root.Object("model"));
  LMHEAD_RETURN_IF_ERROR(model.Int("hidden_size", &g.hidden_size));
  LMHEAD_RETURN_IF_ERROR(model.Int("vocab_size", &g.vocab_size));
  LMHEAD_RETURN_IF_ERROR(model.Int("valid_vocab_size", &g.valid_vocab_size));
  LMHEAD_ASSIGN_OR_RETURN(Fields mesh, root.Object("mesh"));
  LMHEAD_RETURN_IF_ERROR(mesh.Int("rows", &g.mesh_rows));
  LMHEAD_RETURN_IF_ERROR(mesh.Int("cols", &g.mesh_cols));
  LMHEAD_ASSIGN_OR_RETURN(Fields layout, root.Object("layout"));
  LMHEAD_RETURN_IF_ERROR(layout.Int("num_banks", &g.num_banks));
  LMHEAD_RETURN_IF_ERROR(layout.Int("shard_w", &g.shard_w));
  const Status valid = ValidateShardGeometry(g);
  if (!valid.ok()) return root.Error("model/mesh/layout", valid.message());
  return Status::Ok();
}

Status ParseSource(const Fields& root, WeightsManifest* m) {
  LMHEAD_ASSIGN_OR_RETURN(Fields source, root.Object("source"));
  LMHEAD_RETURN_IF_ERROR(source.Str("checkpoint", &m->source_checkpoint));
  LMHEAD_RETURN_IF_ERROR(source.Str("tensor", &m->source_tensor));
  LMHEAD_RETURN_IF_ERROR(source.Str("dtype", &m->source_dtype));
  LMHEAD_RETURN_IF_ERROR(source.Ints("shape", &m->source_shape));
  LMHEAD_RETURN_IF_ERROR(source.Hex("tensor_xxh3", &m->source_xxh3));
  const Json* files = nullptr;
  LMHEAD_RETURN_IF_ERROR(source.Get("files", &files));
  if (!files->is_array()) return source.Error("files", "is not an array");
  for (const Json& item : *files) {
    if (!item.is_object()) return source.Error("files", "holds a non-object");
    const Fields file(item, source.what(), "source.files[].");
    WeightsManifest::SourceFile entry;
    LMHEAD_RETURN_IF_ERROR(file.Str("name", &entry.name));
    LMHEAD_RETURN_IF_ERROR(file.UInt("bytes", &entry.bytes));
    m->source_files.push_back(std::move(entry));
  }
  return Status::Ok();
}

Status ParseShard(const Fields& shard, const ShardGeometry& g, int64_t device_idx,
                  WeightsManifest::Shard* out) {
  LMHEAD_RETURN_IF_ERROR(shard.Str("file", &out->file));
  LMHEAD_RETURN_IF_ERROR(shard.Int("device_idx", &out->device_idx));
  std::vector<int64_t> coord;
  LMHEAD_RETURN_IF_ERROR(shard.Ints("mesh_coord", &coord));
  LMHEAD_RETURN_IF_ERROR(shard.UInt("bytes", &out->bytes));
  LMHEAD_RETURN_IF_ERROR(shard.Hex("xxh3", &out->xxh3));
  LMHEAD_RETURN_IF_ERROR(shard.Int("col_offset", &out->col_offset));
  LMHEAD_RETURN_IF_ERROR(shard.Int("cols", &out->cols));
  LMHEAD_RETURN_IF_ERROR(shard.Int("valid_cols", &out->valid_cols));
  LMHEAD_RETURN_IF_ERROR(shard.Ints("bank_cols", &out->bank_cols));
  if (coord.size() != 2) return shard.Error("mesh_coord", "is not [row, col]");
  out->mesh_row = coord[0];
  out->mesh_col = coord[1];
  std::vector<int64_t> want_bank_cols;
  for (int64_t bank_idx = 0; bank_idx < g.num_banks; ++bank_idx) {
    want_bank_cols.push_back(g.BankCols(bank_idx));
  }
  const bool consistent =
      out->file == ShardFileName(device_idx) && out->device_idx == device_idx &&
      out->mesh_row == device_idx / g.mesh_cols && out->mesh_col == device_idx % g.mesh_cols &&
      out->col_offset == device_idx * g.cols() && out->cols == g.cols() &&
      out->valid_cols == g.ValidCols(device_idx) && out->bank_cols == want_bank_cols;
  if (!consistent) {
    return shard.Error("(entry)", fmt::format("does not describe device {} of a {}x{} mesh",
                                              device_idx, g.mesh_rows, g.mesh_cols));
  }
  return Status::Ok();
}

}  // namespace

Result<WeightsManifest> ParseWeightsManifest(std::string_view text, std::string_view what) {
  const Json json = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  const Fields root(json, what, "");
  if (json.is_discarded() || !json.is_object())
    return root.Error("(document)", "is not a JSON object");
  WeightsManifest m;
  std::string format;
  LMHEAD_RETURN_IF_ERROR(root.Str("format", &format));
  if (format != "lmhead-weights") return root.Error("format", "is not \"lmhead-weights\"");
  LMHEAD_RETURN_IF_ERROR(root.Int("format_version", &m.format_version));
  if (m.format_version != 1) {
    return Status::NotSupported(fmt::format(
        "[WeightsManifest] {}: format_version {} is not 1; it was written by a newer lmhead", what,
        m.format_version));
  }
  LMHEAD_RETURN_IF_ERROR(ParseGeometry(root, &m));
  LMHEAD_RETURN_IF_ERROR(root.Str("device", &m.device));
  const Json* plan = nullptr;
  LMHEAD_RETURN_IF_ERROR(root.Get("plan", &plan));
  m.plan_json = plan->dump(2, ' ', false, Json::error_handler_t::replace);
  LMHEAD_RETURN_IF_ERROR(ParseSource(root, &m));
  const Json* shards = nullptr;
  LMHEAD_RETURN_IF_ERROR(root.Get("shards", &shards));
  if (!shards->is_array() || static_cast<int64_t>(shards->size()) != m.geometry.num_devices()) {
    return root.Error("shards", fmt::format("is not an array of {} entries (one per device)",
                                            m.geometry.num_devices()));
  }
  for (const Json& item : *shards) {
    const int64_t device_idx = static_cast<int64_t>(m.shards.size());
    const Fields shard(item, what, fmt::format("shards[{}].", device_idx));
    if (!item.is_object()) return root.Error("shards", "holds a non-object");
    m.shards.emplace_back();
    LMHEAD_RETURN_IF_ERROR(ParseShard(shard, m.geometry, device_idx, &m.shards.back()));
  }
  return m;
}

std::string WeightsManifestToJson(const WeightsManifest& m) {
  const ShardGeometry& g = m.geometry;
  Json plan = Json::parse(m.plan_json, nullptr, /*allow_exceptions=*/false);
  if (plan.is_discarded()) plan = Json::object();
  Json files = Json::array();
  for (const auto& file : m.source_files)
    files.push_back({{"name", file.name}, {"bytes", file.bytes}});
  Json shards = Json::array();
  for (const auto& shard : m.shards) {
    shards.push_back({{"file", shard.file},
                      {"device_idx", shard.device_idx},
                      {"mesh_coord", {shard.mesh_row, shard.mesh_col}},
                      {"bytes", shard.bytes},
                      {"xxh3", HexU64(shard.xxh3)},
                      {"col_offset", shard.col_offset},
                      {"cols", shard.cols},
                      {"valid_cols", shard.valid_cols},
                      {"bank_cols", shard.bank_cols}});
  }
  const Json json = {
      {"format", "lmhead-weights"},
      {"format_version", m.format_version},
      {"tile_format", ToString(g.format)},
      {"model",
       {{"hidden_size", g.hidden_size},
        {"vocab_size", g.vocab_size},
        {"valid_vocab_size", g.valid_vocab_size},
        {"pad_vocab_cols", g.vocab_size - g.valid_vocab_size}}},
      {"mesh", {{"rows", g.mesh_rows}, {"cols", g.mesh_cols}, {"num_devices", g.num_devices()}}},
      {"device", m.device},
      {"layout",
       {{"num_banks", g.num_banks},
        {"shard_w", g.shard_w},
        {"k_tiles", g.k_tiles()},
        {"n_tiles", g.n_tiles()},
        {"cols_per_device", g.cols()},
        {"blob_alignment", 4096}}},
      {"plan", plan},
      {"source",
       {{"checkpoint", m.source_checkpoint},
        {"tensor", m.source_tensor},
        {"dtype", m.source_dtype},
        {"shape", m.source_shape},
        {"tensor_xxh3", HexU64(m.source_xxh3)},
        {"files", files}}},
      {"shards", shards},
  };
  return json.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace lmhead
