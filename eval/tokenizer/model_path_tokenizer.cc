#include "eval/tokenizer/model_path_tokenizer.h"

#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "eval/gguf/gguf_file.h"
#include "eval/tokenizer/gguf_tokenizer.h"
#include "eval/tokenizer/hf_tokenizer_json.h"

namespace kvlab::tokenizer {

absl::StatusOr<std::unique_ptr<Tokenizer>> TokenizerFromModelPath(const std::string& path) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    const std::string json = (std::filesystem::path(path) / "tokenizer.json").string();
    if (!std::filesystem::is_regular_file(json, error)) {
      return absl::NotFoundError(absl::StrFormat(
          "%s: a model directory needs a tokenizer.json, and there is none", path));
    }
    return TokenizerFromJson(json);
  }
  if (absl::EndsWith(path, ".json")) return TokenizerFromJson(path);
  KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<gguf::GgufFile> file, gguf::GgufFile::Open(path));
  return TokenizerFromGguf(*file);
}

}  // namespace kvlab::tokenizer
