// LineChart: a small SVG line chart (axes, ticks, grid, legend), enough for kvlab's
// result plots. Log axes take positive values only.
//
//   LineChart chart("Perplexity against KV memory", "peak KV (MiB)", "perplexity");
//   chart.set_log_x(true);
//   chart.AddSeries("h2o", {{5.6, 31.2}, {11.3, 27.0}});
//   WriteFileAtomically("plot.svg", chart.Render());
#ifndef KVLAB_EXPERIMENTS_SVG_CHART_H_
#define KVLAB_EXPERIMENTS_SVG_CHART_H_

#include <string>
#include <utility>
#include <vector>

namespace kvlab::experiments {

class LineChart {
 public:
  using Point = std::pair<double, double>;

  LineChart(std::string title, std::string x_label, std::string y_label)
      : title_(std::move(title)), x_label_(std::move(x_label)), y_label_(std::move(y_label)) {}

  // A smaller second line under the title.
  void set_subtitle(std::string subtitle) { subtitle_ = std::move(subtitle); }
  void set_log_x(bool log) { log_x_ = log; }
  void set_log_y(bool log) { log_y_ = log; }
  // Names for x = 0, 1, ... (tasks, say): the x axis then shows them, slanted, in
  // place of numbers. Points' x values index these names.
  void set_x_categories(std::vector<std::string> names) { x_categories_ = std::move(names); }
  // A series drawn as markers joined by a line (in the given point order).
  void AddSeries(std::string name, std::vector<Point> points);
  // A gray dashed line drawn under the series, listed first in the legend.
  void AddGuide(std::string name, std::vector<Point> points);

  std::string Render() const;

 private:
  struct Series {
    std::string name;
    std::vector<Point> points;
    bool guide = false;
  };

  std::string title_, x_label_, y_label_, subtitle_;
  bool log_x_ = false, log_y_ = false;
  std::vector<std::string> x_categories_;
  std::vector<Series> series_;
};

}  // namespace kvlab::experiments

#endif  // KVLAB_EXPERIMENTS_SVG_CHART_H_
