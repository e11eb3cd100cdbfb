#include "experiments/model_hash.h"

#include <sys/stat.h>

#include <filesystem>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "experiments/fingerprint.h"

namespace kvlab::experiments {

namespace {

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

std::vector<std::string> TokenizerFiles(const std::string& path) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    std::vector<std::string> files = {path + "/tokenizer.json"};
    if (Exists(path + "/tokenizer_config.json")) files.push_back(path + "/tokenizer_config.json");
    return files;
  }
  std::vector<std::string> files = {path};
  if (absl::EndsWith(path, ".json")) {
    const std::string config =
        (std::filesystem::path(path).parent_path() / "tokenizer_config.json").string();
    if (Exists(config)) files.push_back(config);
  }
  return files;
}

absl::StatusOr<std::string> HashModel(const model::ModelFiles& files,
                                      const std::string& tokenizer_path) {
  std::vector<std::string> paths = files.paths();
  if (files.hf() != nullptr) {
    for (const char* name : {"tokenizer.json", "tokenizer_config.json", "chat_template.jinja"}) {
      const std::string path = files.path() + "/" + name;
      if (Exists(path)) paths.push_back(path);
    }
  }
  if (!tokenizer_path.empty()) {
    for (std::string& path : TokenizerFiles(tokenizer_path)) paths.push_back(std::move(path));
  }
  return HashFiles(paths);
}

}  // namespace kvlab::experiments
