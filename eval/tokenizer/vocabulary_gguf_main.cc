// Writes a GGUF that holds another GGUF's metadata only (no tensors), with
// `tokenizer.ggml.pre` set to --pre and `tokenizer.ggml.add_bos_token` to false: a real
// vocabulary under any pre-tokenizer name, which `llama-tokenize` (it reads the
// vocabulary only) and //eval/tokenizer:tokenize both load, for comparing their ids
// (scripts/compare_pre_tokenizers.sh).
//
//   bazel run //eval/tokenizer:vocabulary_gguf -- --model=q.gguf --pre=llama-bpe --out=/tmp/l.gguf
#include <cstdio>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "eval/gguf/gguf_file.h"
#include "eval/gguf/gguf_writer.h"

ABSL_FLAG(std::string, model, "", "GGUF file whose metadata (and vocabulary) to copy");
ABSL_FLAG(std::string, pre, "", "tokenizer.ggml.pre of the written file");
ABSL_FLAG(std::string, out, "", "GGUF file to write");

namespace kvlab {
namespace {

absl::Status Run() {
  for (const auto* flag : {&FLAGS_model, &FLAGS_pre, &FLAGS_out}) {
    if (absl::GetFlag(*flag).empty()) {
      return absl::InvalidArgumentError("--model, --pre and --out are required");
    }
  }
  const std::string out = ResolveUserPath(absl::GetFlag(FLAGS_out));
  KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<gguf::GgufFile> file,
                         gguf::GgufFile::Open(ResolveUserPath(absl::GetFlag(FLAGS_model))));
  gguf::GgufWriter writer;
  writer.alignment = static_cast<uint32_t>(file->alignment());
  for (const std::string& key : file->metadata_keys()) {
    if (key == "tokenizer.ggml.pre" || key == "tokenizer.ggml.add_bos_token") continue;
    writer.AddMetadata(key, *file->FindMetadata(key));
  }
  writer.AddString("tokenizer.ggml.pre", absl::GetFlag(FLAGS_pre));
  writer.AddBool("tokenizer.ggml.add_bos_token", false);
  // Written beside the target and renamed, so a failed run leaves no partial file.
  const std::string partial = out + ".partial";
  KVLAB_RETURN_IF_ERROR(writer.WriteFile(partial));
  if (std::rename(partial.c_str(), out.c_str()) != 0) {
    std::remove(partial.c_str());
    return absl::InternalError(absl::StrFormat("%s: cannot rename %s onto it", out, partial));
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace kvlab

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const absl::Status status = kvlab::Run();
  if (!status.ok()) {
    std::cerr << "vocabulary_gguf: " << status.message() << "\n";
    return 1;
  }
  return 0;
}
