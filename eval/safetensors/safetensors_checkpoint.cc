#include "eval/safetensors/safetensors_checkpoint.h"

#include <sys/stat.h>

#include <utility>

#include "absl/strings/str_format.h"
#include "base/files.h"
#include "base/json_text.h"
#include "base/status_macros.h"

namespace kvlab::safetensors {

namespace {

bool FileExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

// A shard must be a file beside the index: no directories, no way out of it.
bool IsPlainFileName(absl::string_view name) {
  return !name.empty() && name != "." && name != ".." &&
         name.find('/') == absl::string_view::npos && name.find('\0') == absl::string_view::npos;
}

}  // namespace

absl::StatusOr<ShardIndex> ParseShardIndex(const std::string& path, absl::string_view text) {
  KVLAB_ASSIGN_OR_RETURN(const nlohmann::json index, ParseJsonText(path, text));
  if (!index.is_object()) {
    return absl::DataLossError(
        absl::StrFormat("%s: is a JSON %s, not an object", path, JsonTypeName(index)));
  }
  const auto map = index.find("weight_map");
  if (map == index.end() || !map->is_object()) {
    return absl::DataLossError(
        absl::StrFormat("%s: has no \"weight_map\" object of tensor names to shard files", path));
  }
  ShardIndex shards;
  for (const auto& [tensor, shard] : map->items()) {
    if (!shard.is_string() || !IsPlainFileName(shard.get<std::string>())) {
      return absl::DataLossError(absl::StrFormat(
          "%s: weight_map entry '%s' must name a shard file beside the index", path, tensor));
    }
    shards[tensor] = shard.get<std::string>();
  }
  if (shards.empty()) {
    return absl::DataLossError(absl::StrFormat("%s: weight_map names no tensor", path));
  }
  return shards;
}

absl::StatusOr<std::unique_ptr<SafetensorsCheckpoint>> SafetensorsCheckpoint::OpenDirectory(
    const std::string& dir) {
  const std::string index_path = dir + "/" + kIndexFileName;
  const std::string single_path = dir + "/" + kSingleFileName;
  std::unique_ptr<SafetensorsCheckpoint> checkpoint(new SafetensorsCheckpoint());
  if (!FileExists(index_path)) {
    if (!FileExists(single_path)) {
      return absl::NotFoundError(absl::StrFormat("%s: holds neither %s nor %s", dir,
                                                 kSingleFileName, kIndexFileName));
    }
    std::vector<std::unique_ptr<SafetensorsFile>> files;
    KVLAB_ASSIGN_OR_RETURN(files.emplace_back(), SafetensorsFile::Open(single_path));
    return FromFiles(std::move(files));
  }
  KVLAB_ASSIGN_OR_RETURN(const std::string text, ReadFileToString(index_path));
  KVLAB_ASSIGN_OR_RETURN(const ShardIndex index, ParseShardIndex(index_path, text));
  checkpoint->paths_.push_back(index_path);
  absl::flat_hash_map<std::string, const SafetensorsFile*> opened;
  for (const auto& [tensor, shard] : index) {
    if (!opened.contains(shard)) {
      const std::string shard_path = dir + "/" + shard;
      if (!FileExists(shard_path)) {
        return absl::NotFoundError(absl::StrFormat(
            "%s: names shard '%s' (for tensor '%s'), which is not in %s", index_path, shard,
            tensor, dir));
      }
      KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<SafetensorsFile> file,
                             SafetensorsFile::Open(shard_path));
      opened[shard] = file.get();
      checkpoint->paths_.push_back(shard_path);
      checkpoint->files_.push_back(std::move(file));
    }
    const SafetensorsFile* file = opened[shard];
    const SafetensorsTensor* found = file->FindTensor(tensor);
    if (found == nullptr) {
      return absl::DataLossError(absl::StrFormat(
          "%s: puts tensor '%s' in shard '%s', which does not hold it", index_path, tensor, shard));
    }
    checkpoint->tensors_[tensor] = Located{file, found};
  }
  return checkpoint;
}

absl::StatusOr<std::unique_ptr<SafetensorsCheckpoint>> SafetensorsCheckpoint::FromFiles(
    std::vector<std::unique_ptr<SafetensorsFile>> files) {
  std::unique_ptr<SafetensorsCheckpoint> checkpoint(new SafetensorsCheckpoint());
  for (const auto& file : files) {
    checkpoint->paths_.push_back(file->path());
    for (const SafetensorsTensor& t : file->tensors()) {
      const auto [it, inserted] = checkpoint->tensors_.try_emplace(t.name, Located{file.get(), &t});
      if (!inserted) {
        return absl::DataLossError(absl::StrFormat("%s: tensor '%s' is also in %s", file->path(),
                                                   t.name, it->second.file->path()));
      }
    }
  }
  if (checkpoint->paths_.empty()) {
    return absl::InvalidArgumentError("a safetensors checkpoint needs at least one file");
  }
  checkpoint->files_ = std::move(files);
  return checkpoint;
}

const SafetensorsCheckpoint::Located* SafetensorsCheckpoint::Find(absl::string_view name) const {
  const auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

std::vector<SafetensorsCheckpoint::Located> SafetensorsCheckpoint::AllTensors() const {
  std::vector<Located> all;
  for (const std::unique_ptr<SafetensorsFile>& file : files_) {
    for (const SafetensorsTensor& tensor : file->tensors()) all.push_back({file.get(), &tensor});
  }
  return all;
}

}  // namespace kvlab::safetensors
