#include "experiments/ruler_plots.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_format.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "experiments/plots.h"
#include "experiments/svg_chart.h"

namespace kvlab::experiments {

namespace {

constexpr double kMiB = 1024.0 * 1024.0;
// Above this many lines, one by-task plot per budget keeps them readable.
constexpr size_t kMaxLinesPerPlot = 12;

// A run's scores at one length, in percent: the average over tasks and each task's.
struct LengthScores {
  double average = 0;
  std::map<std::string, double> by_task;
};

// The run's scores by length, from its details; empty for a run without them.
std::map<int64_t, LengthScores> ScoresOf(const RunRecord& r) {
  std::map<int64_t, LengthScores> out;
  if (!r.details.is_object() || !r.details.contains("ruler_average")) return out;
  for (const auto& a : r.details["ruler_average"]) {
    out[a.at("length").get<int64_t>()].average = 100 * a.at("score").get<double>();
  }
  for (const auto& s : r.details.value("ruler_scores", nlohmann::ordered_json::array())) {
    out[s.at("length").get<int64_t>()].by_task[s.at("task").get<std::string>()] =
        100 * s.at("score").get<double>();
  }
  return out;
}

std::string Suffix(int64_t length, bool several_lengths) {
  return several_lengths ? absl::StrFormat("_%d", length) : "";
}

std::string ScoreVsMemoryPlot(const std::vector<const RunRecord*>& runs,
                              const std::vector<std::map<int64_t, LengthScores>>& scores,
                              int64_t length, const std::string& title,
                              const std::string& subtitle) {
  LineChart chart(title, "peak KV cache held (MiB)", "RULER score, mean over tasks (%)");
  chart.set_subtitle(subtitle);
  std::vector<FamilyPoint> points;
  for (size_t i = 0; i < runs.size(); ++i) {
    const auto at = scores[i].find(length);
    if (at == scores[i].end()) continue;
    points.push_back(
        {Family(*runs[i]), {runs[i]->result.peak_held_bytes / kMiB, at->second.average}});
  }
  AddFamiliesAndParetoFront(chart, points, /*lower_is_better=*/false);
  return chart.Render();
}

std::string ByTaskPlot(const std::vector<const RunRecord*>& runs,
                       const std::vector<const LengthScores*>& scores,
                       const std::vector<std::string>& tasks, const std::string& title,
                       const std::string& subtitle) {
  LineChart chart(title, "task", "score (%)");
  chart.set_subtitle(subtitle);
  chart.set_x_categories(tasks);
  for (size_t i = 0; i < runs.size(); ++i) {
    std::vector<LineChart::Point> points;
    for (size_t t = 0; t < tasks.size(); ++t) {
      const auto at = scores[i]->by_task.find(tasks[t]);
      if (at != scores[i]->by_task.end()) points.push_back({static_cast<double>(t), at->second});
    }
    chart.AddSeries(runs[i]->name, points);
  }
  return chart.Render();
}

}  // namespace

absl::Status WriteRulerPlots(const std::string& dir, const std::vector<RunRecord>& records,
                             const std::string& title, const std::string& subtitle) {
  std::vector<const RunRecord*> runs;
  std::vector<std::map<int64_t, LengthScores>> scores;
  std::set<int64_t> lengths;
  std::vector<std::string> tasks;  // In the order the first run lists them.
  for (const RunRecord& r : records) {
    std::map<int64_t, LengthScores> s = ScoresOf(r);
    if (s.empty()) continue;
    for (const auto& entry : s) lengths.insert(entry.first);
    if (tasks.empty()) {
      for (const auto& entry : r.details.value("ruler_scores", nlohmann::ordered_json::array())) {
        const std::string task = entry.at("task").get<std::string>();
        if (std::find(tasks.begin(), tasks.end(), task) == tasks.end()) tasks.push_back(task);
      }
    }
    runs.push_back(&r);
    scores.push_back(std::move(s));
  }
  if (runs.empty()) return absl::OkStatus();
  const bool several = lengths.size() > 1;
  for (const int64_t length : lengths) {
    const std::string at_length = several ? absl::StrFormat(" at %d tokens", length) : "";
    KVLAB_RETURN_IF_ERROR(WriteFileAtomically(
        absl::StrFormat("%s/ruler_score_vs_memory%s.svg", dir, Suffix(length, several)),
        ScoreVsMemoryPlot(runs, scores, length,
                          absl::StrFormat("%s: RULER score against KV memory%s", title, at_length),
                          subtitle)));
    std::vector<const RunRecord*> here;
    std::vector<const LengthScores*> here_scores;
    std::set<int64_t> budgets;
    for (size_t i = 0; i < runs.size(); ++i) {
      const auto at = scores[i].find(length);
      if (at == scores[i].end()) continue;
      here.push_back(runs[i]);
      here_scores.push_back(&at->second);
      if (runs[i]->budget > 0) budgets.insert(NamedBudget(*runs[i]));
    }
    if (here.size() <= kMaxLinesPerPlot || budgets.empty()) {
      KVLAB_RETURN_IF_ERROR(WriteFileAtomically(
          absl::StrFormat("%s/ruler_score_by_task%s.svg", dir, Suffix(length, several)),
          ByTaskPlot(here, here_scores, tasks,
                     absl::StrFormat("%s: RULER score by task%s", title, at_length), subtitle)));
      continue;
    }
    for (const int64_t budget : budgets) {
      std::vector<const RunRecord*> runs_at_budget;
      std::vector<const LengthScores*> scores_at_budget;
      for (size_t i = 0; i < here.size(); ++i) {
        if (here[i]->budget != 0 && NamedBudget(*here[i]) != budget) continue;
        runs_at_budget.push_back(here[i]);
        scores_at_budget.push_back(here_scores[i]);
      }
      KVLAB_RETURN_IF_ERROR(WriteFileAtomically(
          absl::StrFormat("%s/ruler_score_by_task%s_b%d.svg", dir, Suffix(length, several), budget),
          ByTaskPlot(runs_at_budget, scores_at_budget, tasks,
                     absl::StrFormat("%s: RULER score by task%s, budget %d", title, at_length,
                                     budget),
                     subtitle)));
    }
  }
  return absl::OkStatus();
}

}  // namespace kvlab::experiments
