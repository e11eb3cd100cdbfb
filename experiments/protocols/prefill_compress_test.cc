#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/status_matchers.h"
#include "experiments/protocols/protocol.h"

namespace kvlab::experiments {
namespace {

using ::testing::HasSubstr;

std::unique_ptr<Protocol> PrefillCompress() {
  config::Experiment e;
  e.mutable_prefill_compress();
  return *FindProtocol(e);
}

TEST(PrefillCompressTest, ScoresEachWholeWindowsTail) {
  config::Experiment e;
  config::PrefillCompressProtocol* p = e.mutable_prefill_compress();
  p->set_context_tokens(30);
  p->set_scored_tokens(10);
  ProtocolExtent x = PrefillCompress()->Extent(e, 125);  // Three whole windows of 40.
  EXPECT_EQ(x.scored_tokens, 30);
  EXPECT_EQ(x.window_tokens, 40);
  EXPECT_EQ(x.window_field, "prefill_compress.context_tokens + scored_tokens");
  EXPECT_EQ(PrefillCompress()->BudgetReferenceTokens(e, 125), 30);
  p->set_max_windows(2);
  EXPECT_EQ(PrefillCompress()->Extent(e, 125).scored_tokens, 20);
}

TEST(PrefillCompressTest, FillsDefaultsAndNamesItsFields) {
  config::Experiment e;
  e.mutable_prefill_compress()->set_context_tokens(8);
  EXPECT_THAT(PrefillCompress()->FillDefaultsAndValidate(e),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("prefill_compress.context_tokens and scored_tokens must be >= 1")));
  e.mutable_prefill_compress()->set_scored_tokens(2);
  EXPECT_THAT(PrefillCompress()->FillDefaultsAndValidate(e), IsOk());
  EXPECT_EQ(e.prefill_compress().max_windows(), 1);
  // Its caches evict inside the prefill, which one shared forward cannot do.
  e.mutable_prefill_compress()->set_shared_prefill(true);
  EXPECT_THAT(PrefillCompress()->FillDefaultsAndValidate(e),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("shared_prefill needs caches that compress once")));
}

TEST(PrefillCompressTest, EvictsWheneverOverBudgetAfterAWholeContextStep) {
  config::Experiment e;
  e.mutable_prefill_compress()->set_context_tokens(30);
  e.mutable_prefill_compress()->set_bos(config::BOS_NEVER);
  EXPECT_EQ(PrefillCompress()->Bos(e), config::BOS_NEVER);
  EXPECT_EQ(PrefillCompress()->Schedule(e), EvictionSchedule::kWheneverOverBudget);
  EXPECT_EQ(PrefillCompress()->TokensPerStep(e), 30);
  EXPECT_TRUE(PrefillCompress()->RecordsEvictions());
}

}  // namespace
}  // namespace kvlab::experiments
