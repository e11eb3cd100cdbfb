#include "eval/perplexity/perplexity.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <chrono>
#include <cmath>

#include "absl/strings/str_format.h"
#include "core/status_macros.h"

namespace kvlab::eval {

namespace {

using Clock = std::chrono::steady_clock;

// Tracks a run's cache footprints across steps.
class MemoryTracker {
 public:
  explicit MemoryTracker(PerplexityResult* result) : result_(result) {}
  ~MemoryTracker() {
    if (observations_ > 0) result_->mean_bytes_per_token = bytes_per_token_sum_ / observations_;
  }

  void Observe(const KvCache& cache) {
    const CacheMemory m = cache.Memory();
    result_->peak_held_bytes = std::max(result_->peak_held_bytes, m.peak_held_bytes);
    result_->peak_allocated_bytes = std::max(result_->peak_allocated_bytes, m.allocated_bytes);
    result_->peak_metadata_bytes = std::max(result_->peak_metadata_bytes, m.metadata_bytes);
    if (m.held_tokens > 0) {
      // held_tokens counts a token once per layer: this is what one token costs over
      // all layers.
      bytes_per_token_sum_ +=
          static_cast<double>(m.held_bytes) * cache.num_layers() / m.held_tokens;
      ++observations_;
    }
  }

 private:
  PerplexityResult* result_;
  double bytes_per_token_sum_ = 0.0;
  int64_t observations_ = 0;
};

at::Tensor TokensTensor(const std::vector<int32_t>& tokens, int64_t begin, int64_t n) {
  return at::tensor(std::vector<int64_t>(tokens.begin() + begin, tokens.begin() + begin + n),
                    at::kLong);
}

// Negative log-likelihoods of `targets` [n] under logits [n, vocab].
at::Tensor Nll(const at::Tensor& logits, const at::Tensor& targets) {
  return -at::log_softmax(logits.to(at::kDouble), -1)
              .gather(1, targets.to(logits.device()).unsqueeze(1))
              .squeeze(1);
}

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

double PerplexityResult::perplexity() const {
  return tokens_scored > 0 ? std::exp(nll_sum / tokens_scored) : std::nan("");
}

double PerplexityResult::tokens_per_second() const {
  return seconds > 0 ? tokens_processed / seconds : 0.0;
}

absl::StatusOr<PerplexityResult> RunChunked(const model::LlamaModel& model,
                                            const std::vector<int32_t>& tokens,
                                            const ChunkedOptions& options,
                                            const CacheFactory& make_cache,
                                            const ProgressCallback& progress) {
  const int64_t n_ctx = options.n_ctx;
  if (n_ctx < 4) {
    return absl::InvalidArgumentError(absl::StrFormat("chunked n_ctx must be >= 4, got %d", n_ctx));
  }
  int64_t chunks = static_cast<int64_t>(tokens.size()) / n_ctx;
  if (options.max_chunks > 0) chunks = std::min(chunks, options.max_chunks);
  if (chunks == 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "the text has %d tokens, fewer than one chunk of n_ctx = %d", tokens.size(), n_ctx));
  }
  if (options.replace_first_with_bos && options.bos_id < 0) {
    return absl::InvalidArgumentError("chunked perplexity asked for BOS but the model has none");
  }
  c10::InferenceMode inference;
  PerplexityResult result;
  {
    MemoryTracker memory(&result);
    const int64_t first = n_ctx / 2;
    const auto start = Clock::now();
    for (int64_t c = 0; c < chunks; ++c) {
      at::Tensor chunk = TokensTensor(tokens, c * n_ctx, n_ctx);
      const at::Tensor targets = chunk.narrow(0, first + 1, n_ctx - first - 1).clone();
      if (options.replace_first_with_bos) chunk[0] = options.bos_id;
      KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<KvCache> cache, make_cache());
      KVLAB_ASSIGN_OR_RETURN(const at::Tensor hidden,
                             model.Forward(chunk.unsqueeze(0), 0, {cache.get()}));
      memory.Observe(*cache);
      // Logits only where predictions are scored: positions first .. n_ctx - 2.
      const at::Tensor logits = model.Logits(hidden[0].narrow(0, first, n_ctx - first - 1));
      result.nll_sum += Nll(logits, targets).sum().item<double>();
      result.tokens_scored += n_ctx - first - 1;
      result.tokens_processed += n_ctx;
      if (progress) progress((c + 1) * n_ctx, chunks * n_ctx);
    }
    result.seconds = Seconds(start);
  }
  return result;
}

absl::StatusOr<PerplexityResult> RunStreaming(const model::LlamaModel& model,
                                              const std::vector<int32_t>& tokens,
                                              const StreamingOptions& options,
                                              const CacheFactory& make_cache,
                                              const ProgressCallback& progress) {
  int64_t total = static_cast<int64_t>(tokens.size());
  if (options.max_tokens > 0) total = std::min(total, options.max_tokens);
  if (total < 2) {
    return absl::InvalidArgumentError(
        absl::StrFormat("streaming needs at least 2 tokens, the text has %d", total));
  }
  if (options.bucket_size < 1) {
    return absl::InvalidArgumentError(
        absl::StrFormat("streaming bucket_size must be >= 1, got %d", options.bucket_size));
  }
  c10::InferenceMode inference;
  PerplexityResult result;
  const int64_t buckets = (total + options.bucket_size - 1) / options.bucket_size;
  result.bucket_nll_sum.assign(buckets, 0.0);
  result.bucket_count.assign(buckets, 0);
  {
    MemoryTracker memory(&result);
    KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<KvCache> cache, make_cache());
    const at::Tensor all = TokensTensor(tokens, 0, total);
    const auto start = Clock::now();
    // The step at position t predicts token t + 1; the last token predicts nothing.
    for (int64_t t = 0; t + 1 < total; ++t) {
      KVLAB_ASSIGN_OR_RETURN(const at::Tensor hidden,
                             model.Forward(all.narrow(0, t, 1).unsqueeze(0), t, {cache.get()}));
      memory.Observe(*cache);
      const double nll =
          Nll(model.Logits(hidden[0]), all.narrow(0, t + 1, 1)).item<double>();
      result.nll_sum += nll;
      result.bucket_nll_sum[(t + 1) / options.bucket_size] += nll;
      ++result.bucket_count[(t + 1) / options.bucket_size];
      ++result.tokens_scored;
      ++result.tokens_processed;
      if (progress) progress(t + 1, total - 1);
    }
    result.seconds = Seconds(start);
  }
  return result;
}

absl::StatusOr<PerplexityResult> RunPrefillCompress(const model::LlamaModel& model,
                                                    const std::vector<int32_t>& tokens,
                                                    const PrefillCompressOptions& options,
                                                    const CacheFactory& make_cache,
                                                    const ProgressCallback& progress) {
  const int64_t window = options.context_tokens + options.scored_tokens;
  if (options.context_tokens < 1 || options.scored_tokens < 1) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "prefill-compress needs context_tokens >= 1 and scored_tokens >= 1, got %d and %d",
        options.context_tokens, options.scored_tokens));
  }
  int64_t windows = static_cast<int64_t>(tokens.size()) / window;
  if (options.max_windows > 0) windows = std::min(windows, options.max_windows);
  if (windows == 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "the text has %d tokens, fewer than one window of %d + %d", tokens.size(),
        options.context_tokens, options.scored_tokens));
  }
  c10::InferenceMode inference;
  PerplexityResult result;
  {
    MemoryTracker memory(&result);
    const auto start = Clock::now();
    for (int64_t w = 0; w < windows; ++w) {
      const at::Tensor span = TokensTensor(tokens, w * window, window);
      KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<KvCache> cache, make_cache());
      // The context runs in one forward; its last position predicts the first scored
      // token, so scoring starts there.
      const int64_t L = options.context_tokens;
      KVLAB_ASSIGN_OR_RETURN(at::Tensor hidden,
                             model.Forward(span.narrow(0, 0, L).unsqueeze(0), 0, {cache.get()}));
      memory.Observe(*cache);
      at::Tensor last = hidden[0].narrow(0, L - 1, 1);
      for (int64_t t = L; t < window; ++t) {
        result.nll_sum += Nll(model.Logits(last), span.narrow(0, t, 1)).item<double>();
        ++result.tokens_scored;
        if (t + 1 == window) break;  // The last scored token predicts nothing further.
        KVLAB_ASSIGN_OR_RETURN(hidden,
                               model.Forward(span.narrow(0, t, 1).unsqueeze(0), t, {cache.get()}));
        memory.Observe(*cache);
        last = hidden[0];
      }
      result.tokens_processed += window - 1;
      if (progress) progress((w + 1) * window, windows * window);
    }
    result.seconds = Seconds(start);
  }
  return result;
}

}  // namespace kvlab::eval
