// The RULER protocol's decode loop: each sample's context prefilled (once for all the
// caches of a lockstep batch, or once per cache), then its question and answer decoded
// greedily through every cache in lockstep, and each output scored with
// string_match_all.
//
// Per sample: the caches start empty; the context (RulerSample::context_tokens) is
// prefilled, shared (PrefillShared: one dense forward whose keys and values every
// cache takes and compresses) or per cache (one batched forward, each row through its
// own cache); then the question, the end of the user turn and the answer prefix go in
// as one step of the whole batch, and the task's output tokens are generated greedily,
// one step at a time, a row stopping at the model's EOS or end of turn. What a cache
// wrote before that is its output.
//
// Every sample gives one record per cache: enough to resume a run (which samples are
// done), to audit it (the prompt's hash, the expected answers, the output) and to score
// it again.
#ifndef KVLAB_EVAL_RULER_RULER_RUN_H_
#define KVLAB_EVAL_RULER_RULER_RUN_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/kv_cache.h"
#include "eval/model/decoder_model.h"
#include "eval/perplexity/memory_tracker.h"
#include "eval/retrieval/chat_format.h"
#include "eval/perplexity/perplexity.h"
#include "eval/ruler/generator.h"
#include "eval/ruler/scoring.h"
#include "eval/tokenizer/tokenizer.h"

namespace kvlab::ruler {

struct RulerRunOptions {
  std::vector<std::string> tasks;  // RULER task names; empty: all eleven.
  std::vector<int64_t> lengths;    // Context lengths in tokens, output included; >= 1 each.
  int64_t samples = 100;           // Per task and length: indices 0 .. samples - 1; >= 1.
  uint64_t seed = 42;              // Mixed into every sample's seed.
  // One dense prefill of each context for all the caches (PrefillShared); false: a
  // batched prefill, each row through its own cache.
  bool shared_prefill = true;
  // A cache stops once its output holds every expected answer (its score is then
  // final); false: at EOS, its end of turn or the task's output length only.
  bool stop_when_answered = true;
};

// One sample through one cache.
struct RulerRecord {
  std::string task;
  int64_t length = 0;
  int64_t index = 0;
  std::string prompt_hash;  // XXH3-64 of the prompt's text, 16 hex digits.
  int64_t prompt_tokens = 0;
  int64_t context_tokens = 0;
  std::vector<std::string> answers;
  std::string output;  // The generated text, up to where the cache stopped.
  int64_t output_tokens = 0;
  double score = 0.0;  // string_match_all, in [0, 1].
  // Tokens this cache took for this sample: the prompt, then one per decode step until
  // it stopped (a stopped cache leaves the lockstep batch).
  int64_t tokens_forwarded = 0;
  // The cache's footprint over this sample's steps, and the sample's wall time (its
  // generation included, the batch's, shared by every cache): kept with the record so
  // that a run resumed from kept samples reports the footprint of all of them.
  eval::MemoryTracker::State footprint;
  double seconds = 0.0;
};

// One cache's records, in the order the samples ran, and its footprint as the
// perplexity protocols report it (RulerUsage of the records).
struct RulerCacheResult {
  std::vector<RulerRecord> records;
  eval::PerplexityResult usage;
};

// The footprint of a cache over `records` (one per sample): the peaks over all of them,
// the held bytes per token averaged over their steps, the tokens forwarded and the
// seconds summed; `batch_size` as given.
eval::PerplexityResult RulerUsage(absl::Span<const RulerRecord> records, int batch_size);

// Per task and length, in the order first seen in `records`.
struct RulerTaskScore {
  std::string task;
  int64_t length = 0;
  ScoreSummary score;
};
std::vector<RulerTaskScore> ScoreByTaskAndLength(absl::Span<const RulerRecord> records);

// The hash recorded for a prompt's text.
std::string PromptHash(const std::string& prompt);

// Whether (task, length, index) is already done (a resumed run skips it).
using RulerSkip = std::function<bool(const std::string& task, int64_t length, int64_t index)>;
// Called after each sample with one record per cache, in the factories' order.
using RulerRecordSink = std::function<absl::Status(absl::Span<const RulerRecord> records)>;
using RulerProgress = std::function<void(int64_t done, int64_t total)>;

// The tokens that end an answer: the model's EOS, and the end of the model's turn in
// its chat format (ChatML's <|im_end|>, Gemma's <end_of_turn>) when the vocabulary has
// it as one token; a chat model's generation stops there as its server would stop it.
std::vector<int32_t> StopTokens(tokenizer::Tokenizer& tokenizer,
                                const retrieval::ChatFormat& format);

// The records of one sample through every cache, in order; a cache's output ends
// before the first of `stop_tokens` it writes, or, with `stop_when_answered`, after the
// token that completes its last expected answer; it then leaves the lockstep batch.
// Each record's footprint observes its cache after every step; its seconds are left
// for the caller.
absl::StatusOr<std::vector<RulerRecord>> RunRulerSample(
    const model::DecoderModel& model, tokenizer::Tokenizer& tokenizer, const RulerSample& sample,
    absl::Span<const KvCacheFactory> make_caches, bool shared_prefill,
    absl::Span<const int32_t> stop_tokens, bool stop_when_answered = false);

// Every (task, length, index) of `options` not skipped, through every cache; one result
// per factory, in order. Per length, samples run index by index, each index through
// every task, so a run stopped early holds as many samples of every task.
absl::StatusOr<std::vector<RulerCacheResult>> RunRuler(
    const model::DecoderModel& model, tokenizer::Tokenizer& tokenizer, RulerGenerator& generator,
    const RulerRunOptions& options, absl::Span<const KvCacheFactory> make_caches,
    const RulerSkip& skip = nullptr, const RulerRecordSink& sink = nullptr,
    const RulerProgress& progress = nullptr);

}  // namespace kvlab::ruler

#endif  // KVLAB_EVAL_RULER_RULER_RUN_H_
