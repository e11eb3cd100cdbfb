#include "eval/perplexity/perplexity.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <chrono>
#include <cmath>

#include "absl/strings/str_format.h"
#include "base/annotate.h"
#include "base/status_macros.h"

namespace kvlab::eval {

namespace {

using Clock = std::chrono::steady_clock;

// Tracks one run's cache footprints across steps.
class MemoryTracker {
 public:
  void Observe(const KvCache& cache) {
    const CacheMemory m = cache.Memory();
    peak_held_ = std::max(peak_held_, m.peak_held_bytes);
    peak_allocated_ = std::max(peak_allocated_, m.allocated_bytes);
    peak_metadata_ = std::max(peak_metadata_, m.metadata_bytes);
    if (m.held_tokens > 0) {
      // held_tokens counts a token once per layer: this is what one token costs over
      // all layers.
      bytes_per_token_sum_ +=
          static_cast<double>(m.held_bytes) * cache.num_layers() / m.held_tokens;
      ++observations_;
    }
  }

  void WriteTo(PerplexityResult& result) const {
    result.peak_held_bytes = peak_held_;
    result.peak_allocated_bytes = peak_allocated_;
    result.peak_metadata_bytes = peak_metadata_;
    if (observations_ > 0) result.mean_bytes_per_token = bytes_per_token_sum_ / observations_;
  }

 private:
  int64_t peak_held_ = 0;
  int64_t peak_allocated_ = 0;
  int64_t peak_metadata_ = 0;
  double bytes_per_token_sum_ = 0.0;
  int64_t observations_ = 0;
};

// The caches of one lockstep batch, their trackers and results.
class Batch {
 public:
  explicit Batch(absl::Span<const CacheFactory> factories)
      : factories_(factories), trackers_(factories.size()), results_(factories.size()) {
    for (PerplexityResult& r : results_) r.batch_size = static_cast<int>(factories.size());
  }

  int64_t size() const { return static_cast<int64_t>(factories_.size()); }

  // Replaces every cache with a fresh one.
  absl::Status Reset() {
    caches_.clear();
    pointers_.clear();
    for (size_t i = 0; i < factories_.size(); ++i) {
      absl::StatusOr<std::unique_ptr<KvCache>> cache = factories_[i]();
      if (!cache.ok()) return Annotate(cache.status(), i);
      pointers_.push_back(cache->get());
      caches_.push_back(*std::move(cache));
    }
    return absl::OkStatus();
  }

  // Runs `tokens` [n] at positions first.. through every cache: hidden [size, n, H].
  absl::StatusOr<at::Tensor> Forward(const model::LlamaModel& model, const at::Tensor& tokens,
                                     int64_t first) {
    const at::Tensor batch = tokens.unsqueeze(0).expand({size(), tokens.size(0)});
    absl::StatusOr<at::Tensor> hidden = model.Forward(batch, first, pointers_);
    if (!hidden.ok()) {
      return size() == 1 ? hidden.status()
                         : kvlab::Annotate(hidden.status(),
                                           absl::StrFormat("in a batch of %d caches", size()));
    }
    for (size_t i = 0; i < caches_.size(); ++i) trackers_[i].Observe(*caches_[i]);
    // One reduction per forward. Once non-finite, a value stays so through the
    // residual stream and, by attention, spreads to every later position, so the
    // model's output shows a NaN or Inf born in any layer or cache of this step. (The
    // caches name the layer where keys or values arrive non-finite.)
    const at::Tensor finite_rows = at::isfinite(*hidden).flatten(1).all(1);
    if (!finite_rows.all().item<bool>()) {
      const int64_t row = (~finite_rows).nonzero()[0][0].item<int64_t>();
      return absl::FailedPreconditionError(absl::StrFormat(
          "NaN or Inf in the model's output after its last layer at positions %d..%d%s",
          first, first + tokens.size(0) - 1, RowSuffix(row)));
    }
    return hidden;
  }

  // Adds per-row NLL [size, m] of scored predictions, and to `bucket` of the
  // NLL-by-position curve unless it is -1 (streaming, m = 1). The NLL stays on its
  // device until kScoresPerRead steps have been scored (or Finish()): then all of them
  // come to the host in one read, so a step costs no host round trip.
  void Score(const at::Tensor& nll, int64_t bucket = -1) {
    pending_.push_back(nll);
    pending_buckets_.push_back(bucket);
    if (static_cast<int64_t>(pending_.size()) >= kScoresPerRead) ReadScores();
  }
  void AddProcessed(int64_t n) {
    for (PerplexityResult& r : results_) r.tokens_processed += n;
  }
  std::vector<PerplexityResult>& results() { return results_; }

  std::vector<PerplexityResult> Finish(double seconds) {
    ReadScores();
    for (size_t i = 0; i < results_.size(); ++i) {
      trackers_[i].WriteTo(results_[i]);
      results_[i].seconds = seconds;
    }
    return std::move(results_);
  }

 private:
  std::string RowSuffix(int64_t row) const {
    return size() == 1 ? "" : absl::StrFormat(" (cache %d of the batch)", row);
  }

  absl::Status Annotate(const absl::Status& status, size_t index) const {
    if (factories_.size() == 1) return status;
    return kvlab::Annotate(status, absl::StrFormat("cache %d of the batch", index));
  }

  static constexpr int64_t kScoresPerRead = 256;

  // Brings the pending NLL to the host and adds it to the results, step by step in the
  // order scored (the sums are those of scoring each step at once).
  void ReadScores() {
    if (pending_.empty()) return;
    const at::Tensor all = at::cat(pending_, 1).cpu();
    int64_t offset = 0;
    for (size_t s = 0; s < pending_.size(); ++s) {
      const int64_t m = pending_[s].size(1);
      const at::Tensor step = all.narrow(1, offset, m);
      const at::Tensor sums = step.sum(1);
      for (int64_t i = 0; i < size(); ++i) {
        results_[i].nll_sum += sums[i].item<double>();
        results_[i].tokens_scored += m;
        if (pending_buckets_[s] >= 0) {
          results_[i].bucket_nll_sum[pending_buckets_[s]] += step[i][0].item<double>();
          ++results_[i].bucket_count[pending_buckets_[s]];
        }
      }
      offset += m;
    }
    pending_.clear();
    pending_buckets_.clear();
  }

  absl::Span<const CacheFactory> factories_;
  std::vector<at::Tensor> pending_;        // [size, m] NLL per scored step, on the device.
  std::vector<int64_t> pending_buckets_;   // Each step's bucket, or -1.
  std::vector<std::unique_ptr<KvCache>> caches_;
  std::vector<KvCache*> pointers_;
  std::vector<MemoryTracker> trackers_;
  std::vector<PerplexityResult> results_;
};

// tokens[begin, begin + n) as int64, checked against the model's vocabulary on the host
// and then moved to the model's device once, so the steps that slice it need no check
// and no copy.
absl::StatusOr<at::Tensor> TokensTensor(const model::LlamaModel& model,
                                        const std::vector<int32_t>& tokens, int64_t begin,
                                        int64_t n) {
  const at::Tensor ids = at::tensor(
      std::vector<int64_t>(tokens.begin() + begin, tokens.begin() + begin + n), at::kLong);
  KVLAB_RETURN_IF_ERROR(model.CheckTokens(ids));
  return ids.to(model.device());
}

// Negative log-likelihoods [batch, m] of `targets` [m] under logits [batch, m, vocab].
at::Tensor Nll(const at::Tensor& logits, const at::Tensor& targets) {
  const at::Tensor index =
      targets.view({1, -1, 1}).expand({logits.size(0), targets.size(0), 1});
  return -at::log_softmax(logits.to(at::kDouble), -1).gather(2, index).squeeze(2);
}

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

absl::Status CheckFactories(absl::Span<const CacheFactory> make_caches) {
  if (make_caches.empty()) return absl::InvalidArgumentError("no caches to run");
  return absl::OkStatus();
}

template <typename Options>
using Runner = absl::StatusOr<std::vector<PerplexityResult>> (*)(
    const model::LlamaModel&, const std::vector<int32_t>&, const Options&,
    absl::Span<const CacheFactory>, const ProgressCallback&);

template <typename Options>
absl::StatusOr<PerplexityResult> RunOne(Runner<Options> run, const model::LlamaModel& model,
                                        const std::vector<int32_t>& tokens,
                                        const Options& options, const CacheFactory& make_cache,
                                        const ProgressCallback& progress) {
  KVLAB_ASSIGN_OR_RETURN(std::vector<PerplexityResult> results,
                         run(model, tokens, options, absl::MakeConstSpan(&make_cache, 1), progress));
  return std::move(results[0]);
}

}  // namespace

double PerplexityResult::perplexity() const {
  return tokens_scored > 0 ? std::exp(nll_sum / tokens_scored) : std::nan("");
}

double PerplexityResult::tokens_per_second() const {
  return seconds > 0 ? tokens_processed / seconds : 0.0;
}

absl::StatusOr<std::vector<PerplexityResult>> RunChunked(
    const model::LlamaModel& model, const std::vector<int32_t>& tokens,
    const ChunkedOptions& options, absl::Span<const CacheFactory> make_caches,
    const ProgressCallback& progress) {
  KVLAB_RETURN_IF_ERROR(CheckFactories(make_caches));
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
  Batch batch(make_caches);
  const int64_t first = n_ctx / 2;
  const auto start = Clock::now();
  for (int64_t c = 0; c < chunks; ++c) {
    KVLAB_ASSIGN_OR_RETURN(at::Tensor chunk, TokensTensor(model, tokens, c * n_ctx, n_ctx));
    const at::Tensor targets = chunk.narrow(0, first + 1, n_ctx - first - 1).clone();
    if (options.replace_first_with_bos) chunk[0] = options.bos_id;
    KVLAB_RETURN_IF_ERROR(batch.Reset());
    KVLAB_ASSIGN_OR_RETURN(const at::Tensor hidden, batch.Forward(model, chunk, 0));
    // Logits only where predictions are scored: positions first .. n_ctx - 2.
    batch.Score(Nll(model.Logits(hidden.narrow(1, first, n_ctx - first - 1)), targets));
    batch.AddProcessed(n_ctx);
    if (progress) progress((c + 1) * n_ctx, chunks * n_ctx);
  }
  return batch.Finish(Seconds(start));
}

absl::StatusOr<std::vector<PerplexityResult>> RunStreaming(
    const model::LlamaModel& model, const std::vector<int32_t>& tokens,
    const StreamingOptions& options, absl::Span<const CacheFactory> make_caches,
    const ProgressCallback& progress) {
  KVLAB_RETURN_IF_ERROR(CheckFactories(make_caches));
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
  Batch batch(make_caches);
  const int64_t buckets = (total + options.bucket_size - 1) / options.bucket_size;
  for (PerplexityResult& r : batch.results()) {
    r.bucket_nll_sum.assign(buckets, 0.0);
    r.bucket_count.assign(buckets, 0);
  }
  KVLAB_RETURN_IF_ERROR(batch.Reset());
  KVLAB_ASSIGN_OR_RETURN(const at::Tensor all, TokensTensor(model, tokens, 0, total));
  const auto start = Clock::now();
  // The step at position t predicts token t + 1; the last token predicts nothing.
  for (int64_t t = 0; t + 1 < total; ++t) {
    KVLAB_ASSIGN_OR_RETURN(const at::Tensor hidden, batch.Forward(model, all.narrow(0, t, 1), t));
    const at::Tensor nll = Nll(model.Logits(hidden), all.narrow(0, t + 1, 1));  // [batch, 1]
    batch.Score(nll, (t + 1) / options.bucket_size);
    batch.AddProcessed(1);
    if (progress) progress(t + 1, total - 1);
  }
  return batch.Finish(Seconds(start));
}

absl::StatusOr<std::vector<PerplexityResult>> RunPrefillCompress(
    const model::LlamaModel& model, const std::vector<int32_t>& tokens,
    const PrefillCompressOptions& options, absl::Span<const CacheFactory> make_caches,
    const ProgressCallback& progress) {
  KVLAB_RETURN_IF_ERROR(CheckFactories(make_caches));
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
  Batch batch(make_caches);
  const int64_t L = options.context_tokens;
  const auto start = Clock::now();
  for (int64_t w = 0; w < windows; ++w) {
    KVLAB_ASSIGN_OR_RETURN(const at::Tensor span, TokensTensor(model, tokens, w * window, window));
    KVLAB_RETURN_IF_ERROR(batch.Reset());
    // The context runs in one forward (the cache may compress it after); its last
    // position predicts the first scored token.
    KVLAB_ASSIGN_OR_RETURN(at::Tensor hidden, batch.Forward(model, span.narrow(0, 0, L), 0));
    at::Tensor last = hidden.narrow(1, L - 1, 1);
    for (int64_t t = L; t < window; ++t) {
      batch.Score(Nll(model.Logits(last), span.narrow(0, t, 1)));
      if (t + 1 == window) break;  // The last scored token predicts nothing further.
      KVLAB_ASSIGN_OR_RETURN(last, batch.Forward(model, span.narrow(0, t, 1), t));
    }
    batch.AddProcessed(window - 1);
    if (progress) progress((w + 1) * window, windows * window);
  }
  return batch.Finish(Seconds(start));
}

absl::StatusOr<PerplexityResult> RunChunked(const model::LlamaModel& model,
                                            const std::vector<int32_t>& tokens,
                                            const ChunkedOptions& options,
                                            const CacheFactory& make_cache,
                                            const ProgressCallback& progress) {
  return RunOne<ChunkedOptions>(RunChunked, model, tokens, options, make_cache, progress);
}

absl::StatusOr<PerplexityResult> RunStreaming(const model::LlamaModel& model,
                                              const std::vector<int32_t>& tokens,
                                              const StreamingOptions& options,
                                              const CacheFactory& make_cache,
                                              const ProgressCallback& progress) {
  return RunOne<StreamingOptions>(RunStreaming, model, tokens, options, make_cache, progress);
}

absl::StatusOr<PerplexityResult> RunPrefillCompress(const model::LlamaModel& model,
                                                    const std::vector<int32_t>& tokens,
                                                    const PrefillCompressOptions& options,
                                                    const CacheFactory& make_cache,
                                                    const ProgressCallback& progress) {
  return RunOne<PrefillCompressOptions>(RunPrefillCompress, model, tokens, options, make_cache,
                                        progress);
}

}  // namespace kvlab::eval
