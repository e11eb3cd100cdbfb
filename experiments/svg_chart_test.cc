#include "experiments/svg_chart.h"

#include <regex>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab::experiments {
namespace {

using ::testing::HasSubstr;

int CountTickLabels(const std::string& svg, const std::string& anchor) {
  const std::regex label("text-anchor=\"" + anchor + "\" fill=\"#444\"");
  return static_cast<int>(std::distance(std::sregex_iterator(svg.begin(), svg.end(), label),
                                        std::sregex_iterator()));
}

TEST(LineChartTest, NarrowLogRangeStillHasTicks) {
  LineChart chart("t", "x", "y");
  chart.set_log_y(true);
  chart.AddSeries("a", {{1, 23.5}, {2, 25.2}});
  const std::string svg = chart.Render();
  EXPECT_GE(CountTickLabels(svg, "end"), 3);  // y ticks are right-aligned
  EXPECT_THAT(svg, HasSubstr("y (log scale)"));
}

TEST(LineChartTest, SeriesLegendAndGuide) {
  LineChart chart("title", "x", "y");
  chart.set_subtitle("subtitle");
  chart.AddGuide("front", {{1, 2}, {3, 1}});
  chart.AddSeries("a < b", {{1, 2}, {2, 3}});
  const std::string svg = chart.Render();
  EXPECT_THAT(svg, HasSubstr(">subtitle</text>"));
  EXPECT_THAT(svg, HasSubstr(">a &lt; b</text>"));
  EXPECT_THAT(svg, HasSubstr("stroke-dasharray=\"6,4\""));
  EXPECT_EQ(std::count(svg.begin(), svg.end(), '\n') > 10, true);
}

TEST(LineChartTest, CategoriesNameTheXAxis) {
  LineChart chart("t", "task", "score");
  chart.set_x_categories({"niah_single_1", "vt", "cwe"});
  chart.AddSeries("dense", {{0, 100}, {1, 40}, {2, 20}});
  const std::string svg = chart.Render();
  EXPECT_THAT(svg, HasSubstr("rotate(-30)\" text-anchor=\"end\" font-size=\"11\" "
                             "fill=\"#444\">vt</text>"));
  EXPECT_THAT(svg, HasSubstr(">niah_single_1</text>"));
  EXPECT_THAT(svg, ::testing::Not(HasSubstr(">task</text>")));  // The names replace it.
  EXPECT_EQ(CountTickLabels(svg, "middle"), 0);              // No numeric x ticks.
}

}  // namespace
}  // namespace kvlab::experiments
