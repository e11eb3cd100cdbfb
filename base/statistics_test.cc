#include "base/statistics.h"

#include <cmath>

#include "gtest/gtest.h"

namespace kvlab {
namespace {

TEST(WilsonIntervalTest, MatchesHandWorkedValues) {
  // 50 of 100: center 0.5, half-width 1.96 / (1 + 1.96²/100) x sqrt(0.25/100 + 1.96²/40000).
  const Interval half = WilsonInterval(0.5, 100);
  EXPECT_NEAR(half.low, 0.4038, 1e-4);
  EXPECT_NEAR(half.high, 0.5962, 1e-4);
  // 100 of 100 does not collapse to a point.
  const Interval all = WilsonInterval(1.0, 100);
  EXPECT_NEAR(all.low, 0.9630, 1e-4);
  EXPECT_DOUBLE_EQ(all.high, 1.0);
  EXPECT_TRUE(std::isnan(WilsonInterval(0.5, 0).low));
}

TEST(MeanIntervalTest, IsTheNormalIntervalOfTheMean) {
  // Values 1, 2, 3, 4: mean 2.5, sample variance 5/3, standard error sqrt(5/12).
  const Interval i = MeanInterval(10.0, 30.0, 4);
  const double half = kZ95 * std::sqrt(5.0 / 12.0);
  EXPECT_NEAR(i.low, 2.5 - half, 1e-12);
  EXPECT_NEAR(i.high, 2.5 + half, 1e-12);
  // Equal values: a (nearly) zero-width interval, not a NaN from a rounding-negative
  // variance.
  const Interval same = MeanInterval(0.3, 3 * 0.1 * 0.1, 3);
  EXPECT_NEAR(same.low, 0.1, 1e-6);
  EXPECT_NEAR(same.high, 0.1, 1e-6);
  EXPECT_TRUE(std::isnan(MeanInterval(1.0, 1.0, 1).low));
}

}  // namespace
}  // namespace kvlab
