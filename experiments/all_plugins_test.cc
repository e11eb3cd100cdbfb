// Runs every registered eviction policy through the real pipeline on a tiny
// random-weight model, so that a new plugin is covered without new test code: a
// budget at or above the stream length must give exactly the dense result, and a
// small budget must really bound what the cache holds.
#include <ATen/ATen.h>

#include "core/cache_builder.h"
#include "core/eviction_policy.h"
#include "core/status_matchers.h"
#include "eval/model/llama_model.h"
#include "eval/model/tiny_llama.h"
#include "eval/perplexity/perplexity.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab {
namespace {

constexpr int64_t kStreamTokens = 60;

class AllPoliciesTest : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() {
    const std::string path = ::testing::TempDir() + "/all_plugins.gguf";
    ASSERT_THAT(model::WriteTinyLlama(path), IsOk());
    file_ = gguf::GgufFile::Open(path)->release();
    model_ = model::LlamaModel::Load(*file_, {})->release();
    at::manual_seed(11);
    const at::Tensor random = at::randint(0, model_->config().vocab, {kStreamTokens}, at::kLong);
    tokens_ = new std::vector<int32_t>();
    for (int64_t i = 0; i < kStreamTokens; ++i) tokens_->push_back(random[i].item<int32_t>());
  }
  static void TearDownTestSuite() {
    delete tokens_;
    delete model_;
    delete file_;
  }

  static KvCacheFactory Factory(const config::CacheConfig& config) {
    CacheContext context{model_->config().attention_shape(), model_->rope(), at::kCPU,
                         kStreamTokens};
    absl::StatusOr<KvCacheFactory> factory = MakeCacheFactory(config, context);
    EXPECT_THAT(factory, IsOk());
    return *factory;
  }

  static config::CacheConfig Evicting(const std::string& policy, int64_t budget) {
    config::CacheConfig config;
    config.set_name(policy);
    config.mutable_eviction()->set_policy(policy);
    config.mutable_eviction()->mutable_budget()->set_tokens(budget);
    return config;
  }

  static eval::PerplexityResult Stream(const KvCacheFactory& factory) {
    absl::StatusOr<eval::PerplexityResult> result =
        eval::RunStreaming(*model_, *tokens_, {}, factory);
    EXPECT_THAT(result, IsOk());
    return *result;
  }

  static gguf::GgufFile* file_;
  static model::LlamaModel* model_;
  static std::vector<int32_t>* tokens_;
};

gguf::GgufFile* AllPoliciesTest::file_ = nullptr;
model::LlamaModel* AllPoliciesTest::model_ = nullptr;
std::vector<int32_t>* AllPoliciesTest::tokens_ = nullptr;

TEST_P(AllPoliciesTest, BudgetAtLeastTheLengthIsExactlyDense) {
  const eval::PerplexityResult dense = Stream(Factory(config::CacheConfig()));
  const eval::PerplexityResult evicting = Stream(Factory(Evicting(GetParam(), kStreamTokens)));
  EXPECT_EQ(evicting.nll_sum, dense.nll_sum);
  EXPECT_EQ(evicting.peak_held_bytes, dense.peak_held_bytes);
}

TEST_P(AllPoliciesTest, SmallBudgetBoundsWhatIsHeld) {
  for (config::PositionMode mode : {config::POSITION_ORIGINAL, config::POSITION_CACHE_SLOT}) {
    config::CacheConfig config = Evicting(GetParam(), 12);
    config.set_position_mode(mode);
    const KvCacheFactory factory = Factory(config);
    const eval::PerplexityResult result = Stream(factory);
    EXPECT_TRUE(std::isfinite(result.perplexity()));
    // 2 layers x (K + V) x 2 heads x 8 dims x 4 bytes = 256 bytes per token; at most
    // budget + 1 tokens are held, after the step's token joins and before eviction.
    EXPECT_LE(result.peak_held_bytes, 13 * 256);
    EXPECT_EQ(result.mean_bytes_per_token, 256.0);
  }
}

TEST_P(AllPoliciesTest, PrefillCompressKeepsTheBudget) {
  eval::PrefillCompressOptions options;
  options.context_tokens = 40;
  options.scored_tokens = 10;
  const KvCacheFactory factory = Factory(Evicting(GetParam(), 16));
  absl::StatusOr<eval::PerplexityResult> result =
      eval::RunPrefillCompress(*model_, *tokens_, options, factory);
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->tokens_scored, 10);
  // Each layer holds all 40 prefill tokens for its own attention, then keeps 16; the
  // peak is the last layer's 40 beside the first's 16 (128 bytes per token per layer).
  EXPECT_EQ(result->peak_held_bytes, (40 + 16) * 128);
  auto cache = *factory();
  ASSERT_THAT(model_->Forward(at::randint(0, 200, {1, 40}, at::kLong), 0, {cache.get()}), IsOk());
  for (int layer = 0; layer < cache->num_layers(); ++layer) EXPECT_EQ(cache->Length(layer), 16);
}

INSTANTIATE_TEST_SUITE_P(Registered, AllPoliciesTest,
                         ::testing::ValuesIn(EvictionPolicyRegistry().Names()),
                         [](const auto& info) { return info.param; });

TEST(AllPluginsTest, TheBuiltInPoliciesAreRegistered) {
  EXPECT_THAT(EvictionPolicyRegistry().Names(),
              ::testing::IsSupersetOf({"h2o", "knorm", "random", "sink", "snapkv", "tova", "window"}));
}

TEST(AllPluginsTest, UnknownPolicyListsTheRegisteredOnes) {
  config::CacheConfig config;
  config.mutable_eviction()->set_policy("lru");
  config.mutable_eviction()->mutable_budget()->set_tokens(4);
  const RotaryEmbedding rope = *RotaryEmbedding::Create(8, 8, 1e4, RopeStyle::kInterleaved);
  EXPECT_THAT(MakeCacheFactory(config, {{1, 2, 2, 8}, rope, at::kCPU, 0}),
              StatusIs(absl::StatusCode::kNotFound,
                       ::testing::AllOf(::testing::HasSubstr("unknown eviction policy 'lru'"),
                                        ::testing::HasSubstr("h2o, knorm"))));
}

}  // namespace
}  // namespace kvlab
