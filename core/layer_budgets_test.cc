#include "core/layer_budgets.h"

#include <numeric>

#include "base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab {
namespace {

using ::testing::Each;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(LayerBudgetsTest, UniformTokens) {
  config::Budget budget;
  budget.set_tokens(256);
  EXPECT_THAT(LayerBudgets(budget, 3, 0), IsOkAndHolds(ElementsAre(256, 256, 256)));
}

TEST(LayerBudgetsTest, FractionOfReference) {
  config::Budget budget;
  budget.set_fraction(0.25);
  EXPECT_THAT(LayerBudgets(budget, 2, 1001), IsOkAndHolds(ElementsAre(251, 251)));
}

TEST(LayerBudgetsTest, FractionOfSeenGivesTheMostALayerHoldsBetweenSteps) {
  config::Budget budget;
  budget.set_fraction_of_seen(0.25);
  // floor(0.25 x 1001) = 250, plus up to 63 tokens gathered between compressions.
  budget.set_compression_interval(64);
  EXPECT_THAT(LayerBudgets(budget, 2, 1001), IsOkAndHolds(ElementsAre(313, 313)));
  ASSERT_OK_AND_ASSIGN(const SeenFraction seen, SeenFractionOf(budget));
  EXPECT_EQ(seen.fraction, 0.25);
  EXPECT_EQ(seen.interval, 64);
  budget.clear_compression_interval();
  EXPECT_THAT(LayerBudgets(budget, 1, 1001), IsOkAndHolds(ElementsAre(250)));
}

TEST(LayerBudgetsTest, FractionOfSeenRejectsWhatItCannotMean) {
  config::Budget budget;
  budget.set_fraction_of_seen(1.0);
  EXPECT_THAT(LayerBudgets(budget, 2, 100),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("fraction_of_seen")));
  budget.set_fraction_of_seen(0.5);
  budget.set_allocation(config::PYRAMID);
  EXPECT_THAT(LayerBudgets(budget, 2, 100),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("allocation")));
  budget.set_allocation(config::UNIFORM);
  budget.set_compression_interval(0);
  EXPECT_THAT(LayerBudgets(budget, 2, 100),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("compression_interval")));
  config::Budget fixed;
  fixed.set_tokens(8);
  fixed.set_compression_interval(4);
  EXPECT_THAT(SeenFractionOf(fixed),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("compression_interval applies only")));
  ASSERT_OK_AND_ASSIGN(const SeenFraction none, SeenFractionOf(config::Budget()));
  EXPECT_EQ(none.fraction, 0.0);
}

TEST(LayerBudgetsTest, PyramidFallsLinearlyWithTheSameTotal) {
  config::Budget budget;
  budget.set_tokens(200);
  budget.set_allocation(config::PYRAMID);
  budget.set_pyramid_top_ratio(0.25);
  ASSERT_OK_AND_ASSIGN(const std::vector<int64_t> b, LayerBudgets(budget, 5, 0));
  EXPECT_THAT(b, ElementsAre(320, 260, 200, 140, 80));
  EXPECT_EQ(std::accumulate(b.begin(), b.end(), int64_t{0}), 5 * 200);
}

config::Budget PyramidKv(int64_t tokens) {
  config::Budget budget;
  budget.set_tokens(tokens);
  budget.set_allocation(config::PYRAMIDKV);
  return budget;
}

// C = 128, w = 32 (default), beta = 20 (default), 30 layers, a 2048-token prefill:
// min = 96 / 20 = 4, max = 2 * 96 - 4 = 188, step = (188 - 4) / 29 = 6, layer l keeps
// 188 - 6 l + 32.
TEST(LayerBudgetsTest, PyramidKvDefaults) {
  ASSERT_OK_AND_ASSIGN(const std::vector<int64_t> b, LayerBudgets(PyramidKv(128), 30, 2048));
  ASSERT_EQ(b.size(), 30u);
  EXPECT_EQ(b[0], 220);
  EXPECT_EQ(b[1], 214);
  EXPECT_EQ(b[29], 46);
}

// C = 100, w = 10, beta = 20, 4 layers, q = 185: min = 90 / 20 = 4, max = 180 - 4 = 176
// >= q - w = 175, so max = 175, min = 180 - 175 = 5, step = 170 / 3 = 56.
TEST(LayerBudgetsTest, PyramidKvClampsTheFirstLayerToTheContext) {
  config::Budget budget = PyramidKv(100);
  budget.set_pyramidkv_window(10);
  EXPECT_THAT(LayerBudgets(budget, 4, 185), IsOkAndHolds(ElementsAre(185, 129, 73, 17)));
  // beta 2, q = 200: min = 45, max = 135 < 190, step = 90 / 3 = 30.
  budget.set_pyramidkv_beta(2);
  EXPECT_THAT(LayerBudgets(budget, 4, 200), IsOkAndHolds(ElementsAre(145, 115, 85, 55)));
}

// A context shorter than 2 (C - w) keeps the uniform budget, as KVCache-Factory does.
TEST(LayerBudgetsTest, PyramidKvShortContextIsUniform) {
  config::Budget budget = PyramidKv(100);
  budget.set_pyramidkv_window(10);
  EXPECT_THAT(LayerBudgets(budget, 3, 179), IsOkAndHolds(ElementsAre(100, 100, 100)));
  EXPECT_THAT(LayerBudgets(budget, 1, 4096), IsOkAndHolds(ElementsAre(100)));
}

// The window comes from the scoring policy: C = 128, w = 8 (the PyramidKV authors'
// runs), beta 20, 30 layers, q = 2048: min = 120 / 20 = 6, max = 240 - 6 = 234,
// step = 228 / 29 = 7, layer l keeps 234 - 7 l + 8.
TEST(LayerBudgetsTest, PyramidKvTakesThePolicysWindow) {
  ASSERT_OK_AND_ASSIGN(const std::vector<int64_t> b,
                       LayerBudgets(PyramidKv(128), 30, 2048, /*observation_window=*/8));
  EXPECT_EQ(b[0], 242);
  EXPECT_EQ(b[29], 39);
  config::Budget budget = PyramidKv(128);
  budget.set_pyramidkv_window(8);
  EXPECT_THAT(LayerBudgets(budget, 30, 2048, 8), IsOkAndHolds(b));
  budget.set_pyramidkv_window(32);
  EXPECT_THAT(LayerBudgets(budget, 30, 2048, 8),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("budget.pyramidkv_window is 32 but the policy's observation "
                                 "window is 8")));
}

TEST(LayerBudgetsTest, PyramidKvErrorsNameTheField) {
  config::Budget budget = PyramidKv(32);
  EXPECT_THAT(LayerBudgets(budget, 4, 1024),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("budget.pyramidkv_window")));
  budget = PyramidKv(64);
  budget.set_pyramidkv_beta(0);
  EXPECT_THAT(LayerBudgets(budget, 4, 1024),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("budget.pyramidkv_beta")));
}

TEST(LayerBudgetsTest, NeverBelowOneToken) {
  config::Budget budget;
  budget.set_tokens(1);
  budget.set_allocation(config::PYRAMID);
  budget.set_pyramid_top_ratio(0.01);
  EXPECT_THAT(LayerBudgets(budget, 4, 0), IsOkAndHolds(Each(::testing::Ge(1))));
}

TEST(LayerBudgetsTest, ErrorsNameTheField) {
  config::Budget budget;
  EXPECT_THAT(LayerBudgets(budget, 2, 0),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("budget needs tokens, fraction or fraction_of_seen")));
  budget.set_tokens(0);
  EXPECT_THAT(LayerBudgets(budget, 2, 0),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("budget.tokens must be >= 1")));
  budget.set_fraction(1.5);
  EXPECT_THAT(LayerBudgets(budget, 2, 100),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("budget.fraction")));
  budget.set_tokens(8);
  budget.set_allocation(config::PYRAMID);
  budget.set_pyramid_top_ratio(2.0);
  EXPECT_THAT(LayerBudgets(budget, 2, 0),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("pyramid_top_ratio")));
}

// CAKE's adjust_budgets (antgroup/cakekv, cake/utils.py), by hand.
TEST(PreferenceSharesTest, SplitsInProportionWithTruncationsLossToTheFirstLayers) {
  // 100 / 3 truncates to 33 three times; the one token lost goes to the first layer.
  EXPECT_THAT(PreferenceShares({1.0, 1.0, 1.0}, 100, {1000, 1000, 1000}),
              ElementsAre(34, 33, 33));
  EXPECT_THAT(PreferenceShares({1.0, 3.0}, 100, {1000, 1000}), ElementsAre(25, 75));
}

TEST(PreferenceSharesTest, ALayerAboveItsCapGivesTheExcessToTheOthers) {
  // 25 and 75; the first is capped at 20 and its 5 go to the second.
  EXPECT_THAT(PreferenceShares({1.0, 3.0}, 100, {20, 1000}), ElementsAre(20, 80));
  // 40, 40 and 20, the first two capped at 30: their 20 go to the third.
  EXPECT_THAT(PreferenceShares({2.0, 2.0, 1.0}, 100, {30, 30, 1000}), ElementsAre(30, 30, 40));
  // Every layer capped: the excess has nowhere to go.
  EXPECT_THAT(PreferenceShares({1.0, 1.0}, 100, {10, 10}), ElementsAre(10, 10));
}

TEST(PreferenceSharesTest, NoPreferenceAtAllSplitsEvenly) {
  EXPECT_THAT(PreferenceShares({0.0, 0.0}, 10, {100, 100}), ElementsAre(5, 5));
}

}  // namespace
}  // namespace kvlab
