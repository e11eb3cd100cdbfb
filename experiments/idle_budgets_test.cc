#include "experiments/idle_budgets.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab::experiments {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

config::Experiment WithWindowCaches() {
  config::Experiment e;
  e.mutable_streaming()->set_max_tokens(1024);
  e.add_caches()->set_name("dense");
  for (const int budget : {256, 1024, 4096}) {
    config::CacheConfig* c = e.add_caches();
    c->set_name("window-" + std::to_string(budget));
    c->mutable_eviction()->set_policy("window");
    c->mutable_eviction()->mutable_budget()->set_tokens(budget);
  }
  return e;
}

TEST(IdleBudgetsTest, NamesEveryCacheWhoseBudgetCoversTheWindow) {
  EXPECT_THAT(
      IdleBudgets(WithWindowCaches(), /*window_tokens=*/1024, /*num_layers=*/30, 1024),
      ElementsAre("caches[2] 'window-1024': eviction.budget (1024 tokens in its largest layer) "
                  "is at least the 1024 tokens the cache ever holds: it evicts nothing, and its "
                  "numbers are the dense cache's",
                  ::testing::HasSubstr("caches[3] 'window-4096'")));
  EXPECT_THAT(IdleBudgets(WithWindowCaches(), 100000, 30, 100000), IsEmpty());
}

TEST(IdleBudgetsTest, NoneForInvalidBudgets) {
  config::Experiment e = WithWindowCaches();
  for (auto& c : *e.mutable_caches()) {
    if (c.has_eviction()) c.mutable_eviction()->mutable_budget()->set_tokens(0);
  }
  EXPECT_THAT(IdleBudgets(e, 1024, 30, 1024), IsEmpty());
}

}  // namespace
}  // namespace kvlab::experiments
