// The retrieval protocol: prompts with a hidden fact (retrieval_prompt.h) run through
// each cache, which answers by greedy decoding; accuracy per context length and depth.
//
// Each prompt is one prefill (the cache may compress it, as its eviction schedule
// says) followed by max_new_tokens greedy steps; the answer is right when the first
// number the model writes is the hidden one. Caches run in lockstep, as in the
// perplexity protocols: one forward per step for all of them.
#ifndef KVLAB_EVAL_RETRIEVAL_RETRIEVAL_H_
#define KVLAB_EVAL_RETRIEVAL_RETRIEVAL_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/kv_cache.h"
#include "eval/model/decoder_model.h"
#include "eval/perplexity/perplexity.h"
#include "eval/retrieval/retrieval_prompt.h"
#include "eval/tokenizer/tokenizer.h"

namespace kvlab::retrieval {

struct RetrievalOptions {
  std::vector<int64_t> context_tokens;  // Prompt lengths; each >= 1.
  std::vector<double> depths;           // Depths of the fact, each in [0, 1].
  int trials = 5;                       // Prompts per length and depth; >= 1.
  // Each prompt's seed (its number, and the needle's place in the text) mixes this
  // with the prompt's length, depth and trial, so no two prompts share a number by
  // construction.
  uint64_t seed = 0;
  int max_new_tokens = 8;               // Greedy steps after the prompt; >= 1.
  // One dense forward of each prompt for every cache (model::PrefillShared), whose
  // first answer token is then the dense one; false (default): a batched forward,
  // each row through its own cache. Equal for the dense cache and for evicting caches
  // that compress once after the prompt; a quantized cache then gets its prompt in
  // full precision, quantized as it is handed over.
  bool shared_prefill = false;
};

// One length and depth.
struct RetrievalCell {
  int64_t context_tokens = 0;
  double depth = 0.0;
  int trials = 0;
  int correct = 0;
  int64_t prompt_tokens = 0;  // Summed over trials (prompts land within a sentence).
  std::vector<std::string> answers;  // What the cache answered, per trial ("" for none).
};

struct RetrievalResult {
  std::vector<RetrievalCell> cells;  // Lengths outer, depths inner, in the options' order.
  // The run's cache footprint (peaks over all prompts, bytes per held token averaged
  // over steps), tokens forwarded, wall time and batch size, as the perplexity
  // protocols report them; it scores no predictions.
  eval::PerplexityResult usage;

  double accuracy() const;  // Correct over trials, all cells.
};

// Correct answers over trials in `cells`; NaN when there are no trials.
double Accuracy(absl::Span<const RetrievalCell> cells);

// The seed of one prompt: `seed` mixed with its length, depth index and trial.
uint64_t PromptSeed(uint64_t seed, int64_t context_tokens, size_t depth_index, int trial);

using ProgressCallback = std::function<void(int64_t done, int64_t total)>;

// One result per factory, in order.
absl::StatusOr<std::vector<RetrievalResult>> RunRetrieval(
    const model::DecoderModel& model, tokenizer::Tokenizer& tokenizer, PromptBuilder& prompts,
    const RetrievalOptions& options, absl::Span<const KvCacheFactory> make_caches,
    const ProgressCallback& progress = nullptr);

}  // namespace kvlab::retrieval

#endif  // KVLAB_EVAL_RETRIEVAL_RETRIEVAL_H_
