#include "eval/perplexity/perplexity.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <cmath>

#include "base/files.h"
#include "base/status_macros.h"
#include "base/status_matchers.h"
#include "core/base_kv_cache.h"
#include "core/dense_tensor_store.h"
#include "core/evicting_kv_cache.h"
#include "core/eviction_policy.h"
#include "eval/model/llama_model.h"
#include "eval/model/tiny_llama.h"
#include "eval/testing/keep_most_attended.h"
#include "eval/testing/default_model.h"
#include "eval/tokenizer/bpe_tokenizer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab::eval {
namespace {

using ::testing::HasSubstr;

class TinyModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string path = ::testing::TempDir() + "/tiny_perplexity.gguf";
    ASSERT_THAT(model::WriteTinyLlama(path), IsOk());
    ASSERT_OK_AND_ASSIGN(file_, gguf::GgufFile::Open(path));
    ASSERT_OK_AND_ASSIGN(model_, model::LlamaModel::Load(*file_, {}));
    at::manual_seed(3);
    const at::Tensor random = at::randint(0, model_->config().vocab, {200}, at::kLong);
    for (int64_t i = 0; i < random.size(0); ++i) tokens_.push_back(random[i].item<int32_t>());
  }

  CacheFactory Dense() const {
    return [this] { return model_->NewDenseCache(); };
  }

  // Keys and values held in fp16: a cache that differs from the dense one only by
  // rounding.
  CacheFactory Fp16() const {
    const AttentionShape shape = model_->config().attention_shape();
    const TensorStoreFactory half = [shape](int) -> absl::StatusOr<std::unique_ptr<TensorStore>> {
      KVLAB_ASSIGN_OR_RETURN(auto s, DenseTensorStore::Create(shape.kv_heads, shape.head_dim,
                                                              at::kHalf, at::kCPU));
      return std::unique_ptr<TensorStore>(std::move(s));
    };
    return [this, shape, half]() -> absl::StatusOr<std::unique_ptr<KvCache>> {
      KVLAB_ASSIGN_OR_RETURN(auto c, BaseKvCache::Create(shape, model_->rope(),
                                                         PositionMode::kOriginal, at::kCPU, half,
                                                         half));
      return std::unique_ptr<KvCache>(std::move(c));
    };
  }

  // NLL of tokens[begin + 1 .. end) under one causal forward over tokens[begin, end).
  std::vector<double> ReferenceNll(int64_t begin, int64_t end) const {
    std::unique_ptr<KvCache> cache = ValueOrAddFailure(model_->NewDenseCache());
    std::vector<int64_t> ids(tokens_.begin() + begin, tokens_.begin() + end);
    const at::Tensor t = at::tensor(ids, at::kLong);
    const at::Tensor hidden = ValueOrAddFailure(model_->Forward(t.unsqueeze(0), 0, {cache.get()}));
    const at::Tensor logits = model_->Logits(hidden[0]);
    const at::Tensor logp = at::log_softmax(logits.to(at::kDouble), -1);
    std::vector<double> nll;
    for (int64_t i = 0; i + 1 < end - begin; ++i) {
      nll.push_back(-logp[i][ids[i + 1]].item<double>());
    }
    return nll;
  }

  std::unique_ptr<gguf::GgufFile> file_;
  std::unique_ptr<model::LlamaModel> model_;
  std::vector<int32_t> tokens_;
};

TEST_F(TinyModelTest, ChunkedScoresSecondHalfOfEachChunk) {
  ChunkedOptions options;
  options.n_ctx = 64;
  options.max_chunks = 2;
  absl::StatusOr<PerplexityResult> result = RunChunked(*model_, tokens_, options, Dense());
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->tokens_scored, 2 * 31);
  EXPECT_EQ(result->tokens_processed, 128);
  double expected = 0;
  for (int64_t c = 0; c < 2; ++c) {
    const std::vector<double> nll = ReferenceNll(64 * c, 64 * c + 64);
    for (int i = 32; i < 63; ++i) expected += nll[i];
  }
  EXPECT_NEAR(result->nll_sum, expected, 1e-3);
  EXPECT_NEAR(std::log(result->perplexity()), expected / 62, 1e-6);
  // Dense fp32: 2 layers x (K + V) x 2 heads x 8 dims x 4 bytes per token.
  EXPECT_DOUBLE_EQ(result->mean_bytes_per_token, 2 * 2 * 2 * 8 * 4);
  EXPECT_EQ(result->peak_held_bytes, 64 * 2 * 2 * 2 * 8 * 4);
}

TEST_F(TinyModelTest, ChunkedBosReplacesFirstToken) {
  ChunkedOptions options;
  options.n_ctx = 32;
  options.max_chunks = 1;
  options.replace_first_with_bos = true;
  options.bos_id = static_cast<int32_t>(model_->config().vocab - 1);
  ASSERT_OK_AND_ASSIGN(const PerplexityResult with_bos,
                       RunChunked(*model_, tokens_, options, Dense()));
  std::vector<int32_t> replaced = tokens_;
  replaced[0] = options.bos_id;
  options.replace_first_with_bos = false;
  ASSERT_OK_AND_ASSIGN(const PerplexityResult with_replaced,
                       RunChunked(*model_, replaced, options, Dense()));
  EXPECT_NEAR(with_bos.nll_sum, with_replaced.nll_sum, 1e-9);
}

TEST_F(TinyModelTest, PrefillBosReplacesTheFirstTokenOfEveryWindow) {
  PrefillCompressOptions options;
  options.context_tokens = 12;
  options.scored_tokens = 4;
  options.max_windows = 2;
  options.replace_first_with_bos = true;
  options.bos_id = static_cast<int32_t>(model_->config().vocab - 1);
  const absl::StatusOr<PerplexityResult> with_bos =
      RunPrefillCompress(*model_, tokens_, options, Dense());
  ASSERT_THAT(with_bos, IsOk());
  std::vector<int32_t> replaced = tokens_;
  replaced[0] = options.bos_id;
  replaced[16] = options.bos_id;  // The second window starts at L + M.
  options.replace_first_with_bos = false;
  const absl::StatusOr<PerplexityResult> by_hand =
      RunPrefillCompress(*model_, replaced, options, Dense());
  ASSERT_THAT(by_hand, IsOk());
  EXPECT_NEAR(with_bos->nll_sum, by_hand->nll_sum, 1e-9);
  // The BOS changes the context, so the scored tokens' NLL moves.
  const absl::StatusOr<PerplexityResult> without = RunPrefillCompress(*model_, tokens_, options, Dense());
  ASSERT_THAT(without, IsOk());
  EXPECT_NE(with_bos->nll_sum, without->nll_sum);
}

TEST_F(TinyModelTest, PrefillBosWithoutABosTokenIsAnError) {
  PrefillCompressOptions options;
  options.context_tokens = 12;
  options.scored_tokens = 4;
  options.replace_first_with_bos = true;
  EXPECT_THAT(RunPrefillCompress(*model_, tokens_, options, Dense()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("BOS")));
}

TEST_F(TinyModelTest, StreamingScoresEveryTokenAfterTheFirst) {
  StreamingOptions options;
  options.max_tokens = 100;
  options.bucket_size = 32;
  int64_t last_done = 0;
  absl::StatusOr<PerplexityResult> result =
      RunStreaming(*model_, tokens_, options, Dense(), [&](int64_t done, int64_t) { last_done = done; });
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->tokens_scored, 99);
  EXPECT_EQ(last_done, 99);
  double expected = 0;
  for (double nll : ReferenceNll(0, 100)) expected += nll;
  EXPECT_NEAR(result->nll_sum, expected, 1e-3);
  ASSERT_EQ(result->bucket_count.size(), 4u);
  EXPECT_EQ(result->bucket_count[0], 31);  // Positions 1..31.
  EXPECT_EQ(result->bucket_count[3], 4);   // Positions 96..99.
  double bucket_total = 0;
  for (double b : result->bucket_nll_sum) bucket_total += b;
  EXPECT_NEAR(bucket_total, result->nll_sum, 1e-9);
}

// Scores are read from the device in batches of steps: a stream longer than one batch
// (256 steps) scores every token once, in the right buckets.
TEST_F(TinyModelTest, StreamingLongerThanOneScoreReadScoresEveryToken) {
  at::manual_seed(5);
  const at::Tensor random = at::randint(0, model_->config().vocab, {300}, at::kLong);
  tokens_.clear();
  for (int64_t i = 0; i < random.size(0); ++i) tokens_.push_back(random[i].item<int32_t>());
  StreamingOptions options;
  options.bucket_size = 100;
  absl::StatusOr<PerplexityResult> result = RunStreaming(*model_, tokens_, options, Dense());
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->tokens_scored, 299);
  EXPECT_EQ(result->bucket_count, (std::vector<int64_t>{99, 100, 100}));
  const std::vector<double> reference = ReferenceNll(0, 300);
  double expected = 0;
  for (double nll : reference) expected += nll;
  EXPECT_NEAR(result->nll_sum, expected, 1e-3);
  double last_bucket = 0;
  for (int i = 199; i < 299; ++i) last_bucket += reference[i];
  EXPECT_NEAR(result->bucket_nll_sum[2], last_bucket, 1e-3);
}

TEST_F(TinyModelTest, RejectsTokensOutsideTheVocabulary) {
  tokens_[7] = static_cast<int32_t>(model_->config().vocab);
  StreamingOptions options;
  options.max_tokens = 20;
  EXPECT_THAT(RunStreaming(*model_, tokens_, options, Dense()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("token ids")));
}

TEST_F(TinyModelTest, PrefillCompressWithDenseCacheScoresLikeOneForward) {
  PrefillCompressOptions options;
  options.context_tokens = 40;
  options.scored_tokens = 10;
  options.max_windows = 2;
  absl::StatusOr<PerplexityResult> result = RunPrefillCompress(*model_, tokens_, options, Dense());
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->tokens_scored, 20);
  double expected = 0;
  for (int64_t w = 0; w < 2; ++w) {
    const std::vector<double> nll = ReferenceNll(50 * w, 50 * w + 50);
    for (int i = 39; i < 49; ++i) expected += nll[i];
  }
  EXPECT_NEAR(result->nll_sum, expected, 1e-3);
}

// Keeps the newest `budget` tokens of each head.
class KeepNewest : public EvictionPolicy {
 public:
  std::string Name() const override { return "keep-newest"; }
  absl::StatusOr<at::Tensor> SelectKeep(const EvictionContext& context) override {
    const int64_t length = context.positions.size(1);
    return at::arange(length - context.budget, length, at::kLong)
        .unsqueeze(0)
        .expand({context.positions.size(0), context.budget})
        .contiguous();
  }
};

TEST_F(TinyModelTest, RecordingEvictingCachesReportEachWindowsEvictions) {
  PrefillCompressOptions options;
  options.context_tokens = 40;
  options.scored_tokens = 10;
  options.max_windows = 2;
  const int layers = model_->config().num_layers;
  const auto evicting = [this, layers](bool record) -> CacheFactory {
    return [this, layers, record]() -> absl::StatusOr<std::unique_ptr<KvCache>> {
      KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<KvCache> base, model_->NewDenseCache());
      KVLAB_ASSIGN_OR_RETURN(
          auto cache, EvictingKvCache::Create(std::move(base), std::make_unique<KeepNewest>(),
                                              std::vector<int64_t>(layers, 16),
                                              EvictionSchedule::kOnceAfterPrefill, 0, record));
      return std::unique_ptr<KvCache>(std::move(cache));
    };
  };
  ASSERT_OK_AND_ASSIGN(PerplexityResult recorded,
                       RunPrefillCompress(*model_, tokens_, options, evicting(true)));
  ASSERT_OK_AND_ASSIGN(PerplexityResult plain,
                       RunPrefillCompress(*model_, tokens_, options, evicting(false)));
  EXPECT_EQ(recorded.nll_sum, plain.nll_sum);  // Recording changes no number.
  EXPECT_TRUE(plain.evictions.empty());
  ASSERT_EQ(recorded.evictions.size(), 2u);  // One per window.
  const int64_t kv_heads = model_->config().kv_heads;
  for (size_t w = 0; w < 2; ++w) {
    ASSERT_EQ(recorded.evictions[w].size(), static_cast<size_t>(layers));
    for (const LayerEvictionRecord& layer : recorded.evictions[w]) {
      EXPECT_EQ(layer.evictions, 1);  // The prefill, compressed once.
      ASSERT_EQ(layer.mean_retained_mass.size(), static_cast<size_t>(kv_heads));
      for (double mass : layer.mean_retained_mass) {
        EXPECT_GT(mass, 0.0);
        EXPECT_LE(mass, 1.0 + 1e-6);
      }
      ASSERT_EQ(layer.kept_positions.size(), static_cast<size_t>(kv_heads));
      std::vector<int64_t> newest(16);
      for (int64_t i = 0; i < 16; ++i) newest[i] = 24 + i;  // Of the 40 context tokens.
      EXPECT_EQ(layer.kept_positions[0], newest);
    }
  }
}

// A shared prefill scores as a forward through each cache, up to the batch's fp32
// rounding, and its evicting caches keep the same tokens, with a reference or without.
TEST_F(TinyModelTest, SharedPrefillScoresAsAForwardThroughEach) {
  const int layers = model_->config().num_layers;
  const auto evicting = [this, layers](auto make_policy) -> CacheFactory {
    return [this, layers, make_policy]() -> absl::StatusOr<std::unique_ptr<KvCache>> {
      KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<KvCache> base, model_->NewDenseCache());
      KVLAB_ASSIGN_OR_RETURN(
          auto cache, EvictingKvCache::Create(std::move(base), make_policy(),
                                              std::vector<int64_t>(layers, 16),
                                              EvictionSchedule::kOnceAfterPrefill, 0, true));
      return std::unique_ptr<KvCache>(std::move(cache));
    };
  };
  const std::vector<CacheFactory> caches = {
      Dense(), evicting([] { return std::make_unique<KeepNewest>(); }),
      evicting([] { return std::make_unique<testing::KeepMostAttended>(); })};
  PrefillCompressOptions options;
  options.context_tokens = 40;
  options.scored_tokens = 10;
  options.max_windows = 2;
  for (const bool with_reference : {false, true}) {
    SCOPED_TRACE(with_reference);
    if (with_reference) options.reference = Dense();
    options.shared_prefill = false;
    ASSERT_OK_AND_ASSIGN(const std::vector<PerplexityResult> each,
                         RunPrefillCompress(*model_, tokens_, options, caches));
    options.shared_prefill = true;
    ASSERT_OK_AND_ASSIGN(const std::vector<PerplexityResult> shared,
                         RunPrefillCompress(*model_, tokens_, options, caches));
    for (size_t c = 0; c < caches.size(); ++c) {
      SCOPED_TRACE(c);
      EXPECT_NEAR(shared[c].nll_sum, each[c].nll_sum, 1e-6 * each[c].nll_sum);
      EXPECT_EQ(shared[c].peak_held_bytes, each[c].peak_held_bytes);
      if (with_reference) EXPECT_NEAR(shared[c].kld_sum, each[c].kld_sum, 1e-6);
      ASSERT_EQ(shared[c].evictions.size(), each[c].evictions.size());
      for (size_t w = 0; w < each[c].evictions.size(); ++w) {
        for (int layer = 0; layer < layers; ++layer) {
          EXPECT_EQ(shared[c].evictions[w][layer].kept_positions,
                    each[c].evictions[w][layer].kept_positions);
        }
      }
    }
    EXPECT_EQ(shared[1].evictions.size(), 2u);  // The evicting caches did record.
  }
}

// A lockstep batch gives each cache what it would give alone, up to fp32 rounding
// (a batched matmul sums in another order).
TEST_F(TinyModelTest, LockstepBatchMatchesRunningAlone) {
  const CacheFactory fp16 = Fp16();
  const std::vector<CacheFactory> both = {Dense(), fp16};
  StreamingOptions streaming;
  streaming.max_tokens = 40;
  absl::StatusOr<std::vector<PerplexityResult>> batched =
      RunStreaming(*model_, tokens_, streaming, both);
  ASSERT_THAT(batched, IsOk());
  ASSERT_EQ(batched->size(), 2u);
  ASSERT_OK_AND_ASSIGN(const PerplexityResult dense_alone,
                       RunStreaming(*model_, tokens_, streaming, Dense()));
  ASSERT_OK_AND_ASSIGN(const PerplexityResult fp16_alone,
                       RunStreaming(*model_, tokens_, streaming, fp16));
  EXPECT_NEAR((*batched)[0].nll_sum, dense_alone.nll_sum, 1e-6 * dense_alone.nll_sum);
  EXPECT_NEAR((*batched)[1].nll_sum, fp16_alone.nll_sum, 1e-6 * fp16_alone.nll_sum);
  EXPECT_NE(dense_alone.nll_sum, fp16_alone.nll_sum);
  EXPECT_EQ((*batched)[1].peak_held_bytes, fp16_alone.peak_held_bytes);
  EXPECT_EQ((*batched)[0].batch_size, 2);
  ChunkedOptions chunked;
  chunked.n_ctx = 32;
  chunked.max_chunks = 2;
  absl::StatusOr<std::vector<PerplexityResult>> chunked_batch =
      RunChunked(*model_, tokens_, chunked, both);
  ASSERT_THAT(chunked_batch, IsOk());
  ASSERT_OK_AND_ASSIGN(const PerplexityResult fp16_chunked,
                       RunChunked(*model_, tokens_, chunked, fp16));
  EXPECT_NEAR((*chunked_batch)[1].nll_sum, fp16_chunked.nll_sum, 1e-6 * fp16_chunked.nll_sum);
}

TEST_F(TinyModelTest, StandardErrorIsLlamaCpps) {
  StreamingOptions options;
  options.max_tokens = 40;
  ASSERT_OK_AND_ASSIGN(const PerplexityResult result,
                       RunStreaming(*model_, tokens_, options, Dense()));
  const std::vector<double> nll = ReferenceNll(0, 40);
  double sum = 0, squares = 0;
  for (double x : nll) sum += x, squares += x * x;
  const double n = static_cast<double>(nll.size());
  const double variance = (squares / n - (sum / n) * (sum / n)) * n / (n - 1);
  const double expected = std::exp(sum / n) * std::sqrt(variance / n);
  EXPECT_NEAR(result.perplexity_stderr(), expected, 1e-5 * expected);
  EXPECT_FALSE(result.has_reference);
  EXPECT_TRUE(std::isnan(result.mean_kld()));
}

TEST_F(TinyModelTest, ReferenceComparisonLeavesTheCachesNumbersAlone) {
  const CacheFactory fp16 = Fp16();
  StreamingOptions plain;
  plain.max_tokens = 40;
  StreamingOptions compared = plain;
  compared.reference = Dense();

  // The dense cache against the dense reference: the same computation, so no
  // divergence at all.
  ASSERT_OK_AND_ASSIGN(const PerplexityResult dense,
                       RunStreaming(*model_, tokens_, compared, Dense()));
  EXPECT_TRUE(dense.has_reference);
  ASSERT_OK_AND_ASSIGN(const PerplexityResult dense_plain,
                       RunStreaming(*model_, tokens_, plain, Dense()));
  EXPECT_EQ(dense.nll_sum, dense_plain.nll_sum);
  EXPECT_EQ(dense.kld_sum, 0.0);
  EXPECT_EQ(dense.kld_p99, 0.0);
  EXPECT_EQ(dense.top1_agreement(), 1.0);
  EXPECT_EQ(dense.change_percent_ci95(), std::make_pair(0.0, 0.0));

  // fp16 keys and values: the same nll as without the reference, a small positive
  // divergence, and NLL differences that add up to the difference of the NLL sums.
  ASSERT_OK_AND_ASSIGN(const PerplexityResult half_alone,
                       RunStreaming(*model_, tokens_, plain, fp16));
  ASSERT_OK_AND_ASSIGN(const PerplexityResult half_compared,
                       RunStreaming(*model_, tokens_, compared, fp16));
  EXPECT_EQ(half_compared.nll_sum, half_alone.nll_sum);
  EXPECT_GT(half_compared.kld_sum, 0.0);
  EXPECT_LT(half_compared.mean_kld(), 1e-3);
  EXPECT_GE(half_compared.kld_p99, 0.0);
  EXPECT_GE(half_compared.top1_agreement(), 0.9);
  EXPECT_NEAR(half_compared.nll_difference_sum, half_alone.nll_sum - dense.nll_sum, 1e-9);
  const auto [low, high] = half_compared.change_percent_ci95();
  const double change = 100.0 * (half_alone.perplexity() / dense.perplexity() - 1.0);
  EXPECT_LE(low, change + 1e-9);
  EXPECT_GE(high, change - 1e-9);

  // In a lockstep batch of two with chunked scoring, too.
  ChunkedOptions chunked;
  chunked.n_ctx = 32;
  chunked.max_chunks = 2;
  const std::vector<CacheFactory> both = {Dense(), fp16};
  ASSERT_OK_AND_ASSIGN(const std::vector<PerplexityResult> batch_plain,
                       RunChunked(*model_, tokens_, chunked, both));
  chunked.reference = Dense();
  ASSERT_OK_AND_ASSIGN(const std::vector<PerplexityResult> batch_compared,
                       RunChunked(*model_, tokens_, chunked, both));
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(batch_compared[i].nll_sum, batch_plain[i].nll_sum);
    EXPECT_EQ(batch_compared[i].tokens_scored, 2 * 15);
  }
  EXPECT_GT(batch_compared[1].kld_sum, 0.0);
}

// With native K-quant weights a product of 8 or more rows sums in another order than
// one of fewer (DecoderModel::OutputDependsOnRowCount()): the reference then runs in the
// batch's own products, so a dense cache among 9 equals it exactly, step by step.
TEST_F(TinyModelTest, ANativeReferenceSharesTheBatchsProducts) {
  model::TinyLlamaOptions options;
  options.hidden = 256;
  options.ffn = 512;
  options.matrix_type = gguf::TensorType::kQ4_K;
  const std::string path = ::testing::TempDir() + "/tiny_native_q4_k.gguf";
  ASSERT_THAT(model::WriteTinyLlama(path, options), IsOk());
  ASSERT_OK_AND_ASSIGN(auto file, gguf::GgufFile::Open(path));
  model::LoadOptions load;
  load.native_weights = true;
  ASSERT_OK_AND_ASSIGN(auto native, model::LlamaModel::Load(*file, load));
  ASSERT_TRUE(native->OutputDependsOnRowCount());
  EXPECT_FALSE(model_->OutputDependsOnRowCount());

  const CacheFactory dense = [&native] { return native->NewDenseCache(); };
  PrefillCompressOptions prefill;
  prefill.context_tokens = 24;
  prefill.scored_tokens = 16;
  prefill.reference = dense;
  const std::vector<CacheFactory> nine(9, dense);
  for (const bool shared : {false, true}) {
    SCOPED_TRACE(shared ? "shared prefill" : "a prefill per cache");
    prefill.shared_prefill = shared;
    ASSERT_OK_AND_ASSIGN(const std::vector<PerplexityResult> batch,
                         RunPrefillCompress(*native, tokens_, prefill, nine));
    for (const PerplexityResult& r : batch) {
      EXPECT_EQ(r.tokens_scored, 16);
      EXPECT_EQ(r.kld_sum, 0.0);
      EXPECT_EQ(r.top1_agreement(), 1.0);
      EXPECT_EQ(r.nll_difference_sum, 0.0);
    }
  }
}

TEST_F(TinyModelTest, RejectsTooShortTextsAndBadSizes) {
  ChunkedOptions chunked;
  chunked.n_ctx = 512;
  EXPECT_THAT(RunChunked(*model_, tokens_, chunked, Dense()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("fewer than one chunk")));
  chunked.n_ctx = 2;
  EXPECT_THAT(RunChunked(*model_, tokens_, chunked, Dense()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("n_ctx must be >= 4")));
  EXPECT_THAT(RunStreaming(*model_, {1}, {}, Dense()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("at least 2 tokens")));
  PrefillCompressOptions prefill;
  prefill.context_tokens = 0;
  prefill.scored_tokens = 4;
  EXPECT_THAT(RunPrefillCompress(*model_, tokens_, prefill, Dense()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("context_tokens >= 1")));
}

TEST_F(TinyModelTest, CacheFactoryErrorsPropagate) {
  const CacheFactory failing = []() -> absl::StatusOr<std::unique_ptr<KvCache>> {
    return absl::FailedPreconditionError("no cache today");
  };
  EXPECT_THAT(RunStreaming(*model_, tokens_, {}, failing),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("no cache today")));
}

// A dense cache whose attention output turns to NaN in one layer from one position on,
// as a broken cache or kernel would.
class PoisonedCache : public KvCache {
 public:
  PoisonedCache(std::unique_ptr<KvCache> inner, int layer, int64_t from_position)
      : inner_(std::move(inner)), layer_(layer), from_(from_position) {}
  absl::StatusOr<AttentionResult> Attend(int layer, const AttentionInputs& inputs) override {
    KVLAB_ASSIGN_OR_RETURN(AttentionResult result, inner_->Attend(layer, inputs));
    const int64_t n = inputs.queries.size(1);
    if (layer == layer_ && inputs.first_position + n > from_) {
      const int64_t at = std::max<int64_t>(from_ - inputs.first_position, 0);
      result.output.narrow(1, at, 1).fill_(std::nan(""));
    }
    return result;
  }
  absl::Status Retain(int layer, const at::Tensor& keep) override { return inner_->Retain(layer, keep); }
  int64_t Length(int layer) const override { return inner_->Length(layer); }
  at::Tensor Positions(int layer) const override { return inner_->Positions(layer); }
  CacheMemory Memory() const override { return inner_->Memory(); }
  int num_layers() const override { return inner_->num_layers(); }

 private:
  std::unique_ptr<KvCache> inner_;
  int layer_;
  int64_t from_;
};

TEST_F(TinyModelTest, NanInACacheIsAnErrorNamingTheStepAndLayer) {
  const auto poisoned = [this](int layer, int64_t from) -> CacheFactory {
    return [this, layer, from]() -> absl::StatusOr<std::unique_ptr<KvCache>> {
      KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<KvCache> dense, model_->NewDenseCache());
      return std::unique_ptr<KvCache>(new PoisonedCache(std::move(dense), layer, from));
    };
  };
  StreamingOptions streaming;
  streaming.max_tokens = 40;
  EXPECT_THAT(RunStreaming(*model_, tokens_, streaming, poisoned(0, 17)),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("NaN or Inf"), HasSubstr("positions 17..17"),
                             HasSubstr("it first reached layer 1's keys (it arose in layer 0 "
                                       "or in layer 1's key projection)"))));
  // In a lockstep batch the failing cache is named; a chunk names its positions.
  ChunkedOptions chunked;
  chunked.n_ctx = 32;
  const std::vector<CacheFactory> both = {Dense(), poisoned(1, 5)};
  EXPECT_THAT(RunChunked(*model_, tokens_, chunked, both),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("positions 0..31"), HasSubstr("cache 1 of the batch"),
                             HasSubstr("every layer's keys were finite (it arose in the last "
                                       "layer, 1, after its keys"))));
  PrefillCompressOptions prefill;
  prefill.context_tokens = 16;
  prefill.scored_tokens = 8;
  EXPECT_THAT(RunPrefillCompress(*model_, tokens_, prefill, poisoned(0, 20)),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("positions 20..20")));
}

// The default model end to end on 571 tokens of text: tokenizer, weights, cache and
// the chunked protocol together. llama.cpp's llama-perplexity reports PPL = 28.7431
// for the same file, model and n_ctx = 128 (4 chunks); its activations go through
// 8-bit quantization in the matmuls, ours stay fp32, so the two agree to within 1%.
TEST(DefaultModelPerplexityTest, MatchesLlamaCppOnShortText) {
  at::set_num_threads(2);
  ASSERT_OK_AND_ASSIGN(auto file, gguf::GgufFile::Open(testing::kDefaultModelPath));
  ASSERT_OK_AND_ASSIGN(auto model, model::LlamaModel::Load(*file, {}));
  ASSERT_OK_AND_ASSIGN(auto tokenizer, tokenizer::BpeTokenizer::FromGguf(*file));
  ASSERT_OK_AND_ASSIGN(const std::string text,
                       ReadFileToString("eval/perplexity/testdata/lighthouse.txt"));
  const std::vector<int32_t> tokens = tokenizer.Encode(text);
  ASSERT_EQ(tokens.size(), 571u);
  ChunkedOptions options;
  options.n_ctx = 128;
  absl::StatusOr<PerplexityResult> result =
      RunChunked(*model, tokens, options, [&] { return model->NewDenseCache(); });
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->tokens_scored, 4 * 63);
  EXPECT_NEAR(result->perplexity(), 28.7431, 0.01 * 28.7431);
}

}  // namespace
}  // namespace kvlab::eval
