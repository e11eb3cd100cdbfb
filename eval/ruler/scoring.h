// RULER's scoring (scripts/eval/evaluate.py and scripts/eval/synthetic/constants.py):
// every synthetic task is scored by string_match_all, the share of a sample's expected
// answers that appear anywhere in its output, case-insensitively; a task's score at a
// length is the mean over its samples, and the suite's score the mean over tasks.
//
// Case is folded in ASCII only (RULER folds with Python's str.lower(), which also folds
// other scripts; every expected answer here is ASCII, so only an output's non-ASCII
// capitals that lower-case to ASCII letters, such as the Kelvin sign, could differ).
//
// The interval: Wilson's score interval at 95% on the mean, with the number of samples
// as the number of trials. For the single-answer tasks (each sample scores 0 or 1) it
// is the binomial proportion's Wilson interval; for the multi-answer tasks (fractional
// scores) it is conservative, since a score in [0, 1] with mean p has variance at most
// p (1 - p), the variance Wilson's interval assumes. Unlike a bootstrap it does not
// collapse to a point when every sample scores the same (100 of 100 right gives
// [96.3%, 100%], not [100%, 100%]).
#ifndef KVLAB_EVAL_RULER_SCORING_H_
#define KVLAB_EVAL_RULER_SCORING_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace kvlab::ruler {

// RULER's postprocess_pred: surrounding whitespace stripped, each control character
// (U+0000..U+001F) turned into a newline, stripped again.
std::string PostprocessPrediction(absl::string_view prediction);

// string_match_all of one sample in [0, 1]: the share of `answers` found in the
// postprocessed `prediction`, ignoring ASCII case. NaN when `answers` is empty.
double StringMatchAll(absl::string_view prediction, absl::Span<const std::string> answers);

struct ScoreSummary {
  int64_t samples = 0;
  double mean = 0.0;  // In [0, 1]; NaN without samples.
  double low = 0.0;   // Wilson 95% interval; NaN without samples.
  double high = 0.0;
};

// Wilson's score interval for a mean score `mean` in [0, 1] over `samples` samples at
// normal quantile `z` (1.96: 95%).
ScoreSummary WilsonInterval(double mean, int64_t samples, double z = 1.959963984540054);

// The mean of `scores` (each in [0, 1]) and its Wilson 95% interval.
ScoreSummary Summarize(absl::Span<const double> scores);

// RULER's average: the unweighted mean of the tasks' mean scores (NaN when empty).
double AverageOverTasks(absl::Span<const ScoreSummary> tasks);

}  // namespace kvlab::ruler

#endif  // KVLAB_EVAL_RULER_SCORING_H_
