// Checks that decoding through a model's dense cache one token at a time gives the
// hidden states and logits of one causal forward over the same tokens, for any model
// LoadModel() runs (the tests check the same on tiny random models):
//
//   bazel run //eval/model:check_streaming -- --model=third_party/models/<file>.gguf --tokens=600
//   bazel run //eval/model:check_streaming -- --model=/path/to/hf-model-directory
//
// Tokens are random ids (seed 0). Prints the largest relative errors and the tokens
// each layer's cache holds at the end; exits non-zero above --tolerance.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "eval/model/load_model.h"

ABSL_FLAG(std::string, model, "",
          "GGUF model file, or Hugging Face model directory (config.json + safetensors)");
ABSL_FLAG(int64_t, tokens, 600, "tokens to run (past the sliding window, for a model with one)");
ABSL_FLAG(int64_t, logit_rows, 64, "last positions whose logits are compared too");
ABSL_FLAG(double, tolerance, 1e-4, "largest relative error accepted");
ABSL_FLAG(int, threads, 2, "CPU threads");

namespace kvlab::model {
namespace {

double MaxRelativeError(const at::Tensor& actual, const at::Tensor& expected) {
  return ((actual - expected).abs().max() / expected.abs().max()).item<double>();
}

absl::Status Check() {
  at::set_num_threads(absl::GetFlag(FLAGS_threads));
  at::manual_seed(0);
  const std::string path = ResolveUserPath(absl::GetFlag(FLAGS_model));
  const int64_t n = absl::GetFlag(FLAGS_tokens);
  if (absl::GetFlag(FLAGS_model).empty() || n < 2) {
    return absl::InvalidArgumentError(
        "--model must name a GGUF file or a model directory, and --tokens be >= 2");
  }
  KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<ModelFiles> files, ModelFiles::Open(path));
  KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<DecoderModel> model, LoadModel(*files, {}));
  const ModelInfo info = model->info();
  const at::Tensor tokens = at::randint(0, info.vocab, {1, n}, at::kLong);

  KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<KvCache> full_cache, model->NewDenseCache());
  KVLAB_ASSIGN_OR_RETURN(const at::Tensor full, model->Forward(tokens, 0, {full_cache.get()}));
  KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<KvCache> cache, model->NewDenseCache());
  std::vector<at::Tensor> rows;
  for (int64_t t = 0; t < n; ++t) {
    KVLAB_ASSIGN_OR_RETURN(at::Tensor hidden,
                           model->Forward(tokens.narrow(1, t, 1), t, {cache.get()}));
    rows.push_back(std::move(hidden));
  }
  const at::Tensor streamed = at::cat(rows, 1);
  const int64_t logit_rows = std::min(n, absl::GetFlag(FLAGS_logit_rows));
  const double hidden_error = MaxRelativeError(streamed, full);
  const double logit_error =
      MaxRelativeError(model->Logits(streamed.narrow(1, n - logit_rows, logit_rows)),
                       model->Logits(full.narrow(1, n - logit_rows, logit_rows)));
  std::vector<int64_t> lengths;
  for (int layer = 0; layer < cache->num_layers(); ++layer) lengths.push_back(cache->Length(layer));
  absl::PrintF("%s (%s), %d tokens: max relative error %.3g (hidden states), %.3g (logits of "
               "the last %d positions); tokens held per layer: %s\n",
               info.name, info.architecture, n, hidden_error, logit_error, logit_rows,
               absl::StrJoin(lengths, " "));
  if (std::max(hidden_error, logit_error) > absl::GetFlag(FLAGS_tolerance)) {
    return absl::InternalError(absl::StrFormat("error above the tolerance %g",
                                               absl::GetFlag(FLAGS_tolerance)));
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace kvlab::model

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const absl::Status status = kvlab::model::Check();
  if (!status.ok()) {
    absl::FPrintF(stderr, "check_streaming: %s\n", status.message());
    return 1;
  }
  return 0;
}
