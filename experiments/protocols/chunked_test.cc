#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/status_matchers.h"
#include "experiments/protocols/protocol.h"

namespace kvlab::experiments {
namespace {

using ::testing::HasSubstr;

std::unique_ptr<Protocol> Chunked() {
  config::Experiment e;
  e.mutable_chunked();
  return *FindProtocol(e);
}

TEST(ChunkedTest, ScoresTheSecondHalfOfEachWholeChunk) {
  config::Experiment e;
  e.mutable_chunked()->set_n_ctx(512);
  // 1000 tokens hold one whole chunk; llama.cpp scores positions 256..510 of it.
  ProtocolExtent x = Chunked()->Extent(e, 1000);
  EXPECT_EQ(x.scored_tokens, 255);
  EXPECT_EQ(x.window_tokens, 512);
  EXPECT_EQ(x.window_field, "chunked.n_ctx");
  EXPECT_EQ(Chunked()->BudgetReferenceTokens(e, 1000), 512);
  e.mutable_chunked()->set_max_chunks(3);
  EXPECT_EQ(Chunked()->Extent(e, 100000).scored_tokens, 3 * 255);
}

TEST(ChunkedTest, FillsDefaultsAndNamesBadFields) {
  config::Experiment e;
  e.mutable_chunked();
  EXPECT_THAT(Chunked()->FillDefaultsAndValidate(e), IsOk());
  EXPECT_EQ(e.chunked().n_ctx(), 512);
  e.mutable_chunked()->set_n_ctx(2);
  EXPECT_THAT(Chunked()->FillDefaultsAndValidate(e),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("chunked.n_ctx must be >= 4")));
}

TEST(ChunkedTest, ReadsItsOwnBosAndRejectsEviction) {
  config::Experiment e;
  e.mutable_chunked()->set_bos(config::BOS_NEVER);
  EXPECT_EQ(Chunked()->Bos(e), config::BOS_NEVER);
  e.add_caches()->set_name("dense");
  EXPECT_THAT(Chunked()->ValidateCache(e, 0), IsOk());
  e.mutable_caches(0)->mutable_eviction()->set_policy("window");
  EXPECT_THAT(Chunked()->ValidateCache(e, 0),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("caches[0] 'dense': eviction has no effect under chunked")));
}

}  // namespace
}  // namespace kvlab::experiments
