#include "eval/perplexity/perplexity.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "absl/strings/str_format.h"
#include "base/annotate.h"
#include "base/status_macros.h"
#include "core/evicting_kv_cache.h"
#include "eval/model/shared_prefill.h"
#include "eval/perplexity/key_finite_watch.h"
#include "eval/perplexity/memory_tracker.h"

namespace kvlab::eval {

namespace {

using Clock = std::chrono::steady_clock;

// Negative log-likelihoods [batch, m] (fp64) of `targets` [m] under logits
// [batch, m, vocab] (fp32): logsumexp over the vocabulary minus the target's logit.
// The logsumexp is max-shifted and summed in fp32 (a relative error near 1e-7 on one
// token's NLL, far below the four decimals a perplexity is read to); only the two
// [batch, m] results are widened, never the whole [batch, m, vocab] block.
at::Tensor Nll(const at::Tensor& logits, const at::Tensor& targets) {
  const at::Tensor index =
      targets.view({1, -1, 1}).expand({logits.size(0), targets.size(0), 1});
  const at::Tensor target_logits = logits.gather(2, index).squeeze(2);
  return at::logsumexp(logits, -1).to(at::kDouble) - target_logits.to(at::kDouble);
}

// The caches of one lockstep batch, their trackers and results, and the reference
// cache that runs beside them when there is one (ScoringOptions::reference).
class Batch {
 public:
  Batch(absl::Span<const CacheFactory> factories, const ScoringOptions& scoring)
      : factories_(factories),
        reference_factory_(scoring.reference),
        keep_token_nlls_(scoring.keep_token_nlls),
        trackers_(factories.size()),
        results_(factories.size()),
        kld_values_(factories.size()) {
    for (PerplexityResult& r : results_) {
      r.batch_size = static_cast<int>(factories.size());
      r.has_reference = static_cast<bool>(reference_factory_);
    }
  }

  int64_t size() const { return static_cast<int64_t>(factories_.size()); }

  // Replaces every cache with a fresh one.
  absl::Status Reset() {
    CollectEvictions();
    caches_.clear();
    pointers_.clear();
    for (size_t i = 0; i < factories_.size(); ++i) {
      absl::StatusOr<std::unique_ptr<KvCache>> cache = factories_[i]();
      if (!cache.ok()) return Annotate(cache.status(), i);
      caches_.push_back(std::make_unique<KeyFiniteWatch>(*std::move(cache)));
      pointers_.push_back(caches_.back().get());
    }
    if (reference_factory_) {
      absl::StatusOr<std::unique_ptr<KvCache>> reference = reference_factory_();
      if (!reference.ok()) {
        return absl::Status(reference.status().code(),
                            absl::StrCat("reference cache: ", reference.status().message()));
      }
      reference_ = *std::move(reference);
    }
    return absl::OkStatus();
  }

  // Runs `tokens` [n] at positions first.. through every cache: hidden [size, n, H],
  // and [size + 1, n, H] with the reference's row last when there is a reference.
  // `shared`: a first step (empty caches) as one dense forward handed to every cache
  // and the reference (model::PrefillShared), every row of hidden the dense one.
  absl::StatusOr<at::Tensor> Forward(const model::DecoderModel& model, const at::Tensor& tokens,
                                     int64_t first, bool shared = false) {
    absl::StatusOr<at::Tensor> hidden;
    at::Tensor dense;  // [1, n, H], when shared.
    if (shared) {
      std::vector<KvCache*> targets = pointers_;
      if (reference_ != nullptr) targets.push_back(reference_.get());
      absl::StatusOr<at::Tensor> prefilled = model::PrefillShared(model, tokens, targets);
      if (prefilled.ok()) {
        dense = *std::move(prefilled);
        hidden = dense.expand({size(), dense.size(1), dense.size(2)});
      } else {
        hidden = prefilled.status();
      }
    } else if (ReferenceJoinsBatch(model)) {
      std::vector<KvCache*> rows = pointers_;
      rows.push_back(reference_.get());
      const at::Tensor batch = tokens.unsqueeze(0).expand({size() + 1, tokens.size(0)});
      hidden = model.Forward(batch, first, rows);
    } else {
      const at::Tensor batch = tokens.unsqueeze(0).expand({size(), tokens.size(0)});
      hidden = model.Forward(batch, first, pointers_);
    }
    if (!hidden.ok()) {
      return size() == 1 ? hidden.status()
                         : kvlab::Annotate(hidden.status(),
                                           absl::StrFormat("in a batch of %d caches", size()));
    }
    for (size_t i = 0; i < caches_.size(); ++i) trackers_[i].Observe(*caches_[i]);
    // One reduction per forward. Once non-finite, a value stays so through the
    // residual stream and, by attention, spreads to every later position, so the
    // model's output shows a NaN or Inf born in any layer or cache of this step; the
    // first layer whose keys were not finite (key_finite_watch.h), read only then, says
    // where it arose.
    UncheckedForward forward{at::isfinite(hidden->narrow(0, 0, size())).flatten(1).all(1), first,
                             tokens.size(0)};
    std::vector<at::Tensor> keys_finite;
    for (const auto& cache : caches_) keys_finite.push_back(cache->KeysFinite());
    forward.keys_finite = at::stack(keys_finite);
    if (forward.finite_rows.is_cpu()) {
      KVLAB_RETURN_IF_ERROR(CheckFinite(forward));
    } else {
      // On a GPU, reading the flag would stall every step: it is read with the scores.
      unchecked_.push_back(std::move(forward));
    }
    if (reference_ == nullptr) return hidden;
    if (shared) return dense.expand({size() + 1, dense.size(1), dense.size(2)});
    if (ReferenceJoinsBatch(model)) return hidden;
    KVLAB_ASSIGN_OR_RETURN(const at::Tensor reference,
                           model.Forward(tokens.unsqueeze(0), first, {reference_.get()}));
    return at::cat({*hidden, reference}, 0);
  }

  // Scores the predictions that `hidden` [rows of Forward(), m, H] make of `targets`
  // [m], adding to `bucket` of the NLL-by-position curve unless it is -1 (streaming,
  // m = 1), and compares each cache's with the reference's when there is one. The
  // scores stay on their device until kScoresPerRead steps have been scored (or
  // Finish()): then all of them come to the host in one read, so a step costs no host
  // round trip.
  absl::Status Score(const model::DecoderModel& model, const at::Tensor& hidden,
                     const at::Tensor& targets, int64_t bucket = -1) {
    // The reference's logits in a matmul of their own, so that the caches' are exactly
    // those computed without a reference; in the batch's own where the model's output
    // depends on the number of rows.
    at::Tensor own, reference;  // [size, m, vocab], [m, vocab]
    if (ReferenceJoinsBatch(model)) {
      const at::Tensor logits = model.Logits(hidden);
      own = logits.narrow(0, 0, size());
      reference = logits[size()];
    } else {
      own = model.Logits(reference_ != nullptr ? hidden.narrow(0, 0, size()) : hidden);
      if (reference_ != nullptr) reference = model.Logits(hidden[size()]);
    }
    Pending step;
    step.nll = Nll(own, targets);
    step.bucket = bucket;
    if (reference_ != nullptr) {
      const at::Tensor reference_log_probs = at::log_softmax(reference, -1);
      const at::Tensor reference_probs = reference_log_probs.exp();
      const at::Tensor reference_top1 = reference.argmax(-1);
      std::vector<at::Tensor> kld, agree;
      // One cache at a time: a [size, m, vocab] block of log-probabilities would double
      // the logits' memory.
      for (int64_t i = 0; i < size(); ++i) {
        const at::Tensor log_probs = at::log_softmax(own[i], -1);
        kld.push_back((reference_probs * (reference_log_probs - log_probs)).sum(-1));
        agree.push_back(own[i].argmax(-1).eq(reference_top1));
      }
      step.kld = at::stack(kld);
      step.agree = at::stack(agree);
      step.nll_difference = step.nll - Nll(reference.unsqueeze(0), targets);
    }
    pending_.push_back(std::move(step));
    if (static_cast<int64_t>(pending_.size()) >= kScoresPerRead) return ReadScores();
    return absl::OkStatus();
  }
  void AddProcessed(int64_t n) {
    for (PerplexityResult& r : results_) r.tokens_processed += n;
  }
  std::vector<PerplexityResult>& results() { return results_; }

  absl::StatusOr<std::vector<PerplexityResult>> Finish(double seconds) {
    KVLAB_RETURN_IF_ERROR(ReadScores());
    CollectEvictions();
    for (size_t i = 0; i < results_.size(); ++i) {
      trackers_[i].WriteTo(results_[i]);
      results_[i].seconds = seconds;
      std::vector<float>& kld = kld_values_[i];
      if (!kld.empty()) {
        // Nearest rank: the smallest value at or above 99% of the tokens.
        const size_t rank = static_cast<size_t>(std::ceil(0.99 * kld.size())) - 1;
        std::nth_element(kld.begin(), kld.begin() + rank, kld.end());
        results_[i].kld_p99 = kld[rank];
      }
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

  // Whether the reference runs as one more row of the caches' forwards and output
  // projections rather than in its own: where a row's output depends on how many rows
  // share a product (DecoderModel::OutputDependsOnRowCount()), a lone reference beside
  // a batch of 8 or more would differ from every cache by the kernels alone. The
  // caches' numbers are then those of a batch one larger.
  bool ReferenceJoinsBatch(const model::DecoderModel& model) const {
    return reference_ != nullptr && model.OutputDependsOnRowCount();
  }

  // Moves what recording evicting caches kept to the host, one sequence per cache (at
  // the end of a chunk or window: no read per step).
  void CollectEvictions() {
    for (size_t i = 0; i < caches_.size(); ++i) {
      const auto* evicting = dynamic_cast<const EvictingKvCache*>(&caches_[i]->inner());
      if (evicting == nullptr || evicting->evictions() == nullptr) continue;
      std::vector<LayerEvictionRecord> layers;
      for (const LayerEvictions& e : *evicting->evictions()) {
        LayerEvictionRecord record;
        record.evictions = e.evictions;
        if (e.evictions > 0) {
          const at::Tensor mass = (e.retained_mass_sum / e.evictions).to(at::kCPU, at::kDouble);
          record.mean_retained_mass.assign(mass.data_ptr<double>(),
                                           mass.data_ptr<double>() + mass.numel());
          const at::Tensor kept = e.kept_positions.to(at::kCPU).contiguous();
          for (int64_t h = 0; h < kept.size(0); ++h) {
            const int64_t* row = kept[h].data_ptr<int64_t>();
            // A head kept fewer than the longest row (per-head budgets): -1 pads it.
            record.kept_positions.emplace_back(row, std::find(row, row + kept.size(1), -1));
          }
        }
        layers.push_back(std::move(record));
      }
      results_[i].evictions.push_back(std::move(layers));
    }
  }

  // A forward's output rows, each all finite or not, and the positions it ran.
  struct UncheckedForward {
    at::Tensor finite_rows;  // bool [size], one per cache
    int64_t first = 0;
    int64_t n = 0;
    at::Tensor keys_finite;  // bool [caches, layers] (KeyFiniteWatch::KeysFinite())
  };

  absl::Status CheckFinite(const UncheckedForward& forward) const {
    const at::Tensor finite_rows = forward.finite_rows.cpu();
    if (finite_rows.all().item<bool>()) return absl::OkStatus();
    const int64_t row = (~finite_rows).nonzero()[0][0].item<int64_t>();
    return absl::FailedPreconditionError(absl::StrFormat(
        "NaN or Inf in the model's output after its last layer at positions %d..%d%s; %s",
        forward.first, forward.first + forward.n - 1, RowSuffix(row),
        DescribeFirstNonFiniteLayer(forward.keys_finite[row])));
  }

  // One scored step's results, [size, m] each, on the device; the comparison with the
  // reference only when there is one.
  struct Pending {
    at::Tensor nll;             // fp64
    at::Tensor kld;             // fp32
    at::Tensor agree;           // bool
    at::Tensor nll_difference;  // fp64
    int64_t bucket = -1;
  };

  // Concatenates one field of every pending step along the token axis, on the host.
  at::Tensor Gather(at::Tensor Pending::*field) const {
    std::vector<at::Tensor> parts;
    for (const Pending& p : pending_) parts.push_back(p.*field);
    return at::cat(parts, 1).cpu();
  }

  // Brings the pending scores to the host and adds them to the results, step by step
  // in the order scored (the sums are those of scoring each step at once).
  absl::Status ReadScores() {
    // The earliest forward that went non-finite is the error.
    if (!unchecked_.empty()) {
      std::vector<at::Tensor> flags;
      for (const UncheckedForward& f : unchecked_) flags.push_back(f.finite_rows.all());
      if (!at::stack(flags).all().item<bool>()) {
        for (const UncheckedForward& f : unchecked_) KVLAB_RETURN_IF_ERROR(CheckFinite(f));
      }
      unchecked_.clear();
    }
    if (pending_.empty()) return absl::OkStatus();
    const at::Tensor all = Gather(&Pending::nll);
    if (keep_token_nlls_) {
      const at::Tensor nlls = all.to(at::kFloat).contiguous();
      for (int64_t i = 0; i < size(); ++i) {
        const float* row = nlls.data_ptr<float>() + i * nlls.size(1);
        results_[i].token_nlls.insert(results_[i].token_nlls.end(), row, row + nlls.size(1));
      }
    }
    at::Tensor kld, agree, difference;
    if (reference_ != nullptr) {
      kld = Gather(&Pending::kld).contiguous();
      agree = Gather(&Pending::agree);
      difference = Gather(&Pending::nll_difference);
    }
    int64_t offset = 0;
    for (const Pending& p : pending_) {
      const int64_t m = p.nll.size(1);
      const at::Tensor step = all.narrow(1, offset, m);
      const at::Tensor sums = step.sum(1);
      const at::Tensor squared_sums = step.square().sum(1);
      for (int64_t i = 0; i < size(); ++i) {
        PerplexityResult& r = results_[i];
        r.nll_sum += sums[i].item<double>();
        r.nll_squared_sum += squared_sums[i].item<double>();
        r.tokens_scored += m;
        if (p.bucket >= 0) {
          r.bucket_nll_sum[p.bucket] += step[i][0].item<double>();
          ++r.bucket_count[p.bucket];
        }
      }
      offset += m;
    }
    if (reference_ != nullptr) {
      const at::Tensor kld64 = kld.to(at::kDouble);
      const at::Tensor kld_sums = kld64.sum(1);
      const at::Tensor kld_squared_sums = kld64.square().sum(1);
      const at::Tensor agreements = agree.sum(1);
      const at::Tensor difference_sums = difference.sum(1);
      const at::Tensor difference_squared_sums = difference.square().sum(1);
      for (int64_t i = 0; i < size(); ++i) {
        PerplexityResult& r = results_[i];
        r.kld_sum += kld_sums[i].item<double>();
        r.kld_squared_sum += kld_squared_sums[i].item<double>();
        r.top1_agreements += agreements[i].item<int64_t>();
        r.nll_difference_sum += difference_sums[i].item<double>();
        r.nll_difference_squared_sum += difference_squared_sums[i].item<double>();
        const at::Tensor row = kld[i].contiguous();
        kld_values_[i].insert(kld_values_[i].end(), row.data_ptr<float>(),
                              row.data_ptr<float>() + row.numel());
      }
    }
    pending_.clear();
    return absl::OkStatus();
  }

  absl::Span<const CacheFactory> factories_;
  CacheFactory reference_factory_;
  bool keep_token_nlls_;
  std::unique_ptr<KvCache> reference_;
  std::vector<Pending> pending_;
  std::vector<UncheckedForward> unchecked_;  // GPU forwards whose output is not yet checked.
  std::vector<std::unique_ptr<KeyFiniteWatch>> caches_;  // Each watching the cache it wraps.
  std::vector<KvCache*> pointers_;
  std::vector<MemoryTracker> trackers_;
  std::vector<PerplexityResult> results_;
  std::vector<std::vector<float>> kld_values_;  // Per cache, every scored token's KL.
};

// tokens[begin, begin + n) as int64, checked against the model's vocabulary on the host
// and then moved to the model's device once, so the steps that slice it need no check
// and no copy.
absl::StatusOr<at::Tensor> TokensTensor(const model::DecoderModel& model,
                                        const std::vector<int32_t>& tokens, int64_t begin,
                                        int64_t n) {
  const at::Tensor ids = at::tensor(
      std::vector<int64_t>(tokens.begin() + begin, tokens.begin() + begin + n), at::kLong);
  KVLAB_RETURN_IF_ERROR(model.CheckTokens(ids));
  return ids.to(model.device());
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
    const model::DecoderModel&, const std::vector<int32_t>&, const Options&,
    absl::Span<const CacheFactory>, const ProgressCallback&);

template <typename Options>
absl::StatusOr<PerplexityResult> RunOne(Runner<Options> run, const model::DecoderModel& model,
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

double PerplexityResult::perplexity_stderr() const {
  if (tokens_scored < 2) return std::nan("");
  const double n = static_cast<double>(tokens_scored);
  const double mean = nll_sum / n;
  const double variance = std::max(0.0, (nll_squared_sum / n - mean * mean) * n / (n - 1));
  return perplexity() * std::sqrt(variance / n);
}

double PerplexityResult::tokens_per_second() const {
  return seconds > 0 ? tokens_processed / seconds : 0.0;
}

double PerplexityResult::mean_kld() const {
  return has_reference && tokens_scored > 0 ? kld_sum / tokens_scored : std::nan("");
}

double PerplexityResult::top1_agreement() const {
  return has_reference && tokens_scored > 0
             ? static_cast<double>(top1_agreements) / tokens_scored
             : std::nan("");
}

Interval PerplexityResult::kld_ci95() const {
  if (!has_reference) return {std::nan(""), std::nan("")};
  return MeanInterval(kld_sum, kld_squared_sum, tokens_scored);
}

Interval PerplexityResult::top1_ci95() const {
  if (!has_reference) return {std::nan(""), std::nan("")};
  return WilsonInterval(top1_agreement(), tokens_scored);
}

std::pair<double, double> PerplexityResult::change_percent_ci95() const {
  if (!has_reference || tokens_scored < 2) return {std::nan(""), std::nan("")};
  const double n = static_cast<double>(tokens_scored);
  const double mean = nll_difference_sum / n;
  const double variance =
      std::max(0.0, (nll_difference_squared_sum / n - mean * mean) * n / (n - 1));
  const double half_width = 1.96 * std::sqrt(variance / n);
  return {100.0 * std::expm1(mean - half_width), 100.0 * std::expm1(mean + half_width)};
}

absl::StatusOr<std::vector<PerplexityResult>> RunChunked(
    const model::DecoderModel& model, const std::vector<int32_t>& tokens,
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
  Batch batch(make_caches, options);
  const int64_t first = n_ctx / 2;
  const auto start = Clock::now();
  for (int64_t c = 0; c < chunks; ++c) {
    KVLAB_ASSIGN_OR_RETURN(at::Tensor chunk, TokensTensor(model, tokens, c * n_ctx, n_ctx));
    const at::Tensor targets = chunk.narrow(0, first + 1, n_ctx - first - 1).clone();
    if (options.replace_first_with_bos) chunk[0] = options.bos_id;
    KVLAB_RETURN_IF_ERROR(batch.Reset());
    KVLAB_ASSIGN_OR_RETURN(const at::Tensor hidden, batch.Forward(model, chunk, 0));
    // Logits only where predictions are scored: positions first .. n_ctx - 2.
    KVLAB_RETURN_IF_ERROR(batch.Score(model, hidden.narrow(1, first, n_ctx - first - 1), targets));
    batch.AddProcessed(n_ctx);
    if (progress) progress((c + 1) * n_ctx, chunks * n_ctx);
  }
  return batch.Finish(Seconds(start));
}

absl::StatusOr<std::vector<PerplexityResult>> RunStreaming(
    const model::DecoderModel& model, const std::vector<int32_t>& tokens,
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
  Batch batch(make_caches, options);
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
    KVLAB_RETURN_IF_ERROR(
        batch.Score(model, hidden, all.narrow(0, t + 1, 1), (t + 1) / options.bucket_size));
    batch.AddProcessed(1);
    if (progress) progress(t + 1, total - 1);
  }
  return batch.Finish(Seconds(start));
}

absl::StatusOr<std::vector<PerplexityResult>> RunPrefillCompress(
    const model::DecoderModel& model, const std::vector<int32_t>& tokens,
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
  if (options.replace_first_with_bos && options.bos_id < 0) {
    return absl::InvalidArgumentError("prefill-compress asked for BOS but the model has none");
  }
  Batch batch(make_caches, options);
  const int64_t L = options.context_tokens;
  const auto start = Clock::now();
  for (int64_t w = 0; w < windows; ++w) {
    KVLAB_ASSIGN_OR_RETURN(const at::Tensor span, TokensTensor(model, tokens, w * window, window));
    if (options.replace_first_with_bos) span[0] = options.bos_id;
    KVLAB_RETURN_IF_ERROR(batch.Reset());
    // The context runs in one forward (the cache may compress it after); its last
    // position predicts the first scored token.
    KVLAB_ASSIGN_OR_RETURN(
        at::Tensor hidden, batch.Forward(model, span.narrow(0, 0, L), 0, options.shared_prefill));
    at::Tensor last = hidden.narrow(1, L - 1, 1);
    for (int64_t t = L; t < window; ++t) {
      KVLAB_RETURN_IF_ERROR(batch.Score(model, last, span.narrow(0, t, 1)));
      if (t + 1 == window) break;  // The last scored token predicts nothing further.
      KVLAB_ASSIGN_OR_RETURN(last, batch.Forward(model, span.narrow(0, t, 1), t));
    }
    batch.AddProcessed(window - 1);
    if (progress) progress((w + 1) * window, windows * window);
  }
  return batch.Finish(Seconds(start));
}

absl::StatusOr<PerplexityResult> RunChunked(const model::DecoderModel& model,
                                            const std::vector<int32_t>& tokens,
                                            const ChunkedOptions& options,
                                            const CacheFactory& make_cache,
                                            const ProgressCallback& progress) {
  return RunOne<ChunkedOptions>(RunChunked, model, tokens, options, make_cache, progress);
}

absl::StatusOr<PerplexityResult> RunStreaming(const model::DecoderModel& model,
                                              const std::vector<int32_t>& tokens,
                                              const StreamingOptions& options,
                                              const CacheFactory& make_cache,
                                              const ProgressCallback& progress) {
  return RunOne<StreamingOptions>(RunStreaming, model, tokens, options, make_cache, progress);
}

absl::StatusOr<PerplexityResult> RunPrefillCompress(const model::DecoderModel& model,
                                                    const std::vector<int32_t>& tokens,
                                                    const PrefillCompressOptions& options,
                                                    const CacheFactory& make_cache,
                                                    const ProgressCallback& progress) {
  return RunOne<PrefillCompressOptions>(RunPrefillCompress, model, tokens, options, make_cache,
                                        progress);
}

}  // namespace kvlab::eval
