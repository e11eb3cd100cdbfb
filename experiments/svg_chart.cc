#include "experiments/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"

namespace kvlab::experiments {

namespace {

constexpr double kWidth = 960, kHeight = 560;
constexpr double kLeft = 80, kRight = 250, kTop = 56, kBottom = 70;
// Tableau's ten colours; series past ten repeat them dashed.
const char* const kColors[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                               "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};

std::string Escape(const std::string& text) {
  return absl::StrReplaceAll(text, {{"&", "&amp;"}, {"<", "&lt;"}, {">", "&gt;"}});
}

std::string FormatTick(double v) {
  if (v == 0) return "0";
  const double a = std::fabs(v);
  if (a >= 1e4 || a < 1e-2) return absl::StrFormat("%.0e", v);
  if (a >= 100 || std::fabs(v - std::round(v)) < 1e-9) return absl::StrFormat("%.0f", v);
  if (a >= 10) return absl::StrFormat("%.1f", v);
  return absl::StrFormat("%.2g", v);
}

// An axis mapping data values to pixels, with its ticks.
struct Axis {
  double lo, hi;
  bool log;
  double pixel_lo, pixel_hi;

  double Map(double v) const {
    const double t = log ? (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo))
                         : (v - lo) / (hi - lo);
    return pixel_lo + t * (pixel_hi - pixel_lo);
  }

  // Evenly spaced ticks at a 1, 2 or 5 step, about six across [lo, hi].
  std::vector<double> LinearTicks() const {
    std::vector<double> ticks;
    const double raw = (hi - lo) / 6;
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    double step = magnitude;
    for (double m : {1.0, 2.0, 5.0, 10.0}) {
      if (m * magnitude >= raw) {
        step = m * magnitude;
        break;
      }
    }
    for (double v = std::ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
      ticks.push_back(std::fabs(v) < step * 1e-9 ? 0.0 : v);
    }
    return ticks;
  }

  std::vector<double> Ticks() const {
    std::vector<double> ticks;
    if (log) {
      for (int e = static_cast<int>(std::floor(std::log10(lo))); e <= std::ceil(std::log10(hi)); ++e) {
        for (double m : {1.0, 2.0, 5.0}) {
          const double v = m * std::pow(10.0, e);
          if (v >= lo * 0.999 && v <= hi * 1.001) ticks.push_back(v);
        }
      }
      // A narrow log range may hold fewer than three of 1, 2, 5: use evenly spaced
      // values instead (placed on the log scale).
      return ticks.size() >= 3 ? ticks : LinearTicks();
    }
    return LinearTicks();
  }
};

Axis MakeAxis(double lo, double hi, bool log, double pixel_lo, double pixel_hi) {
  if (log) {
    // Pad by a fraction of a decade; a single value gets a decade around it.
    const double span = lo == hi ? 0.5 : 0.05 * (std::log10(hi) - std::log10(lo));
    return {std::pow(10.0, std::log10(lo) - span), std::pow(10.0, std::log10(hi) + span), true,
            pixel_lo, pixel_hi};
  }
  const double pad = lo == hi ? std::max(1.0, std::fabs(lo) * 0.1) : 0.05 * (hi - lo);
  return {lo - pad, hi + pad, false, pixel_lo, pixel_hi};
}

}  // namespace

void LineChart::AddSeries(std::string name, std::vector<Point> points) {
  series_.push_back({std::move(name), std::move(points), false});
}

void LineChart::AddGuide(std::string name, std::vector<Point> points) {
  series_.push_back({std::move(name), std::move(points), true});
}

std::string LineChart::Render() const {
  double x_lo = std::numeric_limits<double>::infinity(), x_hi = -x_lo;
  double y_lo = x_lo, y_hi = -x_lo;
  for (const Series& s : series_) {
    for (const auto& [x, y] : s.points) {
      if (!std::isfinite(x) || !std::isfinite(y) || (log_x_ && x <= 0) || (log_y_ && y <= 0)) continue;
      x_lo = std::min(x_lo, x);
      x_hi = std::max(x_hi, x);
      y_lo = std::min(y_lo, y);
      y_hi = std::max(y_hi, y);
    }
  }
  if (!std::isfinite(x_lo)) x_lo = x_hi = y_lo = y_hi = 1;
  const bool categorical = !x_categories_.empty();
  const double categories = static_cast<double>(x_categories_.size());
  const Axis xa = categorical ? Axis{-0.5, categories - 0.5, false, kLeft, kWidth - kRight}
                              : MakeAxis(x_lo, x_hi, log_x_, kLeft, kWidth - kRight);
  const Axis ya = MakeAxis(y_lo, y_hi, log_y_, kHeight - kBottom, kTop);

  std::string svg = absl::StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
      "viewBox=\"0 0 %.0f %.0f\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"13\">\n"
      "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
      kWidth, kHeight, kWidth, kHeight);
  absl::StrAppendFormat(&svg, "<text x=\"%.0f\" y=\"24\" font-size=\"17\" font-weight=\"bold\">%s</text>\n",
                        kLeft, Escape(title_));
  if (!subtitle_.empty()) {
    absl::StrAppendFormat(&svg, "<text x=\"%.0f\" y=\"42\" font-size=\"12\" fill=\"#555\">%s</text>\n",
                          kLeft, Escape(subtitle_));
  }
  // Grid and ticks.
  if (categorical) {
    // Slanted names: a row of them would overlap.
    for (size_t i = 0; i < x_categories_.size(); ++i) {
      const double px = xa.Map(static_cast<double>(i));
      const double py = kHeight - kBottom + 14;
      absl::StrAppendFormat(
          &svg,
          "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"#e5e5e5\"/>\n"
          "<text transform=\"translate(%.1f,%.0f) rotate(-30)\" text-anchor=\"end\" "
          "font-size=\"11\" fill=\"#444\">%s</text>\n",
          px, kTop, px, kHeight - kBottom, px + 4, py, Escape(x_categories_[i]));
    }
  } else {
    for (double v : xa.Ticks()) {
      const double px = xa.Map(v);
      absl::StrAppendFormat(
          &svg,
          "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"#e5e5e5\"/>\n"
          "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\" fill=\"#444\">%s</text>\n",
          px, kTop, px, kHeight - kBottom, px, kHeight - kBottom + 18, FormatTick(v));
    }
  }
  for (double v : ya.Ticks()) {
    const double py = ya.Map(v);
    absl::StrAppendFormat(&svg,
                          "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#e5e5e5\"/>\n"
                          "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\" fill=\"#444\">%s</text>\n",
                          kLeft, py, kWidth - kRight, py, kLeft - 8, py + 4, FormatTick(v));
  }
  absl::StrAppendFormat(&svg,
                        "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"#888\"/>\n",
                        kLeft, kTop, kWidth - kRight - kLeft, kHeight - kBottom - kTop);
  if (!categorical) {  // The slanted names take the label's place.
    absl::StrAppendFormat(&svg, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">%s%s</text>\n",
                          (kLeft + kWidth - kRight) / 2, kHeight - 22, Escape(x_label_),
                          log_x_ ? " (log scale)" : "");
  }
  absl::StrAppendFormat(&svg,
                        "<text transform=\"translate(22,%.0f) rotate(-90)\" text-anchor=\"middle\">%s%s</text>\n",
                        (kTop + kHeight - kBottom) / 2, Escape(y_label_), log_y_ ? " (log scale)" : "");

  // Guides first, under the series; then series; then the legend.
  std::string legend;
  int color = 0, legend_row = 0;
  const auto draw = [&](const Series& s, const std::string& stroke, const std::string& dash,
                        bool markers) {
    std::string path;
    for (const auto& [x, y] : s.points) {
      if (!std::isfinite(x) || !std::isfinite(y) || (log_x_ && x <= 0) || (log_y_ && y <= 0)) continue;
      absl::StrAppendFormat(&path, "%s%.1f,%.1f", path.empty() ? "" : " ", xa.Map(x), ya.Map(y));
      if (markers) {
        absl::StrAppendFormat(&svg, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"/>\n",
                              xa.Map(x), ya.Map(y), stroke);
      }
    }
    absl::StrAppendFormat(&svg,
                          "<polyline points=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"%s\"%s/>\n",
                          path, stroke, markers ? "2" : "1.5",
                          dash.empty() ? "" : absl::StrCat(" stroke-dasharray=\"", dash, "\""));
    const double ly = kTop + 12 + 20 * legend_row++;
    const double lx = kWidth - kRight + 18;
    absl::StrAppendFormat(&legend,
                          "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"%s\" stroke-width=\"2.5\"%s/>\n"
                          "<text x=\"%.0f\" y=\"%.0f\">%s</text>\n",
                          lx, ly, lx + 24, ly, stroke,
                          dash.empty() ? "" : absl::StrCat(" stroke-dasharray=\"", dash, "\""),
                          lx + 32, ly + 4, Escape(s.name.size() > 26 ? s.name.substr(0, 25) + "…" : s.name));
  };
  for (const Series& s : series_) {
    if (s.guide) draw(s, "#999999", "6,4", false);
  }
  for (const Series& s : series_) {
    if (s.guide) continue;
    draw(s, kColors[color % 10], color >= 10 ? "5,3" : "", true);
    ++color;
  }
  return svg + legend + "</svg>\n";
}

}  // namespace kvlab::experiments
