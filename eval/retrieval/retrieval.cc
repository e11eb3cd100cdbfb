#include "eval/retrieval/retrieval.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>
#include <memory>

#include "absl/strings/str_format.h"
#include "base/annotate.h"
#include "base/status_macros.h"
#include "eval/model/shared_prefill.h"
#include "eval/perplexity/memory_tracker.h"

namespace kvlab::retrieval {

namespace {

absl::Status CheckOptions(const RetrievalOptions& options, int caches) {
  if (caches < 1) return absl::InvalidArgumentError("retrieval needs at least one cache");
  if (options.context_tokens.empty() || options.depths.empty()) {
    return absl::InvalidArgumentError("retrieval needs at least one context length and depth");
  }
  if (options.trials < 1 || options.max_new_tokens < 1) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "retrieval trials and max_new_tokens must be >= 1, got %d and %d", options.trials,
        options.max_new_tokens));
  }
  return absl::OkStatus();
}

// Greedy answers of every cache to one prompt: the prompt in one forward (shared by
// every cache when `shared_prefill`), then one token per step. Returns each cache's
// generated ids.
absl::StatusOr<std::vector<std::vector<int32_t>>> AnswerGreedily(
    const model::DecoderModel& model, const std::vector<int32_t>& prompt,
    absl::Span<const KvCacheFactory> make_caches, int max_new_tokens, bool shared_prefill,
    std::vector<eval::MemoryTracker>& memory, std::vector<RetrievalResult>& results) {
  const int64_t batch = static_cast<int64_t>(make_caches.size());
  std::vector<std::unique_ptr<KvCache>> caches;
  std::vector<KvCache*> rows;
  for (size_t i = 0; i < make_caches.size(); ++i) {
    absl::StatusOr<std::unique_ptr<KvCache>> cache = make_caches[i]();
    if (!cache.ok()) return Annotate(cache.status(), absl::StrFormat("cache %d", i));
    rows.push_back(cache->get());
    caches.push_back(*std::move(cache));
  }
  const at::Tensor prompt_ids =
      at::tensor(std::vector<int64_t>(prompt.begin(), prompt.end()), at::kLong);
  KVLAB_RETURN_IF_ERROR(model.CheckTokens(prompt_ids));
  at::Tensor step = prompt_ids.unsqueeze(0).expand({batch, -1}).contiguous().to(model.device());
  std::vector<std::vector<int32_t>> generated(batch);
  int64_t position = 0;
  for (int t = 0; t < max_new_tokens; ++t) {
    at::Tensor hidden;
    if (t == 0 && shared_prefill) {
      // One dense forward for every row: its last position is every row's.
      KVLAB_ASSIGN_OR_RETURN(hidden, model::PrefillShared(model, prompt_ids, rows));
      hidden = hidden.expand({batch, -1, -1});
    } else {
      KVLAB_ASSIGN_OR_RETURN(hidden, model.Forward(step, position, rows));
    }
    position += step.size(1);
    const at::Tensor next = model.Logits(hidden.select(1, -1)).argmax(-1);  // [batch]
    const at::Tensor next_cpu = next.cpu();
    for (int64_t b = 0; b < batch; ++b) {
      generated[b].push_back(static_cast<int32_t>(next_cpu[b].item<int64_t>()));
    }
    for (int64_t b = 0; b < batch; ++b) memory[b].Observe(*rows[b]);
    step = next.unsqueeze(1);
  }
  for (RetrievalResult& r : results) r.usage.tokens_processed += position;
  return generated;
}

}  // namespace

double Accuracy(absl::Span<const RetrievalCell> cells) {
  int trials = 0, correct = 0;
  for (const RetrievalCell& cell : cells) {
    trials += cell.trials;
    correct += cell.correct;
  }
  return trials == 0 ? std::nan("") : static_cast<double>(correct) / trials;
}

double RetrievalResult::accuracy() const { return Accuracy(cells); }

uint64_t PromptSeed(uint64_t seed, int64_t context_tokens, size_t depth_index, int trial) {
  std::seed_seq mixed{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32),
                      static_cast<uint32_t>(context_tokens), static_cast<uint32_t>(depth_index),
                      static_cast<uint32_t>(trial)};
  uint32_t words[2];
  mixed.generate(words, words + 2);
  return (static_cast<uint64_t>(words[0]) << 32) | words[1];
}

absl::StatusOr<std::vector<RetrievalResult>> RunRetrieval(
    const model::DecoderModel& model, tokenizer::Tokenizer& tokenizer, PromptBuilder& prompts,
    const RetrievalOptions& options, absl::Span<const KvCacheFactory> make_caches,
    const ProgressCallback& progress) {
  KVLAB_RETURN_IF_ERROR(CheckOptions(options, static_cast<int>(make_caches.size())));
  const c10::InferenceMode no_autograd;
  std::vector<RetrievalResult> results(make_caches.size());
  std::vector<eval::MemoryTracker> memory(make_caches.size());
  for (RetrievalResult& r : results) r.usage.batch_size = static_cast<int>(make_caches.size());
  const int64_t total =
      static_cast<int64_t>(options.context_tokens.size() * options.depths.size()) * options.trials;
  int64_t done = 0;
  const auto start = std::chrono::steady_clock::now();
  for (const int64_t length : options.context_tokens) {
    for (size_t d = 0; d < options.depths.size(); ++d) {
      const double depth = options.depths[d];
      for (RetrievalResult& r : results) {
        r.cells.push_back(RetrievalCell{length, depth});
      }
      for (int trial = 0; trial < options.trials; ++trial) {
        absl::StatusOr<RetrievalPrompt> prompt =
            prompts.Build(length, depth, PromptSeed(options.seed, length, d, trial));
        if (!prompt.ok()) {
          return Annotate(prompt.status(),
                          absl::StrFormat("retrieval prompt of %d tokens", length));
        }
        KVLAB_ASSIGN_OR_RETURN(
            const std::vector<std::vector<int32_t>> generated,
            AnswerGreedily(model, prompt->tokens, make_caches, options.max_new_tokens,
                           options.shared_prefill, memory, results));
        for (size_t b = 0; b < results.size(); ++b) {
          RetrievalCell& cell = results[b].cells.back();
          const std::string answer = FirstNumber(tokenizer.Decode(generated[b]));
          ++cell.trials;
          cell.correct += answer == prompt->answer ? 1 : 0;
          cell.prompt_tokens += static_cast<int64_t>(prompt->tokens.size());
          cell.answers.push_back(answer);
        }
        if (progress) progress(++done, total);
      }
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (size_t b = 0; b < results.size(); ++b) {
    results[b].usage.seconds = seconds;
    memory[b].WriteTo(results[b].usage);
  }
  return results;
}

}  // namespace kvlab::retrieval
