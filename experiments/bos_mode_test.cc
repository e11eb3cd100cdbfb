#include "experiments/bos_mode.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/status_matchers.h"
#include "experiments/config_loader.h"

namespace kvlab::experiments {
namespace {

using ::testing::HasSubstr;

config::Experiment Parse(const std::string& protocol) {
  absl::StatusOr<config::Experiment> e = ParseExperiment(
      "text_path: 'x.txt' " + protocol + " caches { name: 'dense' }", "test.pbtxt");
  EXPECT_TRUE(e.ok()) << e.status();
  return e.ok() ? *e : config::Experiment();
}

// UseBos's decision; a failed UseBos fails the test.
bool Decide(const config::Experiment& e, bool model_adds_bos, int32_t bos_id) {
  absl::StatusOr<bool> bos = UseBos(e, model_adds_bos, bos_id);
  EXPECT_THAT(bos, IsOk());
  return bos.value_or(false);
}

TEST(BosModeTest, EveryProtocolDefaultsToAuto) {
  for (const std::string protocol :
       {"chunked {}", "streaming {}", "prefill_compress { context_tokens: 8 scored_tokens: 4 }",
        "compress_once { context_tokens: 8 scored_tokens: 4 }"}) {
    const config::Experiment e = Parse(protocol);
    EXPECT_EQ(ProtocolBos(e), config::BOS_AUTO) << protocol;
    // AUTO follows the model's add_bos_token.
    EXPECT_FALSE(Decide(e, /*model_adds_bos=*/false, /*bos_id=*/1));
    EXPECT_TRUE(Decide(e, /*model_adds_bos=*/true, /*bos_id=*/1));
  }
}

TEST(BosModeTest, EachProtocolReadsItsOwnField) {
  EXPECT_EQ(ProtocolBos(Parse("chunked { bos: BOS_NEVER }")), config::BOS_NEVER);
  EXPECT_EQ(ProtocolBos(Parse("streaming { bos: BOS_ALWAYS }")), config::BOS_ALWAYS);
  EXPECT_EQ(ProtocolBos(Parse(
                "prefill_compress { context_tokens: 8 scored_tokens: 4 bos: BOS_NEVER }")),
            config::BOS_NEVER);
  EXPECT_EQ(ProtocolBos(Parse(
                "compress_once { context_tokens: 8 scored_tokens: 4 bos: BOS_ALWAYS }")),
            config::BOS_ALWAYS);
}

TEST(BosModeTest, AlwaysAndNeverOverrideTheModel) {
  EXPECT_TRUE(Decide(Parse("streaming { bos: BOS_ALWAYS }"), false, 1));
  EXPECT_FALSE(Decide(Parse("streaming { bos: BOS_NEVER }"), true, 1));
}

TEST(BosModeTest, BosWithoutABosTokenNamesTheField) {
  EXPECT_THAT(UseBos(Parse("compress_once { context_tokens: 8 scored_tokens: 4 bos: "
                           "BOS_ALWAYS }"),
                     false, -1),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("compress_once.bos")));
  // Not asked for: no error.
  EXPECT_FALSE(Decide(Parse("streaming {}"), false, -1));
}

}  // namespace
}  // namespace kvlab::experiments
