// Runs every registered eviction policy and quantizer through the real pipeline on a
// tiny random-weight model, alone and composed, so that a new plugin is covered
// without new test code: a budget at or above the stream length must give exactly
// the dense result, a small budget must really bound what the cache holds, and a
// quantized cache must hold fewer bytes than a dense one.
#include <ATen/ATen.h>

#include <memory>

#include "base/status_matchers.h"
#include "core/cache_builder.h"
#include "core/eviction_policy.h"
#include "core/quantizer.h"
#include "eval/model/llama_model.h"
#include "eval/model/tiny_llama.h"
#include "eval/perplexity/perplexity.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "quant/fp8.pb.h"
#include "quant/integer.pb.h"

namespace kvlab {
namespace {

constexpr int64_t kStreamTokens = 60;

class PipelineTest {
 public:
  static void SetUpTestSuite() {
    const std::string path = ::testing::TempDir() + "/all_plugins.gguf";
    ASSERT_THAT(model::WriteTinyLlama(path), IsOk());
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<gguf::GgufFile> file, gguf::GgufFile::Open(path));
    file_ = file.release();
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<model::LlamaModel> model,
                         model::LlamaModel::Load(*file_, {}));
    model_ = model.release();
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

  static KvCacheFactory Factory(
      const config::CacheConfig& config,
      EvictionSchedule schedule = EvictionSchedule::kWheneverOverBudget) {
    CacheContext context{model_->config().attention_shape(), model_->rope(), at::kCPU,
                         kStreamTokens};
    context.eviction_schedule = schedule;
    absl::StatusOr<KvCacheFactory> factory = MakeCacheFactory(config, context);
    return ValueOrAddFailure(std::move(factory));
  }

  // Whether the policy, with its default options, compresses `layer` at all (a layer
  // it leaves uncompressed keeps every token).
  static bool Compresses(const std::string& policy, int layer) {
    absl::StatusOr<std::unique_ptr<EvictionPolicy>> made =
        EvictionPolicyRegistry().Create(policy, google::protobuf::Any());
    EXPECT_THAT(made, IsOk());
    return !made.ok() || (*made)->CompressesLayer(layer);
  }

  // Whether the policy splits the budget over layers (CAKE): it runs only where the
  // cache compresses once, and its layers then hold different counts.
  static bool SplitsLayers(const std::string& policy) {
    absl::StatusOr<std::unique_ptr<EvictionPolicy>> made =
        EvictionPolicyRegistry().Create(policy, google::protobuf::Any());
    EXPECT_THAT(made, IsOk());
    return made.ok() && (*made)->AllocatesLayers();
  }

  // The policy's observation window (kept in every layer by a policy that splits the
  // budget over layers) plus `beyond` tokens.
  static int64_t WindowPlus(const std::string& policy, int64_t beyond) {
    absl::StatusOr<std::unique_ptr<EvictionPolicy>> made =
        EvictionPolicyRegistry().Create(policy, google::protobuf::Any());
    EXPECT_THAT(made, IsOk());
    return made.ok() ? (*made)->ObservationWindow() + beyond : beyond;
  }

  // A protocol that evicts while decoding refuses a policy that splits the budget over
  // layers, naming compress_once.
  static void ExpectCompressOnceOnly(const std::string& policy) {
    CacheContext context{model_->config().attention_shape(), model_->rope(), at::kCPU,
                         kStreamTokens};
    EXPECT_THAT(MakeCacheFactory(Evicting(policy, WindowPlus(policy, 4)), context),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         ::testing::HasSubstr("use compress_once")));
  }

  static config::CacheConfig Evicting(const std::string& policy, int64_t budget) {
    config::CacheConfig config;
    config.set_name(policy);
    config.mutable_eviction()->set_policy(policy);
    config.mutable_eviction()->mutable_budget()->set_tokens(budget);
    return config;
  }

  // Keys and values quantized by `quantizer`, with a small residual on keys (none
  // for a quantizer that keeps no residual).
  static void Quantize(config::CacheConfig& config, const std::string& quantizer,
                       const google::protobuf::Message& options, int64_t key_residual = 4) {
    for (config::StoreConfig* store : {config.mutable_keys(), config.mutable_values()}) {
      store->mutable_quantized()->set_quantizer(quantizer);
      store->mutable_quantized()->mutable_options()->PackFrom(options);
    }
    config.mutable_keys()->mutable_quantized()->set_residual_tokens(key_residual);
  }

  // The prefill-then-decode protocol of the compressing tests: a 40-token context,
  // then 10 tokens decoded and scored.
  static absl::StatusOr<eval::PerplexityResult> PrefillThenDecode(const KvCacheFactory& factory) {
    eval::PrefillCompressOptions options;
    options.context_tokens = 40;
    options.scored_tokens = 10;
    return eval::RunPrefillCompress(*model_, *tokens_, options, factory);
  }

  // ThinK's pruning as these tests run it: half the key channels, the 4 newest tokens
  // whole.
  static config::CacheConfig PruningKeys(config::CacheConfig config) {
    config.mutable_key_channels()->set_pruned_fraction(0.5);
    config.mutable_key_channels()->set_recent_tokens(4);
    return config;
  }

  static eval::PerplexityResult Stream(const KvCacheFactory& factory) {
    absl::StatusOr<eval::PerplexityResult> result =
        eval::RunStreaming(*model_, *tokens_, {}, factory);
    return ValueOrAddFailure(std::move(result));
  }

  static gguf::GgufFile* file_;
  static model::LlamaModel* model_;
  static std::vector<int32_t>* tokens_;
};

gguf::GgufFile* PipelineTest::file_ = nullptr;
model::LlamaModel* PipelineTest::model_ = nullptr;
std::vector<int32_t>* PipelineTest::tokens_ = nullptr;

class AllPoliciesTest : public PipelineTest, public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() { PipelineTest::SetUpTestSuite(); }
  static void TearDownTestSuite() { PipelineTest::TearDownTestSuite(); }

};

TEST_P(AllPoliciesTest, BudgetAtLeastTheLengthIsExactlyDense) {
  if (SplitsLayers(GetParam())) return ExpectCompressOnceOnly(GetParam());
  const eval::PerplexityResult dense = Stream(Factory(config::CacheConfig()));
  const eval::PerplexityResult evicting = Stream(Factory(Evicting(GetParam(), kStreamTokens)));
  EXPECT_EQ(evicting.nll_sum, dense.nll_sum);
  EXPECT_EQ(evicting.peak_held_bytes, dense.peak_held_bytes);
}

TEST_P(AllPoliciesTest, SmallBudgetBoundsWhatIsHeld) {
  if (SplitsLayers(GetParam())) return ExpectCompressOnceOnly(GetParam());
  for (config::PositionMode mode : {config::POSITION_ORIGINAL, config::POSITION_CACHE_SLOT}) {
    config::CacheConfig config = Evicting(GetParam(), 12);
    config.set_position_mode(mode);
    const KvCacheFactory factory = Factory(config);
    const eval::PerplexityResult result = Stream(factory);
    EXPECT_TRUE(std::isfinite(result.perplexity()));
    // (K + V) x 2 heads x 8 dims x 4 bytes = 128 bytes per token and layer; at most
    // budget + 1 tokens are held in a compressed layer, after the step's token joins
    // and before eviction, and the whole stream in a layer left uncompressed.
    int64_t bound = 0;
    for (int layer = 0; layer < 2; ++layer) {
      bound += (Compresses(GetParam(), layer) ? 13 : kStreamTokens) * 128;
    }
    EXPECT_LE(result.peak_held_bytes, bound);
    EXPECT_EQ(result.mean_bytes_per_token, 256.0);
  }
}

TEST_P(AllPoliciesTest, PrefillCompressKeepsTheBudget) {
  if (SplitsLayers(GetParam())) return ExpectCompressOnceOnly(GetParam());
  const KvCacheFactory factory = Factory(Evicting(GetParam(), 16));
  absl::StatusOr<eval::PerplexityResult> result = PrefillThenDecode(factory);
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->tokens_scored, 10);
  // Each layer holds all 40 prefill tokens for its own attention, then keeps 16 (all
  // 40 if the policy leaves it uncompressed); the peak is the last layer's 40 beside
  // what the first kept (128 bytes per token per layer).
  const auto kept = [&](int layer, int64_t compressed, int64_t whole) {
    return Compresses(GetParam(), layer) ? compressed : whole;
  };
  EXPECT_EQ(result->peak_held_bytes, (40 + kept(0, 16, 40)) * 128);
  ASSERT_OK_AND_ASSIGN(auto cache, factory());
  ASSERT_THAT(model_->Forward(at::randint(0, 200, {1, 40}, at::kLong), 0, {cache.get()}), IsOk());
  for (int layer = 0; layer < cache->num_layers(); ++layer) {
    EXPECT_EQ(cache->Length(layer), kept(layer, 16, 40));
  }
}

// A policy that splits the budget over layers (CAKE), under compress_once: the two
// layers share 2 x 4 tokens beyond their windows. The first keeps all 40 of its prefill
// tokens until the second arrives (the whole 8 is its share, and it has only 8 beyond
// its window), so the prefill peaks with both layers whole; then the two hold
// 2 x (window + 4) tokens between them, and each the 9 decoded ones.
void ExpectLayersShareTheBudget(const std::string& policy) {
  const int64_t budget = PipelineTest::WindowPlus(policy, 4);
  ASSERT_LE(budget, 40);
  const KvCacheFactory factory = PipelineTest::Factory(PipelineTest::Evicting(policy, budget),
                                                       EvictionSchedule::kOnceAfterPrefill);
  absl::StatusOr<eval::PerplexityResult> result = PipelineTest::PrefillThenDecode(factory);
  ASSERT_THAT(result, IsOk());
  EXPECT_TRUE(std::isfinite(result->perplexity()));
  // The prefill peaks at 80 tokens (both layers whole); the decode's end holds more.
  EXPECT_EQ(result->peak_held_bytes, (2 * budget + 2 * 9) * 128);
  ASSERT_OK_AND_ASSIGN(auto cache, factory());
  model::LlamaModel& model = *PipelineTest::model_;
  ASSERT_THAT(model.Forward(at::randint(0, 200, {1, 40}, at::kLong), 0, {cache.get()}), IsOk());
  for (int t = 40; t < 49; ++t) {
    ASSERT_THAT(model.Forward(at::randint(0, 200, {1, 1}, at::kLong), t, {cache.get()}), IsOk());
  }
  EXPECT_GE(cache->Length(0), budget - 4 + 9);
  EXPECT_GE(cache->Length(1), budget - 4 + 9);
  EXPECT_EQ(cache->Length(0) + cache->Length(1), 2 * budget + 2 * 9);
  EXPECT_EQ(cache->Memory().held_bytes, (2 * budget + 2 * 9) * 128);
}

TEST_P(AllPoliciesTest, CompressOnceCompressesThePrefillThenGrows) {
  if (SplitsLayers(GetParam())) return ExpectLayersShareTheBudget(GetParam());
  const KvCacheFactory factory =
      Factory(Evicting(GetParam(), 16), EvictionSchedule::kOnceAfterPrefill);
  absl::StatusOr<eval::PerplexityResult> result = PrefillThenDecode(factory);
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->tokens_scored, 10);
  // The prefill's peak as under prefill_compress; by the last decode step every layer
  // holds its 16 kept tokens (40 if left uncompressed) and the 9 decoded ones.
  const auto kept = [&](int layer, int64_t compressed, int64_t whole) {
    return Compresses(GetParam(), layer) ? compressed : whole;
  };
  EXPECT_EQ(result->peak_held_bytes, (40 + kept(0, 16, 40)) * 128);
  ASSERT_OK_AND_ASSIGN(auto cache, factory());
  ASSERT_THAT(model_->Forward(at::randint(0, 200, {1, 40}, at::kLong), 0, {cache.get()}), IsOk());
  for (int t = 40; t < 49; ++t) {
    ASSERT_THAT(model_->Forward(at::randint(0, 200, {1, 1}, at::kLong), t, {cache.get()}), IsOk());
  }
  for (int layer = 0; layer < cache->num_layers(); ++layer) {
    EXPECT_EQ(cache->Length(layer), kept(layer, 25, 49));
  }
}

// AdaKV's allocation (eviction.head_allocation ADAKV), for every policy with scores:
// each compressed layer keeps kv_heads x budget tokens in all, spread over its heads as
// the scores say, and holds exactly their bytes.
TEST_P(AllPoliciesTest, AdaKvKeepsEachLayersTotalUnderCompressOnce) {
  config::CacheConfig config = Evicting(GetParam(), 16);
  config.mutable_eviction()->set_head_allocation(config::ADAKV);
  CacheContext context{model_->config().attention_shape(), model_->rope(), at::kCPU,
                       kStreamTokens};
  context.eviction_schedule = EvictionSchedule::kOnceAfterPrefill;
  absl::StatusOr<KvCacheFactory> factory = MakeCacheFactory(config, context);
  if (!factory.ok()) {
    EXPECT_THAT(factory.status(),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         ::testing::HasSubstr(SplitsLayers(GetParam()) ? "use one of the two"
                                                                       : "no scores")));
    return;
  }
  absl::StatusOr<eval::PerplexityResult> result = PrefillThenDecode(*factory);
  ASSERT_THAT(result, IsOk());
  EXPECT_TRUE(std::isfinite(result->perplexity()));
  const auto kept = [&](int layer) { return Compresses(GetParam(), layer) ? 16 : 40; };
  // Every head peaks at the end of the prefill, before the compression.
  EXPECT_EQ(result->peak_held_bytes, (40 + kept(0)) * 128);
  ASSERT_OK_AND_ASSIGN(auto cache, (*factory)());
  ASSERT_THAT(model_->Forward(at::randint(0, 200, {1, 40}, at::kLong), 0, {cache.get()}), IsOk());
  // held_tokens is the mean over the 2 heads; 64 bytes per token and head.
  EXPECT_EQ(cache->Memory().held_tokens, kept(0) + kept(1));
  EXPECT_EQ(cache->Memory().held_bytes, (kept(0) + kept(1)) * 128);
}

TEST(AdaKvConfigTest, ErrorsNameTheField) {
  ASSERT_OK_AND_ASSIGN(const RotaryEmbedding rope,
                       RotaryEmbedding::Create(8, 8, 1e4, RopeStyle::kInterleaved));
  config::CacheConfig config;
  config.mutable_eviction()->set_policy("snapkv");
  config.mutable_eviction()->mutable_budget()->set_tokens(4);
  config.mutable_eviction()->set_head_allocation(config::ADAKV);
  CacheContext context{{1, 4, 2, 8}, rope, at::kCPU, 0};
  EXPECT_THAT(MakeCacheFactory(config, context),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::AllOf(::testing::HasSubstr("eviction.head_allocation"),
                                        ::testing::HasSubstr("compress_once"))));
  context.eviction_schedule = EvictionSchedule::kOnceAfterPrefill;
  EXPECT_THAT(MakeCacheFactory(config, context), IsOk());
  config.mutable_eviction()->set_adakv_floor(1.5);
  EXPECT_THAT(MakeCacheFactory(config, context),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::HasSubstr("eviction.adakv_floor must be in [0, 1], got 1.5")));
  config.mutable_eviction()->set_adakv_floor(0.5);
  config.mutable_eviction()->set_head_allocation(config::HEAD_UNIFORM);
  EXPECT_THAT(MakeCacheFactory(config, context),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::HasSubstr("eviction.adakv_floor applies only with")));
  // Channel pruning reads each layer's keys across its KV heads, which AdaKV makes ragged.
  config.clear_eviction();
  config.mutable_eviction()->set_policy("snapkv");
  config.mutable_eviction()->mutable_budget()->set_tokens(4);
  config.mutable_eviction()->set_head_allocation(config::ADAKV);
  config.mutable_key_channels()->set_pruned_fraction(0.5);
  EXPECT_THAT(MakeCacheFactory(config, context),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::HasSubstr("key_channels with eviction.head_allocation ADAKV")));
}

// ThinK's key channel pruning after each policy's compression: the same tokens are
// held, and the keys' bytes fall by exactly the dropped channels of the pruned tokens,
// less the kept channels' indices.
TEST_P(AllPoliciesTest, KeyChannelsPruneWhatThePolicyKept) {
  const int64_t budget = SplitsLayers(GetParam()) ? WindowPlus(GetParam(), 4) : 16;
  const config::CacheConfig pruning = PruningKeys(Evicting(GetParam(), budget));
  const KvCacheFactory whole =
      Factory(Evicting(GetParam(), budget), EvictionSchedule::kOnceAfterPrefill);
  const KvCacheFactory pruned = Factory(pruning, EvictionSchedule::kOnceAfterPrefill);
  absl::StatusOr<eval::PerplexityResult> result = PrefillThenDecode(pruned);
  ASSERT_THAT(result, IsOk());
  EXPECT_TRUE(std::isfinite(result->perplexity()));

  ASSERT_OK_AND_ASSIGN(auto whole_cache, whole());
  ASSERT_OK_AND_ASSIGN(auto pruned_cache, pruned());
  const at::Tensor prefill = at::randint(0, 200, {1, 40}, at::kLong);
  for (KvCache* cache : {whole_cache.get(), pruned_cache.get()}) {
    ASSERT_THAT(model_->Forward(prefill, 0, {cache}), IsOk());
    ASSERT_THAT(model_->Forward(at::full({1, 1}, 7, at::kLong), 40, {cache}), IsOk());
  }
  const AttentionShape shape = model_->config().attention_shape();
  const int64_t pruned_channels = shape.head_dim / 2;
  int64_t saved = 0;
  for (int layer = 0; layer < shape.num_layers; ++layer) {
    ASSERT_EQ(pruned_cache->Length(layer), whole_cache->Length(layer));
    const int64_t prefill_held = pruned_cache->Length(layer) - 1;
    saved += (prefill_held - 4) * shape.kv_heads * pruned_channels * 4;  // fp32 keys
    saved -= shape.kv_heads * (shape.head_dim - pruned_channels) * 8;   // int64 indices
  }
  EXPECT_EQ(pruned_cache->Memory().held_bytes, whole_cache->Memory().held_bytes - saved);
}

INSTANTIATE_TEST_SUITE_P(Registered, AllPoliciesTest,
                         ::testing::ValuesIn(EvictionPolicyRegistry().Names()),
                         [](const auto& info) { return info.param; });

class AllQuantizersTest : public PipelineTest, public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() { PipelineTest::SetUpTestSuite(); }
  static void TearDownTestSuite() { PipelineTest::TearDownTestSuite(); }

  // One way to configure a quantizer.
  struct OptionSet {
    std::shared_ptr<google::protobuf::Message> options;
    int64_t key_residual = 4;
    // Codes per token: always fewer bytes than the same policy on a dense cache.
    bool per_token = true;
  };

  // Option sets each of kvlab's quantizer families runs with.
  static std::vector<OptionSet> OptionSets(const std::string& quantizer) {
    if (quantizer == "fp8") {
      auto e4m3 = std::make_shared<quant::Fp8QuantizerOptions>();
      auto e5m2 = std::make_shared<quant::Fp8QuantizerOptions>();
      e5m2->set_format(quant::Fp8QuantizerOptions::E5M2);
      return {{e4m3, 0, true}, {e5m2, 0, true}};
    }
    auto per_token = std::make_shared<quant::IntegerQuantizerOptions>();
    auto symmetric_bf16 = std::make_shared<quant::IntegerQuantizerOptions>();
    symmetric_bf16->set_symmetric(true);
    symmetric_bf16->set_scale_dtype(quant::IntegerQuantizerOptions::BFLOAT16);
    auto per_channel = std::make_shared<quant::IntegerQuantizerOptions>();
    per_channel->set_axis(quant::IntegerQuantizerOptions::PER_CHANNEL);
    per_channel->set_group_size(8);
    return {{per_token}, {symmetric_bf16}, {per_channel, 4, false}};
  }
};

TEST_P(AllQuantizersTest, HoldsFewerBytesThanDenseAndStaysClose) {
  const eval::PerplexityResult dense = Stream(Factory(config::CacheConfig()));
  for (const OptionSet& set : OptionSets(GetParam())) {
    config::CacheConfig config;
    Quantize(config, GetParam(), *set.options, set.key_residual);
    const eval::PerplexityResult quantized = Stream(Factory(config));
    EXPECT_LT(quantized.mean_bytes_per_token, dense.mean_bytes_per_token)
        << set.options->ShortDebugString();
    EXPECT_LT(quantized.peak_held_bytes, dense.peak_held_bytes);
    // Mean NLL moves, but not by much, on this small random model.
    EXPECT_NEAR(quantized.nll_sum / quantized.tokens_scored, dense.nll_sum / dense.tokens_scored,
                0.5)
        << set.options->ShortDebugString();
  }
}

TEST_P(AllQuantizersTest, ComposesWithEveryPolicy) {
  for (const std::string& policy : EvictionPolicyRegistry().Names()) {
    // Streaming refuses it: ComposesWithALayerSplittingPolicy covers it.
    if (SplitsLayers(policy)) continue;
    const eval::PerplexityResult dense = Stream(Factory(Evicting(policy, 12)));
    for (const OptionSet& set : OptionSets(GetParam())) {
      config::CacheConfig config = Evicting(policy, 12);
      Quantize(config, GetParam(), *set.options, set.key_residual);
      const KvCacheFactory factory = Factory(config);
      const eval::PerplexityResult result = Stream(factory);
      EXPECT_TRUE(std::isfinite(result.perplexity())) << policy;
      ASSERT_OK_AND_ASSIGN(auto cache, factory());
      ASSERT_THAT(model_->Forward(at::randint(0, 200, {1, 30}, at::kLong), 0, {cache.get()}), IsOk());
      for (int layer = 0; layer < cache->num_layers(); ++layer) {
        EXPECT_EQ(cache->Length(layer), Compresses(policy, layer) ? 12 : 30) << policy;
      }
      // Per-token codes always undercut the same policy on a dense cache. Per-channel
      // blocks keep their per-channel scales while any of their tokens survives, so
      // policies that evict different tokens per head can cost more (quant/
      // per_channel_store.h); that is reported, not hidden.
      if (set.per_token) {
        EXPECT_LT(result.peak_held_bytes, dense.peak_held_bytes)
            << policy << " " << set.options->ShortDebugString();
      }
    }
  }
}

// A policy that splits the budget over layers (CAKE), with the quantizer, under
// compress_once: the layers hold 2 x budget prefill tokens between them, as on a dense
// cache, in fewer bytes with per-token codes.
TEST_P(AllQuantizersTest, ComposesWithALayerSplittingPolicy) {
  for (const std::string& policy : EvictionPolicyRegistry().Names()) {
    if (!SplitsLayers(policy)) continue;
    const int64_t budget = WindowPlus(policy, 4);
    ASSERT_OK_AND_ASSIGN(
        auto dense,
        Factory(Evicting(policy, budget), EvictionSchedule::kOnceAfterPrefill)());
    const at::Tensor prefill = at::randint(0, 200, {1, 40}, at::kLong);
    ASSERT_THAT(model_->Forward(prefill, 0, {dense.get()}), IsOk());
    for (const OptionSet& set : OptionSets(GetParam())) {
      config::CacheConfig config = Evicting(policy, budget);
      Quantize(config, GetParam(), *set.options, set.key_residual);
      ASSERT_OK_AND_ASSIGN(auto cache, Factory(config, EvictionSchedule::kOnceAfterPrefill)());
      ASSERT_THAT(model_->Forward(prefill, 0, {cache.get()}), IsOk());
      EXPECT_EQ(cache->Length(0) + cache->Length(1), 2 * budget) << policy;
      if (set.per_token) {
        EXPECT_LT(cache->Memory().held_bytes, dense->Memory().held_bytes)
            << policy << " " << set.options->ShortDebugString();
      }
    }
  }
}

// Per-head budgets store each head with the quantizer's own store: with per-token codes
// and no residual a token costs the same in a head's store as in a shared one, so
// AdaKV's cache holds exactly the bytes of the uniform one (the same total of tokens).
TEST_P(AllQuantizersTest, ComposesWithAdaKv) {
  for (const OptionSet& set : OptionSets(GetParam())) {
    config::CacheConfig uniform = Evicting("snapkv", 16);
    Quantize(uniform, GetParam(), *set.options, /*key_residual=*/0);
    config::CacheConfig adakv = uniform;
    adakv.mutable_eviction()->set_head_allocation(config::ADAKV);
    config::CacheConfig adakv_dense = Evicting("snapkv", 16);
    adakv_dense.mutable_eviction()->set_head_allocation(config::ADAKV);
    at::manual_seed(5);
    const at::Tensor prompt = at::randint(0, 200, {1, 40}, at::kLong);
    std::vector<CacheMemory> memory;
    for (const config::CacheConfig* config : {&uniform, &adakv, &adakv_dense}) {
      const KvCacheFactory factory = Factory(*config, EvictionSchedule::kOnceAfterPrefill);
      ASSERT_OK_AND_ASSIGN(auto cache, factory());
      ASSERT_OK_AND_ASSIGN(const at::Tensor logits, model_->Forward(prompt, 0, {cache.get()}));
      EXPECT_TRUE(logits.isfinite().all().item<bool>());
      memory.push_back(cache->Memory());
    }
    EXPECT_EQ(memory[1].held_tokens, memory[0].held_tokens);
    if (set.per_token) {
      EXPECT_EQ(memory[1].held_bytes, memory[0].held_bytes) << set.options->ShortDebugString();
    }
    EXPECT_LT(memory[1].held_bytes, memory[2].held_bytes) << set.options->ShortDebugString();
  }
}

// Quantized keys with pruned channels: the pruned tokens are re-quantized at their
// kept width. With per-token codes, bytes are per token, so the cache holds exactly
// the full-width codes of the pruned tokens less, plus their kept-width codes and the
// channel indices. (On this model's 8-channel heads, int2 and int4 codes with fp32
// scales can cost more than they save once the indices are counted; that is reported,
// not hidden.)
TEST_P(AllQuantizersTest, ComposesWithKeyChannels) {
  const AttentionShape shape = model_->config().attention_shape();
  for (const OptionSet& set : OptionSets(GetParam())) {
    config::CacheConfig quantized = Evicting("snapkv", 24);
    Quantize(quantized, GetParam(), *set.options, set.key_residual);
    const config::CacheConfig pruning = PruningKeys(quantized);
    const KvCacheFactory whole = Factory(quantized, EvictionSchedule::kOnceAfterPrefill);
    const KvCacheFactory pruned = Factory(pruning, EvictionSchedule::kOnceAfterPrefill);
    absl::StatusOr<eval::PerplexityResult> result = PrefillThenDecode(pruned);
    ASSERT_THAT(result, IsOk()) << set.options->ShortDebugString();
    EXPECT_TRUE(std::isfinite(result->perplexity()));
    ASSERT_OK_AND_ASSIGN(auto whole_cache, whole());
    ASSERT_OK_AND_ASSIGN(auto pruned_cache, pruned());
    const at::Tensor prefill = at::randint(0, 200, {1, 40}, at::kLong);
    for (KvCache* cache : {whole_cache.get(), pruned_cache.get()}) {
      ASSERT_THAT(model_->Forward(prefill, 0, {cache}), IsOk());
    }
    if (!set.per_token) continue;
    // Bytes of 20 quantized tokens at a width, from a fresh store of the same format.
    const auto bytes_of_20 = [&](int64_t head_dim) -> int64_t {
      google::protobuf::Any any;
      any.PackFrom(*set.options);
      absl::StatusOr<std::unique_ptr<Quantizer>> quantizer =
          QuantizerRegistry().Create(GetParam(), any);
      if (!quantizer.ok()) return -1;
      absl::StatusOr<std::unique_ptr<TensorStore>> store =
          (*quantizer)->MakeStore({shape.kv_heads, head_dim, 0, at::kCPU});
      if (!store.ok() || !(*store)->Append(at::randn({shape.kv_heads, 20, head_dim})).ok()) {
        return -1;
      }
      return (*store)->held_bytes();
    };
    const int64_t kept = shape.head_dim / 2;
    const int64_t per_layer =
        bytes_of_20(shape.head_dim) - bytes_of_20(kept) - shape.kv_heads * kept * 8;
    EXPECT_EQ(pruned_cache->Memory().held_bytes,
              whole_cache->Memory().held_bytes - shape.num_layers * per_layer)
        << set.options->ShortDebugString();
  }
}

INSTANTIATE_TEST_SUITE_P(Registered, AllQuantizersTest,
                         ::testing::ValuesIn(QuantizerRegistry().Names()),
                         [](const auto& info) { return info.param; });

TEST(AllPluginsTest, Int8IsWithinOnePercentOfDense) {
  PipelineTest::SetUpTestSuite();
  const eval::PerplexityResult dense = PipelineTest::Stream(PipelineTest::Factory(config::CacheConfig()));
  config::CacheConfig config;
  PipelineTest::Quantize(config, "int8", quant::IntegerQuantizerOptions());
  const eval::PerplexityResult int8 = PipelineTest::Stream(PipelineTest::Factory(config));
  EXPECT_NEAR(int8.perplexity() / dense.perplexity(), 1.0, 0.01);
  PipelineTest::TearDownTestSuite();
}

TEST(AllPluginsTest, TheBuiltInPoliciesAreRegistered) {
  EXPECT_THAT(EvictionPolicyRegistry().Names(),
              ::testing::IsSupersetOf({"cake", "expected_attention", "h2o", "keydiff", "knorm",
                                       "lagkv", "random", "sink", "snapkv", "tova",
                                       "window"}));
}

TEST(AllPluginsTest, UnknownPolicyListsTheRegisteredOnes) {
  config::CacheConfig config;
  config.mutable_eviction()->set_policy("lru");
  config.mutable_eviction()->mutable_budget()->set_tokens(4);
  ASSERT_OK_AND_ASSIGN(const RotaryEmbedding rope,
                       RotaryEmbedding::Create(8, 8, 1e4, RopeStyle::kInterleaved));
  EXPECT_THAT(MakeCacheFactory(config, {{1, 2, 2, 8}, rope, at::kCPU, 0}),
              StatusIs(absl::StatusCode::kNotFound,
                       ::testing::AllOf(::testing::HasSubstr("unknown eviction policy 'lru'"),
                                        ::testing::HasSubstr("h2o, keydiff, knorm"))));
}

}  // namespace
}  // namespace kvlab
