#include "experiments/model_hash.h"

#include <sys/stat.h>

#include <vector>

#include "experiments/fingerprint.h"

namespace kvlab::experiments {

absl::StatusOr<std::string> HashModel(const model::ModelFiles& files) {
  std::vector<std::string> paths = files.paths();
  if (files.hf() != nullptr) {
    for (const char* name : {"tokenizer.json", "tokenizer_config.json", "chat_template.jinja"}) {
      const std::string path = files.path() + "/" + name;
      struct stat st;
      if (::stat(path.c_str(), &st) == 0) paths.push_back(path);
    }
  }
  return HashFiles(paths);
}

}  // namespace kvlab::experiments
