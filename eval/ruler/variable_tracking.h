// RULER's variable tracking task (scripts/data/synthetic/variable_tracking.py, the
// suite's `vt`: one chain of four hops in a noise haystack): a chain of assignments
// "VAR ABCDE = 12345", "VAR FGHIJ = VAR ABCDE ", ... hidden among repetitions of the
// noise paragraph, one per line; the question gives the number and asks for every
// variable that ends up holding it.
//
// As in RULER the prompt opens with one solved example of the same task (three-letter
// variables, a haystack of at most 500 tokens) and its answer.
#ifndef KVLAB_EVAL_RULER_VARIABLE_TRACKING_H_
#define KVLAB_EVAL_RULER_VARIABLE_TRACKING_H_

#include <cstdint>
#include <string>

#include "eval/ruler/sample_random.h"
#include "eval/ruler/tasks.h"

namespace kvlab::ruler {

inline constexpr int kVariableTrackingHops = 4;
// Tokens RULER allows the solved example (its text and answer, no chat template).
inline constexpr int64_t kVariableTrackingExampleTokens = 500;

// The fewest noise lines a chain fits in.
inline constexpr int64_t kVariableTrackingMinimumUnits = kVariableTrackingHops + 1;

// The task's text for a chain among `units` noise lines, with variables of
// `name_letters` letters, without the solved example: `user` and `answer_prefix`.
TaskText ComposeVariableTrackingTask(int64_t units, int name_letters, SampleRandom& random);

// One sample: a solved example of `example_units` noise lines (its prompt, answer
// prefix and answer, then a newline) before the task of `units` noise lines.
TaskText ComposeVariableTracking(int64_t units, int64_t example_units, SampleRandom& random);

}  // namespace kvlab::ruler

#endif  // KVLAB_EVAL_RULER_VARIABLE_TRACKING_H_
