#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/status_matchers.h"
#include "experiments/protocols/protocol.h"

namespace kvlab::experiments {
namespace {

using ::testing::HasSubstr;

std::unique_ptr<Protocol> Streaming() {
  config::Experiment e;
  e.mutable_streaming();
  return *FindProtocol(e);
}

TEST(StreamingTest, ScoresEveryTokenButTheFirst) {
  config::Experiment e;
  e.mutable_streaming();
  EXPECT_EQ(Streaming()->Extent(e, 100).scored_tokens, 99);
  EXPECT_EQ(Streaming()->Extent(e, 100).window_tokens, 100);
  EXPECT_EQ(Streaming()->BudgetReferenceTokens(e, 100), 100);
  e.mutable_streaming()->set_max_tokens(40);
  EXPECT_EQ(Streaming()->Extent(e, 100).scored_tokens, 39);
  EXPECT_EQ(Streaming()->Extent(e, 100).window_tokens, 40);
  EXPECT_EQ(Streaming()->BudgetReferenceTokens(e, 100), 40);
  EXPECT_EQ(Streaming()->BudgetReferenceTokens(e, 30), 30);
  EXPECT_EQ(Streaming()->Extent(e, 0).scored_tokens, 0);
}

TEST(StreamingTest, FillsDefaultsAndNamesBadFields) {
  config::Experiment e;
  e.mutable_streaming();
  EXPECT_THAT(Streaming()->FillDefaultsAndValidate(e), IsOk());
  EXPECT_EQ(e.streaming().bucket_size(), 256);
  e.mutable_streaming()->set_bucket_size(-1);
  EXPECT_THAT(Streaming()->FillDefaultsAndValidate(e),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("streaming.bucket_size")));
}

TEST(StreamingTest, ReadsItsOwnBosAndEvictsWheneverOverBudgetOneTokenAStep) {
  config::Experiment e;
  e.mutable_streaming()->set_bos(config::BOS_ALWAYS);
  EXPECT_EQ(Streaming()->Bos(e), config::BOS_ALWAYS);
  EXPECT_EQ(Streaming()->Schedule(e), EvictionSchedule::kWheneverOverBudget);
  EXPECT_EQ(Streaming()->TokensPerStep(e), 1);
  EXPECT_TRUE(Streaming()->RecordsEvictions());
  EXPECT_TRUE(Streaming()->ScoresPredictions());
}

}  // namespace
}  // namespace kvlab::experiments
