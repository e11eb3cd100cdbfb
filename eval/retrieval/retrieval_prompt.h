// Retrieval prompts: a fact hidden at a chosen depth of a long filler text, then a
// question whose answer is that fact, in the model's chat format.
//
// Passkey (Mohtashami & Jaggi, 2023, "Landmark Attention", arXiv:2305.16300): a
//   five-digit number among repetitions of the paper's filler sentences ("The grass is
//   green. The sky is blue. ..."); the model is asked for the number.
// Needle: a sentence giving a "secret code" (a five-digit number) planted between the
//   sentences of a real text (WikiText-2), so that the filler is as varied as language.
//
// The model's turn starts with the answer's lead-in ("The passkey is"), so the first
// number it writes is its answer.
#ifndef KVLAB_EVAL_RETRIEVAL_RETRIEVAL_PROMPT_H_
#define KVLAB_EVAL_RETRIEVAL_RETRIEVAL_PROMPT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "eval/retrieval/chat_format.h"
#include "eval/tokenizer/tokenizer.h"

namespace kvlab::retrieval {

enum class RetrievalTask { kPasskey, kNeedle };

const char* RetrievalTaskName(RetrievalTask task);

struct RetrievalPrompt {
  std::vector<int32_t> tokens;  // The whole prompt, BOS first when the model adds one.
  std::string answer;           // The digits the model should write.
  double depth = 0.0;           // Where the fact sits, as a fraction of the filler.
};

class PromptBuilder {
 public:
  // `filler_text`: the needle task's text (sentences are taken from it in order from a
  // seeded starting point); unused by the passkey task. InvalidArgument when the
  // needle task gets a text of fewer than 100 sentences.
  static absl::StatusOr<std::unique_ptr<PromptBuilder>> Create(
      RetrievalTask task, tokenizer::Tokenizer& tokenizer, const ChatFormat& format,
      const std::string& filler_text = "");

  // A prompt of about `context_tokens` tokens (within one filler sentence) with the
  // fact at `depth` in [0, 1] of the filler; the number and, for the needle, the place
  // in the text come from `seed`. InvalidArgument when `context_tokens` leaves no room
  // for filler after the instructions and question.
  absl::StatusOr<RetrievalPrompt> Build(int64_t context_tokens, double depth, uint64_t seed);

 private:
  PromptBuilder(RetrievalTask task, tokenizer::Tokenizer& tokenizer, const ChatFormat& format,
                std::vector<std::string> sentences);
  // Tokens of the whole prompt with `filler` sentences, the fact after `fact_after` of them.
  std::vector<int32_t> Encode(const std::vector<std::string>& filler, size_t fact_after,
                              const std::string& fact, const std::string& answer_lead);

  const RetrievalTask task_;
  tokenizer::Tokenizer& tokenizer_;
  const ChatFormat format_;
  const std::vector<std::string> sentences_;  // Needle: the text's sentences.
};

// The first run of digits in `generated`, or "" when there is none.
std::string FirstNumber(const std::string& generated);

}  // namespace kvlab::retrieval

#endif  // KVLAB_EVAL_RETRIEVAL_RETRIEVAL_PROMPT_H_
