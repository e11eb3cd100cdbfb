#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/status_matchers.h"
#include "experiments/protocols/protocol.h"

namespace kvlab::experiments {
namespace {

using ::testing::HasSubstr;

std::unique_ptr<Protocol> CompressOnce() {
  config::Experiment e;
  e.mutable_compress_once();
  return *FindProtocol(e);
}

TEST(CompressOnceTest, ScoresEachWholeWindowsTail) {
  config::Experiment e;
  config::PrefillCompressProtocol* p = e.mutable_compress_once();
  p->set_context_tokens(30);
  p->set_scored_tokens(10);
  ProtocolExtent x = CompressOnce()->Extent(e, 125);  // Three whole windows of 40.
  EXPECT_EQ(x.scored_tokens, 30);
  EXPECT_EQ(x.window_tokens, 40);
  EXPECT_EQ(x.window_field, "compress_once.context_tokens + scored_tokens");
  EXPECT_EQ(CompressOnce()->BudgetReferenceTokens(e, 125), 30);
  p->set_max_windows(2);
  EXPECT_EQ(CompressOnce()->Extent(e, 125).scored_tokens, 20);
}

TEST(CompressOnceTest, ErrorsNameItsFields) {
  config::Experiment e;
  e.mutable_compress_once()->set_context_tokens(8);
  EXPECT_THAT(CompressOnce()->FillDefaultsAndValidate(e),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("compress_once.context_tokens and scored_tokens must be >= 1")));
  // A shared prefill is its to take.
  e.mutable_compress_once()->set_scored_tokens(2);
  e.mutable_compress_once()->set_shared_prefill(true);
  EXPECT_THAT(CompressOnce()->FillDefaultsAndValidate(e), IsOk());
}

TEST(CompressOnceTest, CompressesOnceAfterThePrefillAndGrows) {
  config::Experiment e;
  e.mutable_compress_once()->set_context_tokens(30);
  e.mutable_compress_once()->set_bos(config::BOS_ALWAYS);
  EXPECT_EQ(CompressOnce()->Bos(e), config::BOS_ALWAYS);
  EXPECT_EQ(CompressOnce()->Schedule(e), EvictionSchedule::kOnceAfterPrefill);
  EXPECT_EQ(CompressOnce()->TokensPerStep(e), 0);
  EXPECT_TRUE(CompressOnce()->RecordsEvictions());
}

}  // namespace
}  // namespace kvlab::experiments
