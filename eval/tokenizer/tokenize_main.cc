// Prints the token ids of a text file under a model's tokenizer, in the form llama.cpp's
// `llama-tokenize --ids` prints them, so the two can be compared:
//
//   bazel run //eval/tokenizer:tokenize -- --file=../shared/data/wikitext-2-raw/wiki.test.raw
//
// --model is a GGUF file (by default the default model), a Hugging Face tokenizer.json,
// or a model directory holding one (model_path_tokenizer.h); --add_bos and --count_only
// are optional.
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_join.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "eval/tokenizer/model_path_tokenizer.h"

ABSL_FLAG(std::string, model, "third_party/models/SmolLM2-135M-Instruct.Q4_1.gguf",
          "GGUF file, tokenizer.json or Hugging Face model directory whose tokenizer to use");
ABSL_FLAG(std::string, file, "", "text file to tokenize");
ABSL_FLAG(bool, add_bos, false, "prepend the BOS token");
ABSL_FLAG(bool, count_only, false, "print only the number of tokens");

namespace kvlab {
namespace {

absl::Status Run() {
  const std::string model_path = ResolveUserPath(absl::GetFlag(FLAGS_model));
  const std::string text_path = ResolveUserPath(absl::GetFlag(FLAGS_file));
  if (absl::GetFlag(FLAGS_file).empty()) return absl::InvalidArgumentError("--file is required");
  KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<tokenizer::Tokenizer> tokenizer,
                         tokenizer::TokenizerFromModelPath(model_path));
  KVLAB_ASSIGN_OR_RETURN(const std::string text, ReadFileToString(text_path));
  const std::vector<int32_t> ids = tokenizer->Encode(text, absl::GetFlag(FLAGS_add_bos));
  if (absl::GetFlag(FLAGS_count_only)) {
    std::cout << ids.size() << "\n";
  } else {
    std::cout << "[" << absl::StrJoin(ids, ", ") << "]\n";
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace kvlab

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const absl::Status status = kvlab::Run();
  if (!status.ok()) {
    std::cerr << "tokenize: " << status.message() << "\n";
    return 1;
  }
  return 0;
}
