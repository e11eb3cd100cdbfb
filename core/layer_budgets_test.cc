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

TEST(LayerBudgetsTest, PyramidFallsLinearlyWithTheSameTotal) {
  config::Budget budget;
  budget.set_tokens(200);
  budget.set_allocation(config::PYRAMID);
  budget.set_pyramid_top_ratio(0.25);
  ASSERT_OK_AND_ASSIGN(const std::vector<int64_t> b, LayerBudgets(budget, 5, 0));
  EXPECT_THAT(b, ElementsAre(320, 260, 200, 140, 80));
  EXPECT_EQ(std::accumulate(b.begin(), b.end(), int64_t{0}), 5 * 200);
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
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("tokens or fraction")));
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

}  // namespace
}  // namespace kvlab
