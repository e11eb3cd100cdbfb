// The scorer against RULER's definition (string_match_all, postprocess_pred) on edge
// cases, and the interval against values worked out by hand.
#include "eval/ruler/scoring.h"

#include <cmath>

#include "gtest/gtest.h"

namespace kvlab::ruler {
namespace {

TEST(StringMatchAllTest, ShareOfAnswersFoundAnywhere) {
  EXPECT_DOUBLE_EQ(StringMatchAll(" 1234567.", {"1234567"}), 1.0);
  EXPECT_DOUBLE_EQ(StringMatchAll("The numbers are 11 and 33", {"11", "22", "33", "44"}), 0.5);
  EXPECT_DOUBLE_EQ(StringMatchAll("", {"a"}), 0.0);
}

TEST(StringMatchAllTest, IgnoresCase) {
  EXPECT_DOUBLE_EQ(StringMatchAll("VAR ABCDE and fghij", {"abcde", "FGHIJ"}), 1.0);
}

TEST(StringMatchAllTest, SubstringsCountAsRulerCountsThem) {
  // `r in pred`: an answer inside a longer token still matches, and an answer written
  // twice counts once.
  EXPECT_DOUBLE_EQ(StringMatchAll("12345678", {"1234567"}), 1.0);
  EXPECT_DOUBLE_EQ(StringMatchAll("apple apple", {"apple", "pear"}), 0.5);
  // An answer repeated in the expected list counts each time.
  EXPECT_DOUBLE_EQ(StringMatchAll("apple", {"apple", "apple", "pear"}), 2.0 / 3.0);
}

TEST(StringMatchAllTest, ControlCharactersBecomeNewlines) {
  // postprocess_pred turns U+0000..U+001F into '\n', so an answer broken by a tab or
  // spanning a control character no longer matches, and one with a newline does.
  EXPECT_EQ(PostprocessPrediction("\t a\tb\x01 \n"), "a\nb");
  EXPECT_DOUBLE_EQ(StringMatchAll("a\tb", {"a\nb"}), 1.0);
  EXPECT_DOUBLE_EQ(StringMatchAll("a\tb", {"a b"}), 0.0);
}

TEST(StringMatchAllTest, NoAnswersIsUndefined) {
  EXPECT_TRUE(std::isnan(StringMatchAll("anything", {})));
}

TEST(WilsonIntervalTest, MatchesHandWorkedValues) {
  // 100 of 100: [n / (n + z^2), 1] = [0.9630, 1].
  const ScoreSummary all = WilsonInterval(1.0, 100);
  EXPECT_NEAR(all.low, 100.0 / (100.0 + 1.959963984540054 * 1.959963984540054), 1e-12);
  EXPECT_DOUBLE_EQ(all.high, 1.0);
  // 0 of 10: [0, z^2 / (n + z^2)] = [0, 0.2775].
  const ScoreSummary none = WilsonInterval(0.0, 10);
  EXPECT_DOUBLE_EQ(none.low, 0.0);
  EXPECT_NEAR(none.high, 0.27753, 1e-5);
  // 50 of 100: 0.5 -/+ 0.0965 around 0.5 (symmetric).
  const ScoreSummary half = WilsonInterval(0.5, 100);
  EXPECT_NEAR(half.low, 0.40383, 1e-5);
  EXPECT_NEAR(half.high, 0.59617, 1e-5);
}

TEST(SummarizeTest, MeanOfFractionalScoresAndItsInterval) {
  const ScoreSummary s = Summarize({1.0, 0.5, 0.0, 0.5});
  EXPECT_EQ(s.samples, 4);
  EXPECT_DOUBLE_EQ(s.mean, 0.5);
  EXPECT_LT(s.low, 0.5);
  EXPECT_GT(s.high, 0.5);
  const ScoreSummary empty = Summarize({});
  EXPECT_EQ(empty.samples, 0);
  EXPECT_TRUE(std::isnan(empty.mean));
  EXPECT_TRUE(std::isnan(empty.low));
}

TEST(AverageOverTasksTest, UnweightedMeanOfTaskMeans) {
  ScoreSummary a, b;
  a.mean = 1.0;
  a.samples = 100;
  b.mean = 0.4;
  b.samples = 10;
  EXPECT_DOUBLE_EQ(AverageOverTasks({a, b}), 0.7);
  EXPECT_TRUE(std::isnan(AverageOverTasks({})));
}

}  // namespace
}  // namespace kvlab::ruler
