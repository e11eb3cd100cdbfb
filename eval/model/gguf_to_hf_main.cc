// The command line of ConvertGgufToHf (gguf_to_hf.h).
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"
#include "base/files.h"
#include "eval/model/gguf_to_hf.h"

ABSL_FLAG(std::string, gguf, "", "GGUF model file (llama, qwen2 or gemma3)");
ABSL_FLAG(std::string, out, "", "directory to write (created if absent)");
ABSL_FLAG(int64_t, shard_bytes, int64_t{1} << 30,
          "largest shard; a model above it is written as shards with an index");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  absl::Status status;
  if (absl::GetFlag(FLAGS_gguf).empty() || absl::GetFlag(FLAGS_out).empty()) {
    status = absl::InvalidArgumentError("--gguf and --out are required");
  } else {
    status = kvlab::model::ConvertGgufToHf(kvlab::ResolveUserPath(absl::GetFlag(FLAGS_gguf)),
                                           kvlab::ResolveUserPath(absl::GetFlag(FLAGS_out)),
                                           absl::GetFlag(FLAGS_shard_bytes));
  }
  if (!status.ok()) {
    absl::FPrintF(stderr, "gguf_to_hf: %s\n", status.message());
    return 1;
  }
  return 0;
}
