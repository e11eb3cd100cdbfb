// RulerGenerator: RULER samples as token prompts for one model, each fitted to a
// context length counted in the model's own tokens.
//
// A sample is a pure function of (task, length, seed, index, tokenizer, chat format,
// resources): its random draws come from SampleRandom seeded with SampleSeed(seed,
// task, length, index), redrawn the same way for every haystack size tried. As RULER
// does, the haystack's size (lines, words or list entries) is searched for the largest
// whose prompt plus the task's output tokens fits in `length`; the prompt is the user
// turn in the model's chat format (RULER's model template), its answer prefix opening
// the model's turn, BOS first when the model adds one. Where the model has no chat
// template the answer prefix follows the user text directly (RULER's "base" template).
//
//   KVLAB_ASSIGN_OR_RETURN(auto generator,
//                          RulerGenerator::Create(tokenizer, format, resources, 8192));
//   KVLAB_ASSIGN_OR_RETURN(RulerSample s, generator->Generate("niah_single_1", 4096, 42, 0));
//
// Thread-compatible: Generate() tokenizes and memoises.
#ifndef KVLAB_EVAL_RULER_GENERATOR_H_
#define KVLAB_EVAL_RULER_GENERATOR_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "eval/retrieval/chat_format.h"
#include "eval/ruler/resources.h"
#include "eval/ruler/tasks.h"
#include "eval/tokenizer/tokenizer.h"

namespace kvlab::ruler {

struct RulerSample {
  std::string task;
  int64_t length = 0;  // The target: prompt tokens + output tokens <= length.
  uint64_t seed = 0;
  int64_t index = 0;
  std::string prompt;            // The prompt's text, chat format and answer prefix included.
  std::vector<int32_t> tokens;   // Its tokens.
  // tokens[0, context_tokens): everything before the question (the instructions and the
  // haystack), which a compress-once cache compresses; the rest (the question, the end
  // of the user turn and the answer prefix) is decoded after the compression, as
  // kvpress runs RULER. The prompt is tokenized in these two pieces (cut at the newline
  // before the question), so that the cut falls on a token boundary.
  int64_t context_tokens = 0;
  std::vector<std::string> answers;
  int output_tokens = 0;         // Greedy steps after the prompt.
  int64_t haystack_units = 0;    // The fitted haystack size (lines, words or list entries).

  int64_t total_tokens() const { return static_cast<int64_t>(tokens.size()) + output_tokens; }
};

class RulerGenerator {
 public:
  // `model_context`: positions the model was trained for (0: unknown, no limit).
  static absl::StatusOr<std::unique_ptr<RulerGenerator>> Create(
      tokenizer::Tokenizer& tokenizer, const retrieval::ChatFormat& format,
      RulerResources resources, int64_t model_context);

  // NotFound for an unknown task; InvalidArgument when `length` is beyond the model's
  // context, or too short for the task's smallest prompt, or (cwe) needs more words
  // than the vocabulary has.
  absl::StatusOr<RulerSample> Generate(absl::string_view task, int64_t length, uint64_t seed,
                                       int64_t index);

  const retrieval::ChatFormat& format() const { return format_; }

 private:
  RulerGenerator(tokenizer::Tokenizer& tokenizer, const retrieval::ChatFormat& format,
                 RulerResources resources, int64_t model_context);

  // The task's text with a haystack of `units`, from a fresh random source.
  TaskText Compose(const TaskSpec& task, int64_t units, int64_t length, uint64_t sample_seed,
                   int64_t example_units) const;
  // The whole prompt: the user turn in the chat format, the answer prefix after it.
  std::string PromptText(const TaskText& text) const;
  // The prompt's tokens, and where its question starts among them.
  std::vector<int32_t> Encode(const TaskText& text, int64_t* context_tokens = nullptr);
  // vt's solved example: its haystack size for `seed`, fitted once and memoised.
  int64_t VariableTrackingExampleUnits(uint64_t seed);

  tokenizer::Tokenizer& tokenizer_;
  const retrieval::ChatFormat format_;
  const RulerResources resources_;
  const std::vector<std::string> common_words_;  // cwe's vocabulary.
  const int64_t model_context_;
  std::map<uint64_t, int64_t> example_units_;
};

// The largest `units` in [minimum, maximum] with tokens(units) <= budget, searched as
// RULER does (doubling, then bisection; the count need not be exactly monotone, as
// samples at different sizes differ). `tokens` returns the count for a size. Returns
// `minimum - 1` when even `minimum` does not fit.
int64_t FitUnits(int64_t minimum, int64_t maximum, int64_t budget,
                 const std::function<int64_t(int64_t)>& tokens);

}  // namespace kvlab::ruler

#endif  // KVLAB_EVAL_RULER_GENERATOR_H_
