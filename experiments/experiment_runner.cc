#include "experiments/experiment_runner.h"

#include <ATen/Parallel.h>
#include <c10/core/Device.h>

#include <algorithm>
#include <numeric>
#include <optional>
#include <thread>

#include "absl/strings/str_format.h"
#include "base/files.h"
#include "base/annotate.h"
#include "base/status_macros.h"
#include "base/torch_status.h"
#include "core/cache_builder.h"
#include "core/layer_budgets.h"
#include "eval/gguf/gguf_file.h"
#include "eval/model/load_model.h"
#include "eval/perplexity/perplexity.h"
#include "eval/tokenizer/gguf_tokenizer.h"
#include "experiments/aggregate.h"
#include "experiments/bos_mode.h"
#include "experiments/fingerprint.h"
#include "experiments/output_lock.h"
#include "experiments/progress_bar.h"
#include "experiments/run_lock.h"
#include "experiments/run_store.h"

namespace kvlab::experiments {

namespace {

absl::StatusOr<c10::Device> ParseDevice(const std::string& text) {
  return CatchTorchErrors(absl::StrFormat("device '%s'", text),
                          [&]() -> absl::StatusOr<c10::Device> { return c10::Device(text); });
}

// Experiment.weights_dtype (already given its default by LoadExperiment) as a dtype.
at::ScalarType WeightDtype(config::WeightsDtype dtype) {
  switch (dtype) {
    case config::BF16: return at::kBFloat16;
    case config::FP16: return at::kHalf;
    default: return at::kFloat;
  }
}

std::string DtypeName(at::ScalarType dtype) {
  switch (dtype) {
    case at::kBFloat16: return "bf16";
    case at::kHalf: return "fp16";
    default: return "fp32";
  }
}

// The tokens a fractional eviction budget refers to: the context a cache must hold.
int64_t BudgetReferenceTokens(const config::Experiment& e, int64_t text_tokens) {
  switch (e.protocol_case()) {
    case config::Experiment::kChunked: return e.chunked().n_ctx();
    case config::Experiment::kStreaming:
      return e.streaming().max_tokens() > 0 ? std::min(e.streaming().max_tokens(), text_tokens)
                                            : text_tokens;
    case config::Experiment::kPrefillCompress:
    case config::Experiment::kCompressOnce: return PrefillWindows(e)->context_tokens();
    default: return text_tokens;
  }
}

// What a protocol does with a text of `text_tokens` tokens: how many predictions it
// scores, and the longest run of positions one cache sees from empty.
struct ProtocolExtent {
  int64_t scored_tokens = 0;
  int64_t window_tokens = 0;
  std::string window_field;  // The config field(s) that set window_tokens.
};

ProtocolExtent MeasureProtocol(const config::Experiment& e, int64_t text_tokens) {
  ProtocolExtent x;
  switch (e.protocol_case()) {
    case config::Experiment::kChunked: {
      const int64_t n_ctx = e.chunked().n_ctx();
      int64_t chunks = text_tokens / n_ctx;
      if (e.chunked().max_chunks() > 0) chunks = std::min<int64_t>(chunks, e.chunked().max_chunks());
      x.scored_tokens = chunks * (n_ctx - n_ctx / 2 - 1);
      x.window_tokens = n_ctx;
      x.window_field = "chunked.n_ctx";
      break;
    }
    case config::Experiment::kStreaming: {
      int64_t total = text_tokens;
      if (e.streaming().max_tokens() > 0) total = std::min(total, e.streaming().max_tokens());
      x.scored_tokens = std::max<int64_t>(total - 1, 0);
      x.window_tokens = total;
      x.window_field = "streaming.max_tokens (or the text's length)";
      break;
    }
    case config::Experiment::kPrefillCompress:
    case config::Experiment::kCompressOnce: {
      const config::PrefillCompressProtocol& p = *PrefillWindows(e);
      const int64_t window = p.context_tokens() + p.scored_tokens();
      int64_t windows = text_tokens / window;
      if (p.max_windows() > 0) windows = std::min<int64_t>(windows, p.max_windows());
      x.scored_tokens = windows * p.scored_tokens();
      x.window_tokens = window;
      x.window_field = ProtocolName(e) + ".context_tokens + scored_tokens";
      break;
    }
    default:
      break;
  }
  return x;
}

absl::Status CheckScoredTokens(const config::Experiment& e, const ProtocolExtent& extent,
                               int64_t text_tokens) {
  if (extent.scored_tokens >= std::max<int64_t>(e.min_scored_tokens(), 1)) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrFormat(
      "%s scores only %d predictions on this text (%d tokens), fewer than min_scored_tokens = "
      "%d (and at least 1): a perplexity from so few is noise; use a longer text, another "
      "protocol setting, or lower min_scored_tokens",
      ProtocolName(e), extent.scored_tokens, text_tokens, e.min_scored_tokens()));
}

// Positions beyond the trained context measure the model's extrapolation, not the
// cache. A cache that evicts and rotates keys by their slot (StreamingLLM) sees at most
// its budget plus one step's tokens, whatever the stream's length.
absl::Status CheckTrainedContext(const config::Experiment& e, const ProtocolExtent& extent,
                                 const model::ModelInfo& mc, int64_t reference_tokens) {
  if (e.allow_beyond_trained_context() || mc.context_length <= 0) return absl::OkStatus();
  for (int i = 0; i < e.caches_size(); ++i) {
    const config::CacheConfig& c = e.caches(i);
    int64_t positions = extent.window_tokens;
    // Under compress_once the decode grows the cache: it can see the whole window.
    if (c.has_eviction() && c.position_mode() == config::POSITION_CACHE_SLOT &&
        !e.has_compress_once()) {
      KVLAB_ASSIGN_OR_RETURN(const std::vector<int64_t> budgets,
                             LayerBudgets(c.eviction().budget(), mc.attention.num_layers,
                                          reference_tokens));
      const int64_t step = e.has_prefill_compress() ? e.prefill_compress().context_tokens() : 1;
      const int64_t held = *std::max_element(budgets.begin(), budgets.end()) + step;
      positions = std::min(positions, held);
    }
    if (positions > mc.context_length) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "caches[%d] '%s' would see %d positions, beyond the %d the model %s was trained for "
          "(its context_length); shorten %s or set allow_beyond_trained_context: true",
          i, c.name(), positions, mc.context_length, mc.name, extent.window_field));
    }
  }
  return absl::OkStatus();
}

std::string DescribeEviction(const config::CacheConfig& c) {
  if (!c.has_eviction()) return "none";
  const config::Budget& b = c.eviction().budget();
  std::string budget = b.size_case() == config::Budget::kFraction
                           ? absl::StrFormat("%g of context", b.fraction())
                           : absl::StrFormat("%d tokens", b.tokens());
  if (b.allocation() == config::PYRAMID) budget += ", pyramid";
  return absl::StrFormat("%s (%s)", c.eviction().policy(), budget);
}

absl::StatusOr<std::vector<eval::PerplexityResult>> RunProtocol(
    const config::Experiment& e, const model::DecoderModel& model,
    const tokenizer::Tokenizer& tokenizer, const std::vector<int32_t>& tokens, bool bos,
    absl::Span<const KvCacheFactory> make_caches, ProgressBar& bar) {
  const auto progress = [&bar](int64_t done, int64_t total) { bar.Update(done, total); };
  eval::ScoringOptions scoring;
  if (e.compare_to_dense()) scoring.reference = [&model] { return model.NewDenseCache(); };
  switch (e.protocol_case()) {
    case config::Experiment::kChunked: {
      eval::ChunkedOptions options;
      static_cast<eval::ScoringOptions&>(options) = scoring;
      options.n_ctx = e.chunked().n_ctx();
      options.max_chunks = e.chunked().max_chunks();
      options.bos_id = tokenizer.bos_id();
      options.replace_first_with_bos = bos;
      return eval::RunChunked(model, tokens, options, make_caches, progress);
    }
    case config::Experiment::kStreaming: {
      eval::StreamingOptions options;
      static_cast<eval::ScoringOptions&>(options) = scoring;
      options.max_tokens = e.streaming().max_tokens();
      options.bucket_size = e.streaming().bucket_size();
      return eval::RunStreaming(model, tokens, options, make_caches, progress);
    }
    case config::Experiment::kPrefillCompress:
    case config::Experiment::kCompressOnce: {
      // The two differ only in the caches' eviction schedule (see the CacheContext in RunExperiment).
      const config::PrefillCompressProtocol& p = *PrefillWindows(e);
      eval::PrefillCompressOptions options;
      static_cast<eval::ScoringOptions&>(options) = scoring;
      options.context_tokens = p.context_tokens();
      options.scored_tokens = p.scored_tokens();
      options.max_windows = p.max_windows();
      options.bos_id = tokenizer.bos_id();
      options.replace_first_with_bos = bos;
      return eval::RunPrefillCompress(model, tokens, options, make_caches, progress);
    }
    default:
      return absl::InvalidArgumentError("no protocol set");
  }
}

}  // namespace

absl::StatusOr<std::vector<RunRecord>> RunExperiment(const config::Experiment& e,
                                                     const Shard& shard) {
  const int threads =
      e.threads() > 0 ? e.threads() : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(threads);
  KVLAB_ASSIGN_OR_RETURN(const c10::Device device, ParseDevice(e.device()));

  const std::string model_path = ResolveUserPath(e.model_path());
  const std::string text_path = ResolveUserPath(e.text_path());
  const std::string output_dir = ResolveUserPath(e.output_dir());
  // Before anything is loaded: a second run into the same directory stops here, and so
  // does one that could not write its results. Shards share the directory with each
  // other, never with an unsharded run or a merge (output_lock.h).
  KVLAB_ASSIGN_OR_RETURN(const OutputLock lock, shard.is_whole()
                                                    ? OutputLock::Exclusive(output_dir)
                                                    : OutputLock::Shared(output_dir));
  KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<gguf::GgufFile> file, gguf::GgufFile::Open(model_path));
  KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<tokenizer::Tokenizer> tokenizer,
                         tokenizer::TokenizerFromGguf(*file));
  model::LoadOptions load_options;
  load_options.device = device;
  load_options.weight_dtype = WeightDtype(e.weights_dtype());
  KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<model::DecoderModel> model,
                         model::LoadModel(*file, load_options));
  KVLAB_ASSIGN_OR_RETURN(const std::string text, ReadFileToString(text_path));
  // As llama.cpp's perplexity tool: BOS first when the protocol's bos (by default the
  // model) asks for it, which also shifts the chunk and window boundaries by one token.
  KVLAB_ASSIGN_OR_RETURN(const bool bos, UseBos(e, tokenizer->add_bos(), tokenizer->bos_id()));
  const std::vector<int32_t> tokens = tokenizer->Encode(text, bos);
  KVLAB_ASSIGN_OR_RETURN(const std::string model_hash, HashFile(model_path));
  KVLAB_ASSIGN_OR_RETURN(const std::string text_hash, HashFile(text_path));
  const model::ModelInfo mc = model->info();
  const std::string weights_dtype = DtypeName(load_options.weight_dtype);
  absl::FPrintF(stderr,
                "%s: %s (%d layers, %d/%d heads, head dim %d; weights %s, %.1f MiB), %d tokens "
                "from %s, %d threads\n",
                e.name(), mc.name, mc.attention.num_layers, mc.attention.q_heads,
                mc.attention.kv_heads, mc.attention.head_dim,
                weights_dtype, model->WeightBytes() / (1024.0 * 1024.0), tokens.size(), text_path,
                threads);

  const int64_t reference_tokens = BudgetReferenceTokens(e, static_cast<int64_t>(tokens.size()));
  const ProtocolExtent extent = MeasureProtocol(e, static_cast<int64_t>(tokens.size()));
  KVLAB_RETURN_IF_ERROR(CheckTrainedContext(e, extent, mc, reference_tokens));
  KVLAB_RETURN_IF_ERROR(CheckScoredTokens(e, extent, static_cast<int64_t>(tokens.size())));
  CacheContext context{mc.attention, model->ropes(), device, reference_tokens};
  if (e.has_compress_once()) context.eviction_schedule = EvictionSchedule::kOnceAfterPrefill;
  // Validate every cache configuration before spending time on the first run, and
  // find the runs an earlier, interrupted run of this experiment already finished.
  std::vector<KvCacheFactory> factories;
  std::vector<std::optional<RunRecord>> records(e.caches_size());
  std::vector<std::string> fingerprints;
  for (int i = 0; i < e.caches_size(); ++i) {
    const config::CacheConfig& c = e.caches(i);
    absl::StatusOr<KvCacheFactory> factory = MakeCacheFactory(c, context);
    if (!factory.ok()) {
      return Annotate(factory.status(), absl::StrFormat("caches[%d] '%s'", i, c.name()));
    }
    factories.push_back(*std::move(factory));
    fingerprints.push_back(RunFingerprint(e, c, model_hash, text_hash));
  }
  const auto find_finished = [&](int i) {
    absl::StatusOr<RunRecord> run = LoadFinishedRun(output_dir, e.caches(i).name(), fingerprints[i]);
    if (run.ok()) records[i] = *std::move(run);
  };
  // This shard's lockstep batches, whole: a run gives the same numbers as in a
  // single-process run only in the same company (shard.h).
  const std::vector<std::vector<int>> batches =
      ShardBatches(e.caches_size(), e.batch_caches(), shard);
  int mine = 0;
  for (const std::vector<int>& batch : batches) {
    for (const int i : batch) find_finished(i);
    mine += batch.size();
  }
  const int already = static_cast<int>(std::count_if(
      records.begin(), records.end(), [](const auto& r) { return r.has_value(); }));
  if (already > 0) {
    absl::FPrintF(stderr, "%d of %d runs already finished in %s; running the other %d\n", already,
                  mine, output_dir, mine - already);
  }

  std::vector<std::string> held_elsewhere;
  for (const std::vector<int>& batch : batches) {
    std::vector<int> pending;
    for (const int i : batch) {
      if (!records[i].has_value()) pending.push_back(i);
    }
    if (pending.empty()) continue;
    // Shards share the directory: claim each run, and leave a batch another live
    // process is running to that process.
    std::vector<RunLock> locks;
    if (!shard.is_whole()) {
      absl::Status claimed = absl::OkStatus();
      for (const int i : pending) {
        absl::StatusOr<RunLock> lock = RunLock::Acquire(RunLockFile(output_dir, e.caches(i).name()));
        if (!lock.ok()) {
          claimed = lock.status();
          break;
        }
        locks.push_back(*std::move(lock));
      }
      if (absl::IsUnavailable(claimed)) {
        absl::FPrintF(stderr, "skipping the batch of '%s': %s\n", e.caches(pending[0]).name(),
                      claimed.message());
        for (const int i : pending) held_elsewhere.push_back(e.caches(i).name());
        continue;
      }
      KVLAB_RETURN_IF_ERROR(claimed);
      // Finished by another process between the first look and the claim?
      for (const int i : pending) find_finished(i);
      pending.erase(std::remove_if(pending.begin(), pending.end(),
                                   [&](int i) { return records[i].has_value(); }),
                    pending.end());
      if (pending.empty()) continue;
    }
    std::vector<KvCacheFactory> batch_factories;
    for (const int i : pending) batch_factories.push_back(factories[i]);
    std::string label = e.caches(pending[0]).name();
    if (pending.size() > 1) label += absl::StrFormat(" +%d in lockstep", pending.size() - 1);
    ProgressBar bar(label);
    absl::StatusOr<std::vector<eval::PerplexityResult>> results =
        RunProtocol(e, *model, *tokenizer, tokens, bos, batch_factories, bar);
    if (!results.ok()) {
      return Annotate(results.status(),
                      absl::StrFormat("caches from '%s'", e.caches(pending[0]).name()));
    }
    bar.Finish();
    for (size_t k = 0; k < pending.size(); ++k) {
      const int i = pending[k];
      const config::CacheConfig& c = e.caches(i);
      RunRecord record;
      record.name = c.name();
      record.protocol = ProtocolName(e);
      record.keys = DescribeStore(c.keys());
      record.values = DescribeStore(c.values());
      record.eviction = DescribeEviction(c);
      if (c.has_eviction()) {
        record.policy = c.eviction().policy();
        KVLAB_ASSIGN_OR_RETURN(
            const std::vector<int64_t> budgets,
            LayerBudgets(c.eviction().budget(), mc.attention.num_layers, reference_tokens));
        record.budget = std::accumulate(budgets.begin(), budgets.end(), int64_t{0}) /
                        mc.attention.num_layers;
      }
      record.position_mode =
          c.position_mode() == config::POSITION_CACHE_SLOT ? "cache_slot" : "original";
      record.fingerprint = fingerprints[i];
      record.result = std::move((*results)[k]);
      record.elements_per_token = mc.DenseCacheBytesPerToken(1);
      record.bucket_size = e.has_streaming() ? e.streaming().bucket_size() : 0;
      record.weights_dtype = weights_dtype;
      record.weight_bytes = model->WeightBytes();
      absl::FPrintF(stderr, "  %s: weights %.1f MiB (%s), KV cache peak %.2f MiB\n", c.name(),
                    record.weight_bytes / (1024.0 * 1024.0), weights_dtype,
                    record.result.peak_held_bytes / (1024.0 * 1024.0));
      // Each finished run is on disk at once, whatever happens to the rest.
      KVLAB_RETURN_IF_ERROR(WriteFileAtomically(RunFile(output_dir, c.name()), RunToJson(record)));
      records[i] = std::move(record);
    }
  }

  std::vector<RunRecord> finished;
  for (auto& r : records) {
    if (r.has_value()) finished.push_back(*std::move(r));
  }
  if (!shard.is_whole()) {
    // Shards never write the aggregate files: `merge` builds them from every shard's runs.
    absl::FPrintF(stderr, "shard %s: %d of its %d runs finished in %s/runs%s\n", shard.ToString(),
                  finished.size(), mine, output_dir,
                  held_elsewhere.empty()
                      ? ""
                      : absl::StrFormat("; %d held by other processes", held_elsewhere.size()));
    return finished;
  }
  // Every run is finished now; the aggregate files list them in config order.
  KVLAB_RETURN_IF_ERROR(WriteAggregates(e, mc.name, finished, output_dir));
  absl::FPrintF(stderr, "results: %s/results.{json,csv,md} and plots\n", output_dir);
  return finished;
}

}  // namespace kvlab::experiments
