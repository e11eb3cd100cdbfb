// SafetensorsCheckpoint: the weights of a Hugging Face model directory, in one
// model.safetensors or in shards listed by model.safetensors.index.json.
//
// The index is {"metadata": {...}, "weight_map": {"<tensor>": "<shard file>", ...}};
// each shard named there is mapped once (SafetensorsFile) and must hold every tensor
// the index puts in it.
//
//   KVLAB_ASSIGN_OR_RETURN(auto checkpoint, SafetensorsCheckpoint::OpenDirectory(dir));
//   const SafetensorsCheckpoint::Located* w = checkpoint->Find("model.norm.weight");
//
// Errors are one line naming the file (index or shard) and the problem.
#ifndef KVLAB_EVAL_SAFETENSORS_SAFETENSORS_CHECKPOINT_H_
#define KVLAB_EVAL_SAFETENSORS_SAFETENSORS_CHECKPOINT_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "eval/safetensors/safetensors_file.h"

namespace kvlab::safetensors {

// The file names a single-file checkpoint and a sharded one's index have.
inline constexpr char kSingleFileName[] = "model.safetensors";
inline constexpr char kIndexFileName[] = "model.safetensors.index.json";

// An index's weight_map: tensor name -> shard file name (a plain name, in the
// index's directory).
using ShardIndex = std::map<std::string, std::string>;

// Parses the text of an index file (`path` names it in messages). DataLoss unless it is
// an object whose "weight_map" maps tensor names to plain file names.
absl::StatusOr<ShardIndex> ParseShardIndex(const std::string& path, absl::string_view text);

class SafetensorsCheckpoint {
 public:
  struct Located {
    const SafetensorsFile* file;
    const SafetensorsTensor* tensor;
  };

  // Opens `dir`'s index and its shards when the index exists, else `dir`'s
  // model.safetensors; NotFound naming the directory when it has neither.
  static absl::StatusOr<std::unique_ptr<SafetensorsCheckpoint>> OpenDirectory(
      const std::string& dir);
  // A checkpoint of the given files, already open (tests; each tensor name at most once).
  static absl::StatusOr<std::unique_ptr<SafetensorsCheckpoint>> FromFiles(
      std::vector<std::unique_ptr<SafetensorsFile>> files);

  // The tensor `name`, or nullptr.
  const Located* Find(absl::string_view name) const;
  // Every tensor of every file, in file order (an index's shards may hold tensors its
  // weight_map does not name: they are here too).
  std::vector<Located> AllTensors() const;
  // The shards (or the single file), each tensor in exactly one.
  const std::vector<std::unique_ptr<SafetensorsFile>>& files() const { return files_; }
  // Every file the checkpoint reads (the index first when there is one), for
  // fingerprints and messages.
  const std::vector<std::string>& paths() const { return paths_; }
  // What stands for the checkpoint in messages: the index or the single file.
  const std::string& description() const { return paths_.front(); }

 private:
  SafetensorsCheckpoint() = default;

  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  absl::flat_hash_map<std::string, Located> tensors_;
  std::vector<std::string> paths_;
};

}  // namespace kvlab::safetensors

#endif  // KVLAB_EVAL_SAFETENSORS_SAFETENSORS_CHECKPOINT_H_
