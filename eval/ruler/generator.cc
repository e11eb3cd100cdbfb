#include "eval/ruler/generator.h"

#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "eval/ruler/common_words.h"
#include "eval/ruler/frequent_words.h"
#include "eval/ruler/niah.h"
#include "eval/ruler/sample_random.h"
#include "eval/ruler/variable_tracking.h"

namespace kvlab::ruler {

int64_t FitUnits(int64_t minimum, int64_t maximum, int64_t budget,
                 const std::function<int64_t(int64_t)>& tokens) {
  if (tokens(minimum) > budget) return minimum - 1;
  int64_t fits = minimum;  // Largest size known to fit.
  int64_t over = -1;       // Smallest size known not to (-1: none yet).
  while (over < 0) {
    if (fits == maximum) return fits;
    const int64_t next = std::min(maximum, fits * 2);
    if (tokens(next) <= budget) {
      fits = next;
    } else {
      over = next;
    }
  }
  while (over - fits > 1) {
    const int64_t middle = fits + (over - fits) / 2;
    if (tokens(middle) <= budget) {
      fits = middle;
    } else {
      over = middle;
    }
  }
  return fits;
}

RulerGenerator::RulerGenerator(tokenizer::Tokenizer& tokenizer,
                               const retrieval::ChatFormat& format, RulerResources resources,
                               int64_t model_context)
    : tokenizer_(tokenizer),
      format_(format),
      resources_(std::move(resources)),
      common_words_(CommonWordsVocabulary(resources_)),
      model_context_(model_context) {}

absl::StatusOr<std::unique_ptr<RulerGenerator>> RulerGenerator::Create(
    tokenizer::Tokenizer& tokenizer, const retrieval::ChatFormat& format,
    RulerResources resources, int64_t model_context) {
  if (resources.nouns.empty() || resources.adjectives.empty() || resources.verbs.empty()) {
    return absl::InvalidArgumentError("RULER needs wonderwords' nouns, adjectives and verbs");
  }
  if (resources.essay_words.empty()) {
    return absl::InvalidArgumentError("RULER needs an essay text for its essay haystacks");
  }
  return std::unique_ptr<RulerGenerator>(
      new RulerGenerator(tokenizer, format, std::move(resources), model_context));
}

TaskText RulerGenerator::Compose(const TaskSpec& task, int64_t units, int64_t length,
                                 uint64_t sample_seed, int64_t example_units) const {
  SampleRandom random(sample_seed);
  switch (task.family) {
    case TaskFamily::kNiah: return ComposeNiah(task.niah, units, resources_, random);
    case TaskFamily::kVariableTracking:
      return ComposeVariableTracking(units, example_units, random);
    case TaskFamily::kCommonWords: return ComposeCommonWords(units, length, common_words_, random);
    case TaskFamily::kFrequentWords:
      return ComposeFrequentWords(
          units, FrequentWordsVocabularySize(length, task.output_tokens), random);
  }
  return TaskText{};
}

std::string RulerGenerator::PromptText(const TaskText& text) const {
  return format_.style == retrieval::ChatStyle::kNone
             ? absl::StrCat(text.user, text.answer_prefix)
             : retrieval::FormatUserTurn(format_, text.user, text.answer_prefix);
}

std::vector<int32_t> RulerGenerator::Encode(const TaskText& text, int64_t* context_tokens) {
  const std::string prompt = PromptText(text);
  // Every task's question is the user text's last line.
  const size_t cut = prompt.find(text.user) + text.user.rfind('\n');
  std::vector<int32_t> tokens =
      tokenizer_.Encode(absl::string_view(prompt).substr(0, cut), tokenizer_.add_bos());
  if (context_tokens != nullptr) *context_tokens = static_cast<int64_t>(tokens.size());
  const std::vector<int32_t> question =
      tokenizer_.Encode(absl::string_view(prompt).substr(cut), false);
  tokens.insert(tokens.end(), question.begin(), question.end());
  return tokens;
}

int64_t RulerGenerator::VariableTrackingExampleUnits(uint64_t seed) {
  auto found = example_units_.find(seed);
  if (found != example_units_.end()) return found->second;
  // RULER fits its example once, alone (no chat template, nothing generated).
  const uint64_t example_seed = SampleSeed(seed, "vt_example", kVariableTrackingExampleTokens, 0);
  const int64_t units = FitUnits(
      kVariableTrackingMinimumUnits, std::numeric_limits<int32_t>::max(),
      kVariableTrackingExampleTokens, [&](int64_t u) {
        SampleRandom random(example_seed);
        const TaskText example = ComposeVariableTrackingTask(u, 3, random);
        return static_cast<int64_t>(
            tokenizer_.Encode(absl::StrCat(example.user, example.answer_prefix), false).size());
      });
  const int64_t kept = std::max(units, kVariableTrackingMinimumUnits);
  example_units_[seed] = kept;
  return kept;
}

absl::StatusOr<RulerSample> RulerGenerator::Generate(absl::string_view task_name, int64_t length,
                                                     uint64_t seed, int64_t index) {
  absl::StatusOr<TaskSpec> task = FindRulerTask(task_name);
  if (!task.ok()) return task.status();
  if (length < 1) {
    return absl::InvalidArgumentError(absl::StrFormat("RULER length must be >= 1, got %d", length));
  }
  if (model_context_ > 0 && length > model_context_) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "RULER length %d is beyond the model's context of %d tokens", length, model_context_));
  }
  int64_t minimum = 1;
  int64_t maximum = std::numeric_limits<int32_t>::max();
  int64_t example_units = 0;
  switch (task->family) {
    case TaskFamily::kNiah: minimum = NiahMinimumUnits(task->niah); break;
    case TaskFamily::kVariableTracking:
      minimum = kVariableTrackingMinimumUnits;
      example_units = VariableTrackingExampleUnits(seed);
      break;
    case TaskFamily::kCommonWords:
      minimum = 40;  // The solved example's words; RULER's smallest list holds as many.
      maximum = static_cast<int64_t>(common_words_.size());
      break;
    case TaskFamily::kFrequentWords: minimum = kFrequentWordsMinimumUnits; break;
  }
  const uint64_t sample_seed = SampleSeed(seed, task->name, length, index);
  const int64_t budget = length - task->output_tokens;
  const int64_t units = FitUnits(minimum, maximum, budget, [&](int64_t u) {
    return static_cast<int64_t>(
        Encode(Compose(*task, u, length, sample_seed, example_units)).size());
  });
  if (units < minimum) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "RULER length %d is too short for %s: its smallest prompt and %d output tokens do "
        "not fit",
        length, task->name, task->output_tokens));
  }
  if (units == maximum && task->family == TaskFamily::kCommonWords) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "RULER length %d needs more than the %d words of cwe's vocabulary (RULER's larger "
        "English word list is not part of kvlab)",
        length, maximum));
  }
  const TaskText text = Compose(*task, units, length, sample_seed, example_units);
  RulerSample sample;
  sample.task = task->name;
  sample.length = length;
  sample.seed = seed;
  sample.index = index;
  sample.prompt = PromptText(text);
  sample.tokens = Encode(text, &sample.context_tokens);
  sample.answers = text.answers;
  sample.output_tokens = task->output_tokens;
  sample.haystack_units = units;
  return sample;
}

}  // namespace kvlab::ruler
