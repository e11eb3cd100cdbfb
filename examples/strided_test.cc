#include <ATen/ATen.h>

#include "base/status_matchers.h"
#include "core/cache_builder.h"
#include "core/eviction_policy.h"
#include "eval/model/llama_model.h"
#include "eval/model/tiny_llama.h"
#include "eval/perplexity/perplexity.h"
#include "examples/strided.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab::examples {
namespace {

TEST(StridedPolicyTest, KeepsSinksRecentAndOnStrideTokens) {
  StridedOptions options;
  options.set_stride(3);
  options.set_sink_tokens(1);
  options.set_recent_tokens(2);
  google::protobuf::Any any;
  any.PackFrom(options);
  ASSERT_OK_AND_ASSIGN(auto policy, EvictionPolicyRegistry().Create("strided", any));
  EvictionContext context;
  context.budget = 5;
  context.step = 20;
  context.positions = at::arange(20, at::kLong).unsqueeze(0);
  ASSERT_OK_AND_ASSIGN(const at::Tensor keep, policy->SelectKeep(context));
  const at::Tensor kept = std::get<0>(context.positions.gather(1, keep).sort(1));
  // Sink 0, recent 18 and 19, then the most recent multiples of 3: 15 and 12.
  EXPECT_TRUE(at::equal(kept[0], at::tensor({0, 12, 15, 18, 19}, at::kLong)));
}

// The plugin is used by name from a CacheConfig, exactly as experiments use it.
TEST(StridedPolicyTest, RunsByNameThroughTheCacheBuilder) {
  const std::string path = ::testing::TempDir() + "/strided.gguf";
  ASSERT_THAT(model::WriteTinyLlama(path), IsOk());
  ASSERT_OK_AND_ASSIGN(auto file, gguf::GgufFile::Open(path));
  ASSERT_OK_AND_ASSIGN(auto model, model::LlamaModel::Load(*file, {}));
  config::CacheConfig config;
  config.set_name("strided-16");
  config.mutable_eviction()->set_policy("strided");
  config.mutable_eviction()->mutable_budget()->set_tokens(16);
  StridedOptions options;
  options.set_recent_tokens(8);
  config.mutable_eviction()->mutable_options()->PackFrom(options);
  absl::StatusOr<KvCacheFactory> factory = MakeCacheFactory(
      config, {model->config().attention_shape(), model->rope(), at::kCPU, 0});
  ASSERT_THAT(factory, IsOk());
  std::vector<int32_t> tokens(50);
  for (int i = 0; i < 50; ++i) tokens[i] = (i * 7) % 200;
  absl::StatusOr<eval::PerplexityResult> result = eval::RunStreaming(*model, tokens, {}, *factory);
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->tokens_scored, 49);
  EXPECT_LE(result->peak_held_bytes, 17 * 256);
}

}  // namespace
}  // namespace kvlab::examples
