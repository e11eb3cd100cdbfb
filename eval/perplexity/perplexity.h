// Perplexity protocols: how a token stream is fed through a model and its caches, and
// which predictions are scored.
//
// Each protocol runs one or several caches over the same tokens. Several run in
// lockstep, as one batch: every step is one forward for all of them, so the model's
// weights are read once per step instead of once per cache. Their results are what
// each would give alone, up to fp32 rounding (batched matmuls sum in another order);
// their `seconds` are the batch's wall time (each cache's rate while sharing the
// machine).
//
// Chunked (llama.cpp's `llama-perplexity`): the stream is cut into non-overlapping
//   chunks of n_ctx tokens; each chunk starts from an empty cache, its first token is
//   replaced by BOS when the model adds BOS, the whole chunk runs in one forward, and
//   the predictions of the second half (tokens n_ctx/2 + 1 .. n_ctx - 1) are scored.
// Streaming: one long stream decoded one token at a time through a single cache (which
//   may evict as it goes); every token after the first is scored, and the mean NLL is
//   also reported per bucket of positions.
// Prefill-compress: a context of L tokens runs in one forward (the cache may then
//   compress it), and the next M tokens are decoded one at a time and scored
//   (teacher-forced), repeated over consecutive windows of L + M tokens; optionally
//   each window's first token is replaced by BOS.
#ifndef KVLAB_EVAL_PERPLEXITY_PERPLEXITY_H_
#define KVLAB_EVAL_PERPLEXITY_PERPLEXITY_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "base/statistics.h"
#include "core/kv_cache.h"
#include "eval/model/decoder_model.h"

namespace kvlab::eval {

using CacheFactory = KvCacheFactory;
// Reports progress: `done` of `total` tokens processed.
using ProgressCallback = std::function<void(int64_t done, int64_t total)>;

// What every protocol can score beside perplexity.
struct ScoringOptions {
  // When set, a cache from this factory (the dense cache) runs beside each lockstep
  // batch on the same tokens, in a forward of its own so that the batch's numbers are
  // those it gives without it, and every scored prediction of every cache is compared
  // with the reference's: KL divergence of the cache's next-token distribution from the
  // reference's, whether their top-1 tokens agree, and the difference of their NLLs.
  // Where the model's output depends on how many rows share a product (native K-quant
  // weights, DecoderModel::OutputDependsOnRowCount()), the reference is one more row of
  // the batch's forwards instead, and the batch's numbers those of a batch one larger.
  CacheFactory reference;
  // Keep every scored token's NLL (PerplexityResult::token_nlls).
  bool keep_token_nlls = false;
};

struct ChunkedOptions : ScoringOptions {
  int64_t n_ctx = 512;      // Tokens per chunk; >= 4.
  int64_t max_chunks = 0;   // 0: as many whole chunks as the stream holds.
  bool replace_first_with_bos = false;
  int32_t bos_id = -1;
};

struct StreamingOptions : ScoringOptions {
  int64_t max_tokens = 0;   // 0: the whole stream.
  int64_t bucket_size = 256;  // Positions per NLL bucket; >= 1.
};

struct PrefillCompressOptions : ScoringOptions {
  int64_t context_tokens = 0;  // L, >= 1.
  int64_t scored_tokens = 0;   // M, >= 1.
  int64_t max_windows = 1;     // Windows of L + M tokens; 0: as many as fit.
  // BOS in place of each window's first token (a context token, never scored).
  bool replace_first_with_bos = false;
  int32_t bos_id = -1;
  // Each window's context in one dense forward handed to every cache and the reference
  // (model::PrefillShared), for caches that compress once after it: for dense and
  // evicting caches the numbers of a forward through each; a quantized cache's context
  // then attends in full precision and is quantized as it is handed over.
  bool shared_prefill = false;
};

// What an evicting cache that records (CacheContext::record_evictions) kept in one
// layer of one sequence: its evictions, per KV head the mean share of the last query's
// attention on the kept tokens, and the original positions the latest eviction kept.
struct LayerEvictionRecord {
  int64_t evictions = 0;
  std::vector<double> mean_retained_mass;           // [kv_heads]
  std::vector<std::vector<int64_t>> kept_positions;  // [kv_heads][tokens the head kept]
};

struct PerplexityResult {
  double nll_sum = 0.0;
  double nll_squared_sum = 0.0;  // Σ nll², for the standard error.
  int64_t tokens_scored = 0;
  int64_t tokens_processed = 0;  // Forwarded through the model, scored or not.
  double seconds = 0.0;          // Wall time of the forwards and scoring.
  int batch_size = 1;            // Caches that ran in lockstep with this one, itself included.
  // Largest cache footprint: held bytes at their high-water mark (inside steps, before
  // eviction), allocated and bookkeeping bytes after steps.
  int64_t peak_held_bytes = 0;
  int64_t peak_allocated_bytes = 0;
  int64_t peak_metadata_bytes = 0;
  // Held bytes per held token (per layer summed), averaged over steps.
  double mean_bytes_per_token = 0.0;
  // Streaming only: per bucket of positions, NLL sum and count.
  std::vector<double> bucket_nll_sum;
  std::vector<int64_t> bucket_count;
  // Against the reference (ScoringOptions::reference), when one ran; per scored token:
  // KL(reference || cache) in nats, top-1 agreement, and nll - reference nll.
  bool has_reference = false;
  double kld_sum = 0.0;
  double kld_squared_sum = 0.0;  // NaN when read from a result written without it.
  double kld_p99 = 0.0;  // 99th percentile of the per-token KL divergence.
  int64_t top1_agreements = 0;
  double nll_difference_sum = 0.0;
  double nll_difference_squared_sum = 0.0;
  // With ScoringOptions::keep_token_nlls: every scored token's NLL, in scoring order
  // (float32: enough for differences between caches of 1e-6 nats and more).
  std::vector<float> token_nlls;
  // Recording evicting caches only: per sequence (chunk, window or stream) the cache
  // served, per layer.
  std::vector<std::vector<LayerEvictionRecord>> evictions;

  double perplexity() const;
  // llama.cpp's: perplexity × the standard error of the mean NLL (NaN below 2 tokens).
  double perplexity_stderr() const;
  double tokens_per_second() const;
  // With a reference: mean KL divergence, and the share of top-1 agreements in [0, 1].
  double mean_kld() const;
  double top1_agreement() const;
  // With a reference: 95% intervals on the mean KL divergence (normal, from the
  // per-token values) and on the top-1 agreement (Wilson's, tokens as trials). Both
  // take the scored tokens as independent, which neighbouring tokens of one text are
  // not quite: read them as the spread of the measurement, not of the method across
  // texts. NaN bounds without a reference.
  Interval kld_ci95() const;
  Interval top1_ci95() const;
  // With a reference: the 95% confidence interval of the perplexity change against the
  // reference, in percent, from the paired per-token NLL differences (both saw the same
  // tokens): 100 (exp(mean ± 1.96 standard error) - 1).
  std::pair<double, double> change_percent_ci95() const;
};

// One result per factory, in order. Errors name the failing cache's index when
// several run.
absl::StatusOr<std::vector<PerplexityResult>> RunChunked(
    const model::DecoderModel& model, const std::vector<int32_t>& tokens,
    const ChunkedOptions& options, absl::Span<const CacheFactory> make_caches,
    const ProgressCallback& progress = nullptr);

absl::StatusOr<std::vector<PerplexityResult>> RunStreaming(
    const model::DecoderModel& model, const std::vector<int32_t>& tokens,
    const StreamingOptions& options, absl::Span<const CacheFactory> make_caches,
    const ProgressCallback& progress = nullptr);

absl::StatusOr<std::vector<PerplexityResult>> RunPrefillCompress(
    const model::DecoderModel& model, const std::vector<int32_t>& tokens,
    const PrefillCompressOptions& options, absl::Span<const CacheFactory> make_caches,
    const ProgressCallback& progress = nullptr);

// Single-cache forms.
absl::StatusOr<PerplexityResult> RunChunked(const model::DecoderModel& model,
                                            const std::vector<int32_t>& tokens,
                                            const ChunkedOptions& options,
                                            const CacheFactory& make_cache,
                                            const ProgressCallback& progress = nullptr);
absl::StatusOr<PerplexityResult> RunStreaming(const model::DecoderModel& model,
                                              const std::vector<int32_t>& tokens,
                                              const StreamingOptions& options,
                                              const CacheFactory& make_cache,
                                              const ProgressCallback& progress = nullptr);
absl::StatusOr<PerplexityResult> RunPrefillCompress(const model::DecoderModel& model,
                                                    const std::vector<int32_t>& tokens,
                                                    const PrefillCompressOptions& options,
                                                    const CacheFactory& make_cache,
                                                    const ProgressCallback& progress = nullptr);

}  // namespace kvlab::eval

#endif  // KVLAB_EVAL_PERPLEXITY_PERPLEXITY_H_
