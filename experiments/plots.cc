#include "experiments/plots.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <regex>
#include <set>

#include "absl/strings/str_format.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "experiments/svg_chart.h"

namespace kvlab::experiments {

namespace {

constexpr double kMiB = 1024.0 * 1024.0;
// Above this many lines, one NLL plot per budget keeps them readable.
constexpr size_t kMaxLinesPerPlot = 10;
// An axis goes logarithmic when its values span more than this ratio: then a collapse
// (a perplexity of 500 beside 20) does not flatten everything else.
constexpr double kLogScaleRatio = 4.0;

bool SpansWide(const std::vector<double>& values) {
  double lo = 0, hi = 0;
  for (double v : values) {
    if (!(v > 0) || !std::isfinite(v)) continue;
    lo = lo == 0 ? v : std::min(lo, v);
    hi = std::max(hi, v);
  }
  return lo > 0 && hi / lo > kLogScaleRatio;
}

std::string MemoryPlot(const std::vector<RunRecord>& records, const std::string& title,
                       const std::string& subtitle) {
  LineChart chart(title + ": perplexity against KV memory", "peak KV cache held (MiB)",
                  "perplexity");
  chart.set_subtitle(subtitle);
  std::vector<double> memory, perplexity;
  for (const RunRecord& r : records) {
    memory.push_back(r.result.peak_held_bytes / kMiB);
    perplexity.push_back(r.result.perplexity());
  }
  chart.set_log_x(SpansWide(memory));
  chart.set_log_y(SpansWide(perplexity));
  std::vector<FamilyPoint> points;
  for (const RunRecord& r : records) {
    points.push_back({Family(r), {r.result.peak_held_bytes / kMiB, r.result.perplexity()}});
  }
  AddFamiliesAndParetoFront(chart, points, /*lower_is_better=*/true);
  return chart.Render();
}

std::string PositionPlot(const std::vector<const RunRecord*>& runs, const std::string& title,
                         const std::string& subtitle) {
  LineChart chart(title, "position in the stream (tokens)", "mean NLL per token");
  chart.set_subtitle(subtitle);
  for (const RunRecord* r : runs) {
    std::vector<LineChart::Point> points;
    const auto& counts = r->result.bucket_count;
    for (size_t b = 0; b < counts.size(); ++b) {
      if (counts[b] == 0) continue;
      points.push_back({static_cast<double>(b * r->bucket_size) + r->bucket_size / 2.0,
                        r->result.bucket_nll_sum[b] / counts[b]});
    }
    chart.AddSeries(r->name, points);
  }
  return chart.Render();
}

std::string RetainedMassPlot(const std::vector<const RunRecord*>& runs, const std::string& title,
                             const std::string& subtitle) {
  LineChart chart(title, "layer", "attention mass kept (last query, mean over heads)");
  chart.set_subtitle(subtitle);
  for (const RunRecord* r : runs) {
    std::vector<LineChart::Point> points;
    for (size_t l = 0; l < r->retained_mass_by_layer.size(); ++l) {
      const double mass = r->retained_mass_by_layer[l];
      if (std::isfinite(mass)) points.push_back({static_cast<double>(l), mass});
    }
    chart.AddSeries(r->name, points);
  }
  return chart.Render();
}

}  // namespace

namespace {

// Sweeps name the budget "-b<tokens>" wherever it falls among the axes that vary
// ("sink-b128-slot"); hand-written names tend to end in "-<tokens>" ("h2o-256").
const std::regex& SweepBudget() {
  static const std::regex kSweepBudget("-b([0-9]+)(?=-|$)");
  return kSweepBudget;
}

}  // namespace

std::string Family(const RunRecord& record) {
  static const std::regex kTrailingNumber("-[0-9]+$");
  if (record.budget == 0) return record.name;
  const std::string family = std::regex_replace(record.name, SweepBudget(), "",
                                                std::regex_constants::format_first_only);
  if (family != record.name) return family;
  return std::regex_replace(record.name, kTrailingNumber, "");
}

int64_t NamedBudget(const RunRecord& record) {
  std::smatch match;
  if (record.budget > 0 && std::regex_search(record.name, match, SweepBudget())) {
    return std::stoll(match[1].str());
  }
  return record.budget;
}

void AddFamiliesAndParetoFront(LineChart& chart, const std::vector<FamilyPoint>& points,
                               bool lower_is_better) {
  std::vector<std::string> order;
  std::map<std::string, std::vector<LineChart::Point>> families;
  std::vector<LineChart::Point> all;
  for (const FamilyPoint& p : points) {
    if (!families.count(p.family)) order.push_back(p.family);
    families[p.family].push_back(p.point);
    all.push_back(p.point);
  }
  std::sort(all.begin(), all.end());
  std::vector<LineChart::Point> front;
  for (const auto& p : all) {
    const bool better = front.empty() || (lower_is_better ? p.second < front.back().second
                                                          : p.second > front.back().second);
    if (better) front.push_back(p);
  }
  chart.AddGuide("Pareto front", front);
  for (const std::string& family : order) {
    std::vector<LineChart::Point>& line = families[family];
    std::sort(line.begin(), line.end());
    chart.AddSeries(family, line);
  }
}

absl::Status WritePlots(const std::string& dir, const std::vector<RunRecord>& records,
                        const std::string& title, const std::string& subtitle) {
  if (records.empty()) return absl::OkStatus();
  KVLAB_RETURN_IF_ERROR(WriteFileAtomically(dir + "/perplexity_vs_memory.svg",
                                            MemoryPlot(records, title, subtitle)));
  std::vector<const RunRecord*> recorded;
  for (const RunRecord& r : records) {
    if (!r.retained_mass_by_layer.empty()) recorded.push_back(&r);
  }
  if (!recorded.empty()) {
    KVLAB_RETURN_IF_ERROR(WriteFileAtomically(
        dir + "/retained_mass_by_layer.svg",
        RetainedMassPlot(recorded, title + ": attention mass kept by layer", subtitle)));
  }
  std::vector<const RunRecord*> streamed;
  for (const RunRecord& r : records) {
    if (!r.result.bucket_count.empty()) streamed.push_back(&r);
  }
  if (streamed.empty()) return absl::OkStatus();
  std::set<int64_t> budgets;
  for (const RunRecord* r : streamed) {
    if (r->budget > 0) budgets.insert(NamedBudget(*r));
  }
  if (streamed.size() <= kMaxLinesPerPlot || budgets.empty()) {
    return WriteFileAtomically(dir + "/nll_by_position.svg",
                               PositionPlot(streamed, title + ": NLL by position", subtitle));
  }
  for (int64_t budget : budgets) {
    std::vector<const RunRecord*> runs;
    for (const RunRecord* r : streamed) {
      if (r->budget == 0 || NamedBudget(*r) == budget) runs.push_back(r);
    }
    KVLAB_RETURN_IF_ERROR(WriteFileAtomically(
        absl::StrFormat("%s/nll_by_position_b%d.svg", dir, budget),
        PositionPlot(runs, absl::StrFormat("%s: NLL by position, budget %d", title, budget),
                     subtitle)));
  }
  return absl::OkStatus();
}

}  // namespace kvlab::experiments
