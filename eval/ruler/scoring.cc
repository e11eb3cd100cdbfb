#include "eval/ruler/scoring.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "base/statistics.h"

namespace kvlab::ruler {

std::string PostprocessPrediction(absl::string_view prediction) {
  std::string text(absl::StripAsciiWhitespace(prediction));
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20) c = '\n';
  }
  return std::string(absl::StripAsciiWhitespace(text));
}

double StringMatchAll(absl::string_view prediction, absl::Span<const std::string> answers) {
  if (answers.empty()) return std::nan("");
  const std::string folded = absl::AsciiStrToLower(PostprocessPrediction(prediction));
  int found = 0;
  for (const std::string& answer : answers) {
    found += absl::StrContains(folded, absl::AsciiStrToLower(answer)) ? 1 : 0;
  }
  return static_cast<double>(found) / static_cast<double>(answers.size());
}

ScoreSummary WilsonInterval(double mean, int64_t samples, double z) {
  ScoreSummary summary;
  summary.samples = samples;
  if (samples <= 0) {
    summary.mean = summary.low = summary.high = std::nan("");
    return summary;
  }
  const Interval interval = kvlab::WilsonInterval(mean, samples, z);
  summary.mean = mean;
  summary.low = interval.low;
  summary.high = interval.high;
  return summary;
}

ScoreSummary Summarize(absl::Span<const double> scores) {
  double sum = 0.0;
  for (const double s : scores) sum += s;
  const auto n = static_cast<int64_t>(scores.size());
  return WilsonInterval(n == 0 ? 0.0 : sum / static_cast<double>(n), n);
}

double AverageOverTasks(absl::Span<const ScoreSummary> tasks) {
  if (tasks.empty()) return std::nan("");
  double sum = 0.0;
  for (const ScoreSummary& task : tasks) sum += task.mean;
  return sum / static_cast<double>(tasks.size());
}

}  // namespace kvlab::ruler
