// Writes a model's logits for a list of token ids, one causal forward through a dense
// cache, as raw little-endian fp32 [tokens, vocab], for comparison with another
// implementation (hf_reference/compare_with_transformers.py):
//
//   bazel run //eval/model:logits -- --model=/path/to/hf-dir --tokens=2,236743,107 --out=/tmp/l.f32
#include <ATen/ATen.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "eval/model/load_model.h"

ABSL_FLAG(std::string, model, "", "GGUF model file or Hugging Face model directory");
ABSL_FLAG(std::string, tokens, "", "token ids, comma-separated");
ABSL_FLAG(std::string, out, "", "file to write the fp32 logits to");

namespace kvlab::model {
namespace {

absl::Status WriteLogits() {
  std::vector<int64_t> ids;
  for (const absl::string_view piece : absl::StrSplit(absl::GetFlag(FLAGS_tokens), ',')) {
    int64_t id = 0;
    if (!absl::SimpleAtoi(piece, &id)) {
      return absl::InvalidArgumentError(absl::StrFormat("--tokens: '%s' is not an id", piece));
    }
    ids.push_back(id);
  }
  if (absl::GetFlag(FLAGS_model).empty() || absl::GetFlag(FLAGS_out).empty()) {
    return absl::InvalidArgumentError("--model and --out are required");
  }
  KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<ModelFiles> files,
                         ModelFiles::Open(ResolveUserPath(absl::GetFlag(FLAGS_model))));
  KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<DecoderModel> model, LoadModel(*files, {}));
  KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<KvCache> cache, model->NewDenseCache());
  KVLAB_ASSIGN_OR_RETURN(const at::Tensor hidden,
                         model->Forward(at::tensor(ids).unsqueeze(0), 0, {cache.get()}));
  const at::Tensor logits = model->Logits(hidden).squeeze(0).contiguous();
  const std::string out = ResolveUserPath(absl::GetFlag(FLAGS_out));
  std::ofstream file(out, std::ios::binary | std::ios::trunc);
  file.write(static_cast<const char*>(logits.data_ptr()),
             static_cast<std::streamsize>(logits.numel() * sizeof(float)));
  file.close();
  if (!file) return absl::InternalError(absl::StrFormat("%s: cannot write", out));
  absl::PrintF("%s: logits [%d, %d] of %s\n", out, logits.size(0), logits.size(1),
               model->info().name);
  return absl::OkStatus();
}

}  // namespace
}  // namespace kvlab::model

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const absl::Status status = kvlab::model::WriteLogits();
  if (!status.ok()) {
    absl::FPrintF(stderr, "logits: %s\n", status.message());
    return 1;
  }
  return 0;
}
