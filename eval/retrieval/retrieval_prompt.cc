#include "eval/retrieval/retrieval_prompt.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"

namespace kvlab::retrieval {

namespace {

// The passkey paper's filler, repeated as one unit.
constexpr char kPasskeyFiller[] =
    "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again.";

struct TaskText {
  std::string instructions;
  std::string fact;      // With {N} for the number.
  std::string question;
  std::string answer_lead;
};

TaskText TextOf(RetrievalTask task) {
  if (task == RetrievalTask::kPasskey) {
    return {"A pass key is hidden somewhere in the long text below. Read the text, find the "
            "pass key and keep it in mind: you will be asked for it at the end.",
            "The pass key is {N}. Remember it. {N} is the pass key.",
            "What is the pass key?", "The pass key is"};
  }
  return {"The text below contains, somewhere, the secret code of the archive. Read the text, "
          "find the code and keep it in mind: you will be asked for it at the end.",
          "The secret code of the archive is {N}.", "What is the secret code of the archive?",
          "The secret code of the archive is"};
}

// The sentences of a WikiText-style text: heading lines (" = Title = ") and empty lines
// skipped, the rest cut after each ". ".
std::vector<std::string> SentencesOf(const std::string& text) {
  std::vector<std::string> sentences;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || absl::StartsWith(line, "=")) continue;
    for (absl::string_view piece : absl::StrSplit(line, ". ")) {
      piece = absl::StripAsciiWhitespace(piece);
      if (piece.empty()) continue;
      sentences.push_back(absl::EndsWith(piece, ".") ? std::string(piece)
                                                     : absl::StrCat(piece, "."));
    }
  }
  return sentences;
}

}  // namespace

const char* RetrievalTaskName(RetrievalTask task) {
  return task == RetrievalTask::kPasskey ? "passkey" : "needle";
}

absl::StatusOr<std::unique_ptr<PromptBuilder>> PromptBuilder::Create(
    RetrievalTask task, tokenizer::Tokenizer& tokenizer, const ChatFormat& format,
    const std::string& filler_text) {
  std::vector<std::string> sentences;
  if (task == RetrievalTask::kNeedle) {
    sentences = SentencesOf(filler_text);
    if (sentences.size() < 100) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "the needle task needs a filler text of at least 100 sentences, got %d",
          sentences.size()));
    }
  }
  return std::unique_ptr<PromptBuilder>(
      new PromptBuilder(task, tokenizer, format, std::move(sentences)));
}

PromptBuilder::PromptBuilder(RetrievalTask task, tokenizer::Tokenizer& tokenizer,
                             const ChatFormat& format, std::vector<std::string> sentences)
    : task_(task), tokenizer_(tokenizer), format_(format), sentences_(std::move(sentences)) {}

std::vector<int32_t> PromptBuilder::Encode(const std::vector<std::string>& filler,
                                           size_t fact_after, const std::string& fact,
                                           const std::string& answer_lead) {
  const TaskText text = TextOf(task_);
  std::vector<absl::string_view> body(filler.begin(), filler.end());
  body.insert(body.begin() + fact_after, fact);
  const std::string user =
      absl::StrCat(text.instructions, "\n\n", absl::StrJoin(body, " "), "\n\n", text.question);
  return tokenizer_.Encode(FormatUserTurn(format_, user, answer_lead), tokenizer_.add_bos());
}

absl::StatusOr<RetrievalPrompt> PromptBuilder::Build(int64_t context_tokens, double depth,
                                                     uint64_t seed) {
  if (!(depth >= 0.0 && depth <= 1.0)) {
    return absl::InvalidArgumentError(absl::StrFormat("depth must be in [0, 1], got %g", depth));
  }
  std::mt19937_64 random(seed);
  RetrievalPrompt prompt;
  prompt.answer = absl::StrCat(10000 + random() % 90000);
  prompt.depth = depth;
  const TaskText text = TextOf(task_);
  const std::string fact = absl::StrReplaceAll(text.fact, {{"{N}", prompt.answer}});

  const int64_t overhead = static_cast<int64_t>(Encode({}, 0, fact, text.answer_lead).size());
  if (overhead >= context_tokens) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "a %s prompt of %d tokens has no room for filler: the instructions, fact and question "
        "alone take %d",
        RetrievalTaskName(task_), context_tokens, overhead));
  }
  // Sentences, in order, until the next would pass the target; each sentence's tokens
  // counted alone, which is what it adds up to a token at the joins.
  std::vector<std::string> filler;
  size_t next = 0;
  if (task_ == RetrievalTask::kNeedle) next = random() % sentences_.size();
  int64_t total = overhead;
  while (true) {
    const std::string& sentence =
        task_ == RetrievalTask::kPasskey ? std::string(kPasskeyFiller)
                                         : sentences_[next++ % sentences_.size()];
    const int64_t tokens =
        static_cast<int64_t>(tokenizer_.Encode(absl::StrCat(" ", sentence), false).size());
    if (total + tokens > context_tokens) break;
    filler.push_back(sentence);
    total += tokens;
  }
  const size_t fact_after = static_cast<size_t>(std::lround(depth * filler.size()));
  prompt.tokens = Encode(filler, fact_after, fact, text.answer_lead);
  return prompt;
}

std::string FirstNumber(const std::string& generated) {
  const auto first = std::find_if(generated.begin(), generated.end(), absl::ascii_isdigit);
  const auto last = std::find_if_not(first, generated.end(), absl::ascii_isdigit);
  return std::string(first, last);
}

}  // namespace kvlab::retrieval
