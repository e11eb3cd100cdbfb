// Prints the words a GGUF pre-tokenizer (a `tokenizer.ggml.pre` name, pre_tokenizer.h)
// splits a text file into, one per line, C-escaped (absl::CHexEscape), to see where two
// tokenizations part:
//
//   bazel run //eval/tokenizer:pre_tokenize -- --pre=qwen2 --file=/tmp/text.txt
//
// --list prints the supported names instead, one per line; --patterns the name's split
// patterns (regexes as llama.cpp writes them), one per line.
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/escaping.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "eval/tokenizer/pre_tokenizer.h"

ABSL_FLAG(std::string, pre, "", "pre-tokenizer name, as tokenizer.ggml.pre writes it");
ABSL_FLAG(std::string, file, "", "text file to split");
ABSL_FLAG(bool, list, false, "print the supported pre-tokenizer names and exit");
ABSL_FLAG(bool, patterns, false, "print --pre's split patterns and exit");

namespace kvlab {
namespace {

absl::Status Run() {
  if (absl::GetFlag(FLAGS_list)) {
    for (const std::string& name : tokenizer::PreTokenizer::SupportedNames()) {
      std::cout << name << "\n";
    }
    return absl::OkStatus();
  }
  KVLAB_ASSIGN_OR_RETURN(const tokenizer::PreTokenizer pre,
                         tokenizer::PreTokenizer::ForName(absl::GetFlag(FLAGS_pre)));
  if (absl::GetFlag(FLAGS_patterns)) {
    for (absl::string_view regex : pre.regexes()) std::cout << regex << "\n";
    return absl::OkStatus();
  }
  if (absl::GetFlag(FLAGS_file).empty()) return absl::InvalidArgumentError("--file is required");
  KVLAB_ASSIGN_OR_RETURN(const std::string text,
                         ReadFileToString(ResolveUserPath(absl::GetFlag(FLAGS_file))));
  for (const std::string& word : pre.Split(text)) std::cout << absl::CHexEscape(word) << "\n";
  return absl::OkStatus();
}

}  // namespace
}  // namespace kvlab

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const absl::Status status = kvlab::Run();
  if (!status.ok()) {
    std::cerr << "pre_tokenize: " << status.message() << "\n";
    return 1;
  }
  return 0;
}
