#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/status_matchers.h"
#include "experiments/protocols/protocol.h"

namespace kvlab::experiments {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::unique_ptr<Protocol> Retrieval() {
  config::Experiment e;
  e.mutable_retrieval();
  return *FindProtocol(e);
}

TEST(RetrievalTest, FillsDefaultsAndNamesBadFields) {
  config::Experiment e;
  e.mutable_retrieval();
  EXPECT_THAT(Retrieval()->FillDefaultsAndValidate(e),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("retrieval.context_tokens needs at least one")));
  e.mutable_retrieval()->add_context_tokens(1024);
  EXPECT_THAT(Retrieval()->FillDefaultsAndValidate(e), IsOk());
  EXPECT_THAT(e.retrieval().depths(), ElementsAre(0.0, 0.25, 0.5, 0.75, 1.0));
  EXPECT_EQ(e.retrieval().trials(), 5);
  EXPECT_EQ(e.retrieval().max_new_tokens(), 8);
  e.mutable_retrieval()->add_context_tokens(32);
  EXPECT_THAT(Retrieval()->FillDefaultsAndValidate(e),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("retrieval.context_tokens[1] must be >= 64, got 32")));
}

TEST(RetrievalTest, SharedPrefillNeedsCachesThatCompressOnceAfterThePrompt) {
  config::Experiment e;
  e.mutable_retrieval()->add_context_tokens(1024);
  e.mutable_retrieval()->set_shared_prefill(true);
  EXPECT_THAT(Retrieval()->FillDefaultsAndValidate(e), IsOk());
  e.mutable_retrieval()->set_eviction(config::RetrievalProtocol::WHENEVER_OVER_BUDGET);
  EXPECT_THAT(Retrieval()->FillDefaultsAndValidate(e),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("retrieval.shared_prefill needs eviction: ONCE_AFTER_PROMPT")));
}

TEST(RetrievalTest, ScoresAnswersNotPredictions) {
  config::Experiment e;
  e.mutable_retrieval()->add_context_tokens(256);
  e.mutable_retrieval()->add_context_tokens(1024);
  e.mutable_retrieval()->set_max_new_tokens(8);
  ProtocolExtent x = Retrieval()->Extent(e, 100);
  EXPECT_EQ(x.scored_tokens, 0);
  EXPECT_EQ(x.window_tokens, 1024 + 8);
  EXPECT_EQ(Retrieval()->BudgetReferenceTokens(e, 100), 1024);
  EXPECT_FALSE(Retrieval()->ScoresPredictions());
  EXPECT_FALSE(Retrieval()->RecordsEvictions());
  EXPECT_EQ(Retrieval()->TokensPerStep(e), 0);
}

TEST(RetrievalTest, EvictsAsItsEvictionFieldSays) {
  config::Experiment e;
  e.mutable_retrieval();
  EXPECT_EQ(Retrieval()->Schedule(e), EvictionSchedule::kOnceAfterPrefill);
  e.mutable_retrieval()->set_eviction(config::RetrievalProtocol::WHENEVER_OVER_BUDGET);
  EXPECT_EQ(Retrieval()->Schedule(e), EvictionSchedule::kWheneverOverBudget);
}

TEST(RetrievalTest, BudgetsMustBeInTokens) {
  config::Experiment e;
  e.mutable_retrieval();
  config::CacheConfig& c = *e.add_caches();
  c.set_name("w");
  c.mutable_eviction()->mutable_budget()->set_tokens(64);
  EXPECT_THAT(Retrieval()->ValidateCache(e, 0), IsOk());
  c.mutable_eviction()->mutable_budget()->set_fraction(0.5);
  EXPECT_THAT(Retrieval()->ValidateCache(e, 0),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("caches[0] 'w': retrieval needs eviction.budget in tokens")));
}

}  // namespace
}  // namespace kvlab::experiments
