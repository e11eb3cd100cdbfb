// RULER's synthetic tasks (Hsieh et al., 2024, "RULER: What's the Real Context Size of
// Your Long-Context Language Models?", arXiv:2404.06654; NVIDIA/RULER's
// scripts/synthetic.yaml and scripts/data/synthetic/constants.py): eleven of its
// thirteen, with its parameters, templates, answer prefixes and output lengths.
//
// Left out: qa_1 and qa_2, which ask questions about SQuAD and HotpotQA documents;
// kvlab has neither data set.
#ifndef KVLAB_EVAL_RULER_TASKS_H_
#define KVLAB_EVAL_RULER_TASKS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace kvlab::ruler {

enum class TaskFamily {
  kNiah,              // Needles in a haystack (niah.h).
  kVariableTracking,  // Chains of variable assignments (variable_tracking.h).
  kCommonWords,       // The most common words of a list (common_words.h).
  kFrequentWords,     // The most frequent coded words of a text (frequent_words.h).
};

// What fills a needle task's context between the needles.
enum class Haystack {
  kNoise,   // One paragraph of filler sentences, repeated.
  kEssay,   // Prose (RULER: Paul Graham's essays; kvlab: any text, WikiText-2 in runs).
  kNeedle,  // Needles of the same form with other keys: distractors.
};

// What a needle's key or value is.
enum class NeedleType {
  kWords,    // An adjective-noun pair from wonderwords' lists ("stale-fountain").
  kNumbers,  // A seven-digit number.
  kUuids,    // A version-4 UUID.
};

struct NiahParams {
  Haystack haystack = Haystack::kNoise;
  NeedleType key = NeedleType::kWords;
  NeedleType value = NeedleType::kNumbers;
  int keys = 1;     // Needles with distinct keys (num_needle_k).
  int values = 1;   // Values per key, each its own needle (num_needle_v).
  int queries = 1;  // Keys asked about (num_needle_q), <= keys.
};

struct TaskSpec {
  const char* name;
  TaskFamily family;
  int output_tokens;  // RULER's tokens_to_generate: greedy steps after the prompt.
  NiahParams niah;    // kNiah only.
};

// The eleven tasks, in RULER's order.
absl::Span<const TaskSpec> RulerTasks();

// NotFound listing the known names.
absl::StatusOr<TaskSpec> FindRulerTask(absl::string_view name);

// What a task writes for one sample: RULER's prompt split where it splits it.
struct TaskText {
  std::string user;           // Instructions, context and question: the user's turn.
  std::string answer_prefix;  // The start of the model's turn (leading space included).
  std::vector<std::string> answers;  // Every one must appear in the output.
};

// RULER's filler paragraph for noise haystacks (from passkey retrieval).
inline constexpr char kNoiseParagraph[] =
    "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back "
    "again.";

// Replaces every "{name}" in `text` with its value, in one pass (as Python's
// str.format), so a value holding "{...}" is never expanded in turn.
std::string FillTemplate(absl::string_view text,
                         std::initializer_list<std::pair<absl::string_view, std::string>> values);

}  // namespace kvlab::ruler

#endif  // KVLAB_EVAL_RULER_TASKS_H_
