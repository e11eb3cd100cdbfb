#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/status_matchers.h"
#include "experiments/protocols/protocol.h"

namespace kvlab::experiments {
namespace {

using ::testing::HasSubstr;

std::unique_ptr<Protocol> Ruler() {
  config::Experiment e;
  e.mutable_ruler();
  return *FindProtocol(e);
}

TEST(RulerTest, FillsDefaultsAndNamesBadFields) {
  config::Experiment e;
  e.mutable_ruler();
  EXPECT_THAT(Ruler()->FillDefaultsAndValidate(e),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("ruler.lengths needs at least one")));
  e.mutable_ruler()->add_lengths(4096);
  EXPECT_THAT(Ruler()->FillDefaultsAndValidate(e), IsOk());
  EXPECT_EQ(e.ruler().tasks_size(), 11);
  EXPECT_EQ(e.ruler().tasks(0), "niah_single_1");
  EXPECT_EQ(e.ruler().samples(), 100);
  EXPECT_EQ(e.ruler().seed(), 42u);
  EXPECT_EQ(e.ruler().word_lists(), "third_party/wordlists");
  EXPECT_TRUE(e.ruler().shared_prefill());
  EXPECT_TRUE(e.ruler().stop_when_answered());
  e.mutable_ruler()->add_lengths(100);
  EXPECT_THAT(Ruler()->FillDefaultsAndValidate(e),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("ruler.lengths[1] must be >= 256, got 100")));
  e.mutable_ruler()->clear_lengths();
  e.mutable_ruler()->add_lengths(4096);
  e.mutable_ruler()->add_tasks("qa_1");
  EXPECT_THAT(Ruler()->FillDefaultsAndValidate(e),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("ruler.tasks[11]")));
  e.mutable_ruler()->clear_tasks();
  e.mutable_ruler()->set_samples(0);
  EXPECT_THAT(Ruler()->FillDefaultsAndValidate(e),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("ruler.samples must be >= 1")));
}

TEST(RulerTest, ScoresAnswersAndCompressesTheContextOnce) {
  config::Experiment e;
  e.mutable_ruler()->add_lengths(4096);
  e.mutable_ruler()->add_lengths(8192);
  const ProtocolExtent x = Ruler()->Extent(e, 100);
  EXPECT_EQ(x.scored_tokens, 0);
  EXPECT_EQ(x.window_tokens, 8192);
  EXPECT_EQ(x.window_field, "ruler.lengths");
  EXPECT_EQ(Ruler()->BudgetReferenceTokens(e, 100), 8192);
  EXPECT_FALSE(Ruler()->ScoresPredictions());
  EXPECT_EQ(Ruler()->TokensPerStep(e), 0);
  EXPECT_EQ(Ruler()->Schedule(e), EvictionSchedule::kOnceAfterPrefill);
}

TEST(RulerTest, FractionalBudgetsNeedOneLength) {
  config::Experiment e;
  e.mutable_ruler()->add_lengths(4096);
  config::CacheConfig* c = e.add_caches();
  c->set_name("snapkv-50");
  c->mutable_eviction()->mutable_budget()->set_fraction(0.5);
  EXPECT_THAT(Ruler()->ValidateCache(e, 0), IsOk());
  e.mutable_ruler()->add_lengths(8192);
  EXPECT_THAT(Ruler()->ValidateCache(e, 0),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("caches[0] 'snapkv-50': ruler with several lengths")));
}

}  // namespace
}  // namespace kvlab::experiments
