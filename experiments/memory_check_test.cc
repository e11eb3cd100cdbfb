#include "experiments/memory_check.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/status_matchers.h"
#include "eval/testing/default_model.h"
#include "experiments/config_loader.h"

namespace kvlab::experiments {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr int64_t kGiB = int64_t{1} << 30;

config::Experiment Parse(const std::string& text) {
  absl::StatusOr<config::Experiment> e = ParseExperiment(text, "memory.pbtxt");
  EXPECT_THAT(e, IsOk());
  return e.ok() ? *e : config::Experiment();
}

model::ModelInfo SmallModel() {
  model::ModelInfo info;
  info.attention.num_layers = 2;
  info.attention.kv_heads = 2;
  info.attention.head_dim = 4;  // 2 * 2 * 2 * 4 * 4 = 128 bytes a token.
  return info;
}

TEST(MemoryCheckTest, CachesCountTheLockstepBatchAtTheLongestWindow) {
  const config::Experiment one = Parse(
      R"pb(text_path: "t" chunked { n_ctx: 512 } caches { name: "a" } caches { name: "b" })pb");
  EXPECT_THAT(EstimateCacheBytes(one, SmallModel(), 4096), IsOkAndHolds(512 * 128));
  const config::Experiment batch = Parse(R"pb(text_path: "t" chunked { n_ctx: 512 }
                                             batch_caches: 4 compare_to_dense: true
                                             caches { name: "a" } caches { name: "b" })pb");
  // Both caches and the dense reference.
  EXPECT_THAT(EstimateCacheBytes(batch, SmallModel(), 4096), IsOkAndHolds(3 * 512 * 128));
}

TEST(MemoryCheckTest, AnEvictingStreamHoldsItsBudgetNotTheStream) {
  const config::Experiment e = Parse(R"pb(text_path: "t" streaming {}
      caches { name: "a" eviction { policy: "sink" budget { tokens: 100 } } })pb");
  EXPECT_THAT(EstimateCacheBytes(e, SmallModel(), 100000), IsOkAndHolds(101 * 128));
}

TEST(MemoryCheckTest, RefusesTheDefaultModelWhereItsWeightsDoNotFitGivingBothFigures) {
  ASSERT_OK_AND_ASSIGN(auto files, model::ModelFiles::Open(testing::kDefaultModelPath));
  const config::Experiment e =
      Parse(R"pb(text_path: "t" chunked { n_ctx: 512 } caches { name: "a" })pb");
  // SmolLM2-135M at fp32: about 0.5 GiB of weights; a 512-token dense cache: 22.5 MiB.
  model::LoadOptions fp32;
  EXPECT_THAT(CheckModelFits(e, *files, fp32, 10000, kGiB / 4),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       AllOf(HasSubstr("weights need 0.50 GiB"),
                             HasSubstr("largest caches 0.02 GiB"),
                             HasSubstr("only 0.25 GiB is available"),
                             HasSubstr("weights_dtype: NATIVE would hold the weights in "
                                       "0.09 GiB"))));
  EXPECT_THAT(CheckModelFits(e, *files, fp32, 10000, kGiB), IsOk());
  // Native, the same weights are the file's 0.09 GiB of blocks.
  model::LoadOptions native;
  native.native_weights = true;
  EXPECT_THAT(CheckModelFits(e, *files, native, 10000, kGiB / 4), IsOk());
}

}  // namespace
}  // namespace kvlab::experiments
