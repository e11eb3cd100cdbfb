#include "eval/ruler/ruler_run.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <xxhash.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <utility>

#include "absl/strings/str_format.h"
#include "base/annotate.h"
#include "base/status_macros.h"
#include "eval/model/shared_prefill.h"
#include "eval/ruler/tasks.h"

namespace kvlab::ruler {

namespace {

at::Tensor Ids(std::vector<int32_t>::const_iterator begin,
               std::vector<int32_t>::const_iterator end) {
  return at::tensor(std::vector<int64_t>(begin, end), at::kLong);
}

absl::Status CheckOptions(const RulerRunOptions& options, size_t caches) {
  if (caches == 0) return absl::InvalidArgumentError("ruler needs at least one cache");
  if (options.lengths.empty()) return absl::InvalidArgumentError("ruler.lengths is empty");
  for (const int64_t length : options.lengths) {
    if (length < 1) {
      return absl::InvalidArgumentError(
          absl::StrFormat("ruler.lengths must each be >= 1, got %d", length));
    }
  }
  if (options.samples < 1) {
    return absl::InvalidArgumentError(
        absl::StrFormat("ruler.samples must be >= 1, got %d", options.samples));
  }
  for (const std::string& task : options.tasks) {
    if (absl::Status found = FindRulerTask(task).status(); !found.ok()) {
      return Annotate(found, "ruler.tasks");
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<int32_t> StopTokens(tokenizer::Tokenizer& tokenizer,
                                const retrieval::ChatFormat& format) {
  std::vector<int32_t> stop;
  if (tokenizer.eos_id() >= 0) stop.push_back(tokenizer.eos_id());
  const char* end_of_turn = format.style == retrieval::ChatStyle::kChatMl ? "<|im_end|>"
                            : format.style == retrieval::ChatStyle::kGemma ? "<end_of_turn>"
                                                                          : nullptr;
  if (end_of_turn != nullptr) {
    const std::vector<int32_t> ids = tokenizer.Encode(end_of_turn, false);
    if (ids.size() == 1 && ids[0] != tokenizer.eos_id()) stop.push_back(ids[0]);
  }
  return stop;
}

std::string PromptHash(const std::string& prompt) {
  return absl::StrFormat("%016x", XXH3_64bits(prompt.data(), prompt.size()));
}

eval::PerplexityResult RulerUsage(absl::Span<const RulerRecord> records, int batch_size) {
  eval::PerplexityResult usage;
  usage.batch_size = batch_size;
  eval::MemoryTracker memory;
  for (const RulerRecord& r : records) {
    memory.Merge(eval::MemoryTracker(r.footprint));
    usage.tokens_processed += r.tokens_forwarded;
    usage.seconds += r.seconds;
  }
  memory.WriteTo(usage);
  return usage;
}

std::vector<RulerTaskScore> ScoreByTaskAndLength(absl::Span<const RulerRecord> records) {
  std::vector<std::pair<std::string, int64_t>> order;
  std::map<std::pair<std::string, int64_t>, std::vector<double>> scores;
  for (const RulerRecord& r : records) {
    const auto key = std::make_pair(r.task, r.length);
    if (scores.find(key) == scores.end()) order.push_back(key);
    scores[key].push_back(r.score);
  }
  std::vector<RulerTaskScore> out;
  for (const auto& key : order) {
    out.push_back(RulerTaskScore{key.first, key.second, Summarize(scores[key])});
  }
  return out;
}

absl::StatusOr<std::vector<RulerRecord>> RunRulerSample(
    const model::DecoderModel& model, tokenizer::Tokenizer& tokenizer, const RulerSample& sample,
    absl::Span<const KvCacheFactory> make_caches, bool shared_prefill,
    absl::Span<const int32_t> stop_tokens, bool stop_when_answered) {
  const int64_t batch = static_cast<int64_t>(make_caches.size());
  if (sample.context_tokens < 1 ||
      sample.context_tokens >= static_cast<int64_t>(sample.tokens.size())) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "ruler sample %s/%d/%d: its context must be a proper prefix of its %d tokens, got %d",
        sample.task, sample.length, sample.index, sample.tokens.size(), sample.context_tokens));
  }
  const c10::InferenceMode no_autograd;
  std::vector<std::unique_ptr<KvCache>> caches;
  std::vector<KvCache*> rows;
  for (int64_t i = 0; i < batch; ++i) {
    absl::StatusOr<std::unique_ptr<KvCache>> cache = make_caches[i]();
    if (!cache.ok()) return Annotate(cache.status(), absl::StrFormat("cache %d", i));
    rows.push_back(cache->get());
    caches.push_back(*std::move(cache));
  }
  std::vector<eval::MemoryTracker> memory(batch);
  // A stopped cache no longer changes: only the caches still decoding are observed.
  const auto observe = [&](absl::Span<const int64_t> which) {
    for (const int64_t b : which) memory[b].Observe(*rows[b]);
  };

  // The context, compressed once by the caches that compress.
  const at::Tensor context =
      Ids(sample.tokens.begin(), sample.tokens.begin() + sample.context_tokens);
  KVLAB_RETURN_IF_ERROR(model.CheckTokens(context));
  if (shared_prefill) {
    KVLAB_RETURN_IF_ERROR(model::PrefillShared(model, context, rows).status());
  } else {
    const at::Tensor rows_context = context.unsqueeze(0).expand({batch, -1}).contiguous();
    KVLAB_RETURN_IF_ERROR(model.Forward(rows_context.to(model.device()), 0, rows).status());
  }
  std::vector<int64_t> active(batch);  // Indices of the caches still decoding.
  for (int64_t b = 0; b < batch; ++b) active[b] = b;
  observe(active);

  // The question and answer prefix in one step, then greedy decoding. A cache that has
  // stopped leaves the batch: the others decode on without it.
  const at::Tensor question =
      Ids(sample.tokens.begin() + sample.context_tokens, sample.tokens.end());
  KVLAB_RETURN_IF_ERROR(model.CheckTokens(question));
  at::Tensor step = question.unsqueeze(0).expand({batch, -1}).contiguous().to(model.device());
  int64_t position = sample.context_tokens;
  std::vector<std::vector<int32_t>> generated(batch);
  std::vector<int64_t> forwarded(batch, position);  // Tokens each cache has taken.
  for (int t = 0; t < sample.output_tokens && !active.empty(); ++t) {
    std::vector<KvCache*> active_rows;
    for (const int64_t b : active) active_rows.push_back(rows[b]);
    KVLAB_ASSIGN_OR_RETURN(const at::Tensor hidden, model.Forward(step, position, active_rows));
    position += step.size(1);
    for (const int64_t b : active) forwarded[b] = position;
    observe(active);
    const at::Tensor next = model.Logits(hidden.select(1, -1)).argmax(-1);  // [active]
    const at::Tensor next_cpu = next.cpu().contiguous();
    const int64_t* next_ids = next_cpu.data_ptr<int64_t>();
    std::vector<int64_t> still_active;
    std::vector<int64_t> continuing;  // Their rows in `next`.
    for (size_t i = 0; i < active.size(); ++i) {
      const int64_t b = active[i];
      const auto id = static_cast<int32_t>(next_ids[i]);
      if (std::find(stop_tokens.begin(), stop_tokens.end(), id) != stop_tokens.end()) continue;
      generated[b].push_back(id);
      if (stop_when_answered &&
          StringMatchAll(tokenizer.Decode(generated[b]), sample.answers) == 1.0) {
        continue;
      }
      still_active.push_back(b);
      continuing.push_back(static_cast<int64_t>(i));
    }
    step = (continuing.size() == active.size()
                ? next
                : next.index_select(0, at::tensor(continuing, at::kLong).to(next.device())))
               .unsqueeze(1);
    active = std::move(still_active);
  }

  std::vector<RulerRecord> records;
  const std::string hash = PromptHash(sample.prompt);
  for (int64_t b = 0; b < batch; ++b) {
    RulerRecord r;
    r.task = sample.task;
    r.length = sample.length;
    r.index = sample.index;
    r.prompt_hash = hash;
    r.prompt_tokens = static_cast<int64_t>(sample.tokens.size());
    r.context_tokens = sample.context_tokens;
    r.answers = sample.answers;
    r.output = tokenizer.Decode(generated[b]);
    r.output_tokens = static_cast<int64_t>(generated[b].size());
    r.score = StringMatchAll(r.output, r.answers);
    r.tokens_forwarded = forwarded[b];
    r.footprint = memory[b].state();
    records.push_back(std::move(r));
  }
  return records;
}

absl::StatusOr<std::vector<RulerCacheResult>> RunRuler(
    const model::DecoderModel& model, tokenizer::Tokenizer& tokenizer, RulerGenerator& generator,
    const RulerRunOptions& options, absl::Span<const KvCacheFactory> make_caches,
    const RulerSkip& skip, const RulerRecordSink& sink, const RulerProgress& progress) {
  KVLAB_RETURN_IF_ERROR(CheckOptions(options, make_caches.size()));
  std::vector<std::string> tasks = options.tasks;
  if (tasks.empty()) {
    for (const TaskSpec& task : RulerTasks()) tasks.push_back(task.name);
  }
  std::vector<RulerCacheResult> results(make_caches.size());
  const int64_t total =
      static_cast<int64_t>(options.lengths.size() * tasks.size()) * options.samples;
  const std::vector<int32_t> stop = StopTokens(tokenizer, generator.format());
  int64_t done = 0;
  for (const int64_t length : options.lengths) {
    for (int64_t index = 0; index < options.samples; ++index) {
      for (const std::string& task : tasks) {
        if (skip && skip(task, length, index)) {
          if (progress) progress(++done, total);
          continue;
        }
        const auto start = std::chrono::steady_clock::now();
        absl::StatusOr<RulerSample> sample = generator.Generate(task, length, options.seed, index);
        if (!sample.ok()) {
          return Annotate(sample.status(),
                          absl::StrFormat("ruler sample %s/%d/%d", task, length, index));
        }
        KVLAB_ASSIGN_OR_RETURN(std::vector<RulerRecord> records,
                               RunRulerSample(model, tokenizer, *sample, make_caches,
                                              options.shared_prefill, stop,
                                              options.stop_when_answered));
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        for (size_t b = 0; b < results.size(); ++b) {
          records[b].seconds = seconds;
          results[b].records.push_back(records[b]);
        }
        if (sink) KVLAB_RETURN_IF_ERROR(sink(records));
        if (progress) progress(++done, total);
      }
    }
  }
  for (RulerCacheResult& r : results) {
    r.usage = RulerUsage(r.records, static_cast<int>(make_caches.size()));
  }
  return results;
}

}  // namespace kvlab::ruler
