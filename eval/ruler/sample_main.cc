// Prints one RULER sample for a model's tokenizer and chat template: the prompt as the
// model sees it, its length in tokens and the expected answers; with --answer, also
// the model's greedy answer through the dense cache and its score. For reading samples
// and auditing a run's records:
//
//   bazel run //eval/ruler:print_sample -- --model=third_party/models/gemma-3-270m-q4_k_m.gguf \
//     --essay=/path/to/wiki.test.raw --task=niah_multikey_1 --length=4096 --seed=42 --index=0
#include <cstdint>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "eval/gguf/gguf_file.h"
#include "eval/model/load_model.h"
#include "eval/retrieval/chat_format.h"
#include "eval/ruler/generator.h"
#include "eval/ruler/resources.h"
#include "eval/ruler/ruler_run.h"
#include "eval/tokenizer/gguf_tokenizer.h"

ABSL_FLAG(std::string, model, "", "GGUF model file (its tokenizer and chat template)");
ABSL_FLAG(std::string, essay, "", "plain text for the essay haystack (WikiText-2 in runs)");
ABSL_FLAG(std::string, word_lists, "third_party/wordlists",
          "folder with wonderwords' nounlist.txt, adjectivelist.txt, verblist.txt");
ABSL_FLAG(std::string, task, "niah_single_1", "RULER task name");
ABSL_FLAG(int64_t, length, 4096, "context length in the model's tokens, output included");
ABSL_FLAG(uint64_t, seed, 42, "the run's seed");
ABSL_FLAG(int64_t, index, 0, "the sample's index");
ABSL_FLAG(bool, answer, false, "also answer it through the dense cache and score the answer");
ABSL_FLAG(bool, quiet, false, "leave the prompt out");

namespace kvlab::ruler {
namespace {

absl::Status PrintSample() {
  if (absl::GetFlag(FLAGS_model).empty() || absl::GetFlag(FLAGS_essay).empty()) {
    return absl::InvalidArgumentError("--model and --essay are required");
  }
  KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<gguf::GgufFile> file,
                         gguf::GgufFile::Open(ResolveUserPath(absl::GetFlag(FLAGS_model))));
  KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<tokenizer::Tokenizer> tokenizer,
                         tokenizer::TokenizerFromGguf(*file));
  const absl::StatusOr<std::string> chat_template = file->GetString("tokenizer.chat_template");
  const retrieval::ChatFormat format =
      retrieval::DetectChatFormat(chat_template.ok() ? *chat_template : "");
  KVLAB_ASSIGN_OR_RETURN(const std::string architecture,
                         file->GetString("general.architecture"));
  const absl::StatusOr<int64_t> context =
      file->GetInt(absl::StrFormat("%s.context_length", architecture));
  KVLAB_ASSIGN_OR_RETURN(
      RulerResources resources,
      LoadRulerResources(ResolveUserPath(absl::GetFlag(FLAGS_word_lists)),
                         ResolveUserPath(absl::GetFlag(FLAGS_essay))));
  KVLAB_ASSIGN_OR_RETURN(
      std::unique_ptr<RulerGenerator> generator,
      RulerGenerator::Create(*tokenizer, format, std::move(resources), context.ok() ? *context : 0));
  KVLAB_ASSIGN_OR_RETURN(
      const RulerSample sample,
      generator->Generate(absl::GetFlag(FLAGS_task), absl::GetFlag(FLAGS_length),
                          absl::GetFlag(FLAGS_seed), absl::GetFlag(FLAGS_index)));
  if (!absl::GetFlag(FLAGS_quiet)) absl::PrintF("%s\n", sample.prompt);
  absl::PrintF(
      "--- %s, length %d: %d prompt tokens + %d output tokens = %d; haystack units %d\n"
      "--- answers: %s\n",
      sample.task, sample.length, sample.tokens.size(), sample.output_tokens,
      sample.total_tokens(), sample.haystack_units, absl::StrJoin(sample.answers, " | "));
  if (!absl::GetFlag(FLAGS_answer)) return absl::OkStatus();
  KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<model::DecoderModel> model,
                         model::LoadModel(*file, model::LoadOptions{}));
  const KvCacheFactory dense = [&model] { return model->NewDenseCache(); };
  const auto start = absl::Now();
  KVLAB_ASSIGN_OR_RETURN(
      const std::vector<RulerRecord> records,
      RunRulerSample(*model, *tokenizer, sample, {dense}, true, StopTokens(*tokenizer, format)));
  const RulerRecord& r = records[0];
  absl::PrintF("--- output (%d tokens, %.1f s): %s\n--- score %g, prompt hash %s\n",
               r.output_tokens, absl::ToDoubleSeconds(absl::Now() - start),
               absl::CHexEscape(r.output), r.score, r.prompt_hash);
  return absl::OkStatus();
}

}  // namespace
}  // namespace kvlab::ruler

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const absl::Status status = kvlab::ruler::PrintSample();
  if (!status.ok()) {
    absl::FPrintF(stderr, "print_sample: %s\n", status.message());
    return 1;
  }
  return 0;
}
