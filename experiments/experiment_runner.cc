#include "experiments/experiment_runner.h"

#include <ATen/Parallel.h>
#include <c10/core/Device.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <numeric>
#include <optional>
#include <thread>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/files.h"
#include "base/annotate.h"
#include "base/available_memory.h"
#include "base/status_macros.h"
#include "base/text_file.h"
#include "base/torch_status.h"
#include "core/cache_builder.h"
#include "eval/model/checkpoint_tensors.h"
#include "eval/model/load_model.h"
#include "eval/model/vocabulary_agreement.h"
#include "eval/tokenizer/model_path_tokenizer.h"
#include "experiments/aggregate.h"
#include "experiments/bos_mode.h"
#include "experiments/eviction_record.h"
#include "experiments/fingerprint.h"
#include "experiments/idle_budgets.h"
#include "experiments/library_build.h"
#include "experiments/memory_check.h"
#include "experiments/model_hash.h"
#include "experiments/output_lock.h"
#include "experiments/progress_bar.h"
#include "experiments/protocols/protocol.h"
#include "experiments/run_lock.h"
#include "experiments/run_settings.h"
#include "experiments/run_store.h"
#include "experiments/token_nlls.h"

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

absl::Status CheckScoredTokens(const config::Experiment& e, const Protocol& protocol,
                               const ProtocolExtent& extent, int64_t text_tokens) {
  if (extent.scored_tokens >= std::max<int64_t>(e.min_scored_tokens(), 1)) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrFormat(
      "%s scores only %d predictions on this text (%d tokens), fewer than min_scored_tokens = "
      "%d (and at least 1): a perplexity from so few is noise; use a longer text, another "
      "protocol setting, or lower min_scored_tokens",
      protocol.Name(), extent.scored_tokens, text_tokens, e.min_scored_tokens()));
}

// Positions beyond the trained context measure the model's extrapolation, not the
// cache. A cache that evicts and rotates keys by their slot (StreamingLLM) sees at most
// its budget plus one step's tokens, whatever the stream's length.
absl::Status CheckTrainedContext(const config::Experiment& e, const Protocol& protocol,
                                 const ProtocolExtent& extent, const model::ModelInfo& mc,
                                 int64_t reference_tokens) {
  if (e.allow_beyond_trained_context() || mc.context_length <= 0) return absl::OkStatus();
  for (int i = 0; i < e.caches_size(); ++i) {
    const config::CacheConfig& c = e.caches(i);
    int64_t positions = extent.window_tokens;
    if (c.position_mode() == config::POSITION_CACHE_SLOT) {
      KVLAB_ASSIGN_OR_RETURN(positions,
                             MostTokensHeld(protocol, e, c, extent.window_tokens,
                                            mc.attention.num_layers, reference_tokens));
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
  std::string budget;
  switch (b.size_case()) {
    case config::Budget::kFraction:
      budget = absl::StrFormat("%g of context", b.fraction());
      break;
    case config::Budget::kFractionOfSeen:
      budget = absl::StrFormat("%g of seen, every %d", b.fraction_of_seen(),
                               b.has_compression_interval() ? b.compression_interval() : 1);
      break;
    default:
      budget = absl::StrFormat("%d tokens", b.tokens());
  }
  if (b.allocation() == config::PYRAMID) budget += ", pyramid";
  if (b.allocation() == config::PYRAMIDKV) budget += ", pyramidkv";
  return absl::StrFormat("%s (%s)", c.eviction().policy(), budget);
}

// The model, its tokenizer and the text's tokens, loaded once for all of an
// experiment's runs, with the hashes that fingerprint them.
struct Inputs {
  std::unique_ptr<model::ModelFiles> files;  // Declared first: the model may read from them.
  std::unique_ptr<tokenizer::Tokenizer> tokenizer;
  at::ScalarType weight_dtype = at::kFloat;
  std::string weights_name;  // "fp32", "bf16", "fp16" or "native", for reports.
  std::unique_ptr<model::DecoderModel> model;
  bool bos = false;  // The text starts with BOS (and so do chunks and windows).
  std::string text;
  std::vector<int32_t> tokens;
  std::string model_hash;
  std::string text_hash;
};

absl::StatusOr<Inputs> LoadInputs(const config::Experiment& e, const Protocol& protocol,
                                  const c10::Device& device, const std::string& model_path,
                                  const std::string& text_path) {
  Inputs in;
  KVLAB_ASSIGN_OR_RETURN(in.files, model::ModelFiles::Open(model_path));
  const std::string tokenizer_path =
      e.tokenizer_path().empty() ? "" : ResolveUserPath(e.tokenizer_path());
  KVLAB_ASSIGN_OR_RETURN(in.tokenizer, tokenizer::TokenizerFromModelPath(
                                           tokenizer_path.empty() ? model_path : tokenizer_path));
  // Before the weights load: a tokenizer of another model is refused at once.
  KVLAB_ASSIGN_OR_RETURN(const model::ModelInfo info, model::ReadModelInfo(*in.files));
  KVLAB_RETURN_IF_ERROR(
      tokenizer_path.empty()
          ? model::CheckVocabularyAgreement(*in.tokenizer, *in.files, info)
          : model::CheckSeparateTokenizer(*in.tokenizer, tokenizer_path, *in.files, info));
  KVLAB_RETURN_IF_ERROR(model::CheckEveryTensorIsRead(*in.files, info));
  // Also before the weights: text that is not text is refused at once.
  KVLAB_ASSIGN_OR_RETURN(in.text, ReadTextFile(text_path, e.raw_bytes_text()));
  model::LoadOptions load_options;
  load_options.device = device;
  load_options.weight_dtype = WeightDtype(e.weights_dtype());
  load_options.native_weights = e.weights_dtype() == config::NATIVE;
  load_options.row_independent_products =
      load_options.native_weights && protocol.NeedsRowIndependentProducts();
  in.weight_dtype = load_options.weight_dtype;
  in.weights_name = load_options.native_weights ? "native" : DtypeName(in.weight_dtype);
  // As llama.cpp's perplexity tool: BOS first when the protocol's bos (by default the
  // model) asks for it, which also shifts the chunk and window boundaries by one token.
  KVLAB_ASSIGN_OR_RETURN(in.bos,
                         UseBos(e, in.tokenizer->add_bos(), in.tokenizer->bos_id()));
  in.tokens = in.tokenizer->Encode(in.text, in.bos);
  KVLAB_RETURN_IF_ERROR(model::CheckTextTokens(in.tokens, *in.files, info, tokenizer_path));
  // Host memory only: a GPU's is the CUDA allocator's to refuse.
  if (device.is_cpu()) {
    KVLAB_ASSIGN_OR_RETURN(const int64_t available, AvailableMemoryBytes());
    KVLAB_RETURN_IF_ERROR(CheckModelFits(e, *in.files, load_options,
                                         static_cast<int64_t>(in.tokens.size()), available));
  }
  KVLAB_ASSIGN_OR_RETURN(in.model, model::LoadModel(*in.files, load_options));
  KVLAB_ASSIGN_OR_RETURN(in.model_hash, HashModel(*in.files, tokenizer_path));
  KVLAB_ASSIGN_OR_RETURN(in.text_hash, HashFile(text_path));
  return in;
}

void PrintInputs(const config::Experiment& e, const Inputs& in, const std::string& text_path,
                 int threads) {
  const model::ModelInfo mc = in.model->info();
  absl::FPrintF(stderr,
                "%s: %s (%d layers, %d/%d heads, head dim %d; weights %s, %.1f MiB), %d tokens "
                "from %s, %d threads\n",
                e.name(), mc.name, mc.attention.num_layers, mc.attention.q_heads,
                mc.attention.kv_heads, mc.attention.head_dim, in.weights_name,
                in.model->WeightBytes() / (1024.0 * 1024.0), in.tokens.size(), text_path, threads);
}

// Everything one experiment's runs share once its inputs are loaded and its caches
// validated, and the records of the runs finished so far (in config order).
struct RunPlan {
  const config::Experiment& e;
  const Protocol& protocol;
  std::string output_dir;
  Inputs in;
  model::ModelInfo mc;
  int64_t reference_tokens = 0;
  std::vector<KvCacheFactory> factories;  // One per cache, in config order.
  std::vector<std::string> fingerprints;  // Likewise.
  std::vector<std::optional<RunRecord>> records;
  int threads = 0;            // Resolved (run_settings.h).
  std::string library_build;  // library_build.h
};

// Validates every cache configuration before any time is spent on the first run: a
// factory and a fingerprint for each.
absl::Status MakeFactories(const CacheContext& context, RunPlan& plan) {
  const config::Experiment& e = plan.e;
  for (int i = 0; i < e.caches_size(); ++i) {
    const config::CacheConfig& c = e.caches(i);
    absl::StatusOr<KvCacheFactory> factory = MakeCacheFactory(c, context);
    if (!factory.ok()) {
      return Annotate(factory.status(), absl::StrFormat("caches[%d] '%s'", i, c.name()));
    }
    plan.factories.push_back(*std::move(factory));
    plan.fingerprints.push_back(
        WithRunSettings(RunFingerprint(e, c, plan.in.model_hash, plan.in.text_hash), e, i,
                        plan.threads, plan.library_build));
  }
  plan.records.resize(e.caches_size());
  return absl::OkStatus();
}

// Takes the record of run `i` from the output directory if an earlier run of this
// experiment finished it with the same fingerprint.
void FindFinishedRun(int i, RunPlan& plan) {
  absl::StatusOr<RunRecord> run =
      LoadFinishedRun(plan.output_dir, plan.e.caches(i).name(), plan.fingerprints[i]);
  if (run.ok()) plan.records[i] = *std::move(run);
}

// Takes the finished runs of `batches` and says how many there were; returns the
// number of runs in `batches`.
int FindFinishedRuns(const std::vector<std::vector<int>>& batches, RunPlan& plan) {
  int mine = 0;
  for (const std::vector<int>& batch : batches) {
    for (const int i : batch) FindFinishedRun(i, plan);
    mine += batch.size();
  }
  const int already = static_cast<int>(std::count_if(
      plan.records.begin(), plan.records.end(), [](const auto& r) { return r.has_value(); }));
  if (already > 0) {
    absl::FPrintF(stderr, "%d of %d runs already finished in %s; running the other %d\n", already,
                  mine, plan.output_dir, mine - already);
  }
  return mine;
}

// Shards share the directory: claims each of the `pending` runs with a lock file into
// `locks`. Returns false, and names the runs in `held_elsewhere`, when another live
// process holds one of them (that process runs the batch); otherwise empties `pending`
// when another process finished all of them between the first look and the claim.
absl::StatusOr<bool> ClaimBatch(RunPlan& plan, std::vector<int>& pending,
                                std::vector<RunLock>& locks,
                                std::vector<std::string>& held_elsewhere) {
  const config::Experiment& e = plan.e;
  absl::Status claimed = absl::OkStatus();
  for (const int i : pending) {
    absl::StatusOr<RunLock> lock = RunLock::Acquire(RunLockFile(plan.output_dir, e.caches(i).name()));
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
    return false;
  }
  KVLAB_RETURN_IF_ERROR(claimed);
  // Another process may have finished the batch between the first look and the claim.
  for (const int i : pending) FindFinishedRun(i, plan);
  if (std::all_of(pending.begin(), pending.end(),
                  [&](int i) { return plan.records[i].has_value(); })) {
    pending.clear();
  }
  return true;
}

// The record of cache `i`'s run, which gave `outcome`.
absl::StatusOr<RunRecord> MakeRecord(const RunPlan& plan, int i, ProtocolOutcome outcome) {
  const config::Experiment& e = plan.e;
  const config::CacheConfig& c = e.caches(i);
  RunRecord record;
  record.name = c.name();
  record.protocol = plan.protocol.Name();
  record.keys = DescribeStore(c.keys());
  if (c.has_key_channels()) record.keys += ", " + DescribeKeyChannels(c);
  record.values = DescribeStore(c.values());
  record.eviction = DescribeEviction(c);
  if (c.has_eviction()) {
    record.policy = c.eviction().policy();
    KVLAB_ASSIGN_OR_RETURN(
        const std::vector<int64_t> budgets,
        EvictionLayerBudgets(c.eviction(), plan.mc.attention.num_layers, plan.reference_tokens));
    record.budget = std::accumulate(budgets.begin(), budgets.end(), int64_t{0}) /
                    plan.mc.attention.num_layers;
  }
  record.position_mode =
      c.position_mode() == config::POSITION_CACHE_SLOT ? "cache_slot" : "original";
  record.fingerprint = plan.fingerprints[i];
  record.result = std::move(outcome.result);
  record.retrieval = std::move(outcome.retrieval);
  record.details = std::move(outcome.details);
  record.elements_per_token = plan.mc.DenseCacheBytesPerToken(1);
  record.bucket_size = outcome.bucket_size;
  record.weights_dtype = plan.in.weights_name;
  record.weight_bytes = plan.in.model->WeightBytes();
  record.retained_mass_by_layer = RetainedMassByLayer(record.result.evictions);
  return record;
}

// Runs the `pending` caches in lockstep on `sample_shard`'s samples (whole: all) and
// reports to `bar`: the protocol's outcomes, one per cache.
absl::StatusOr<std::vector<ProtocolOutcome>> RunLockstep(const std::vector<int>& pending,
                                                         const Shard& sample_shard,
                                                         RunPlan& plan) {
  const config::Experiment& e = plan.e;
  std::vector<KvCacheFactory> batch_factories;
  for (const int i : pending) batch_factories.push_back(plan.factories[i]);
  const std::string& first = e.caches(pending[0]).name();
  std::string label = first;
  if (pending.size() > 1) label += absl::StrFormat(" +%d in lockstep", pending.size() - 1);
  if (!sample_shard.is_whole()) label += ", samples of shard " + sample_shard.ToString();
  ProgressBar bar(label);
  std::vector<std::string> fingerprints;
  for (const int i : pending) fingerprints.push_back(plan.fingerprints[i]);
  ProtocolInputs inputs{*plan.in.files,
                        *plan.in.model,
                        *plan.in.tokenizer,
                        plan.in.text,
                        plan.in.tokens,
                        plan.in.bos,
                        ProgressFile(plan.output_dir, first, sample_shard),
                        absl::StrJoin(fingerprints, ",")};
  inputs.sample_shard = sample_shard.index;
  inputs.sample_shards = sample_shard.count;
  // The whole run gathers what sample shards ran.
  if (sample_shard.is_whole()) {
    inputs.shard_progress_files = SampleShardProgressFiles(plan.output_dir, first);
  }
  absl::StatusOr<std::vector<ProtocolOutcome>> results =
      plan.protocol.Run(e, inputs, batch_factories, bar);
  if (!results.ok()) return Annotate(results.status(), absl::StrFormat("caches from '%s'", first));
  bar.Finish();
  return results;
}

// Runs the `pending` caches in lockstep and writes each one's record as soon as the
// batch ends, so that a finished run is on disk whatever happens to the rest.
absl::Status RunBatch(const std::vector<int>& pending, RunPlan& plan) {
  const std::string& first = plan.e.caches(pending[0]).name();
  KVLAB_ASSIGN_OR_RETURN(std::vector<ProtocolOutcome> results,
                         RunLockstep(pending, Shard{}, plan));
  for (size_t k = 0; k < pending.size(); ++k) {
    const int i = pending[k];
    KVLAB_ASSIGN_OR_RETURN(RunRecord record, MakeRecord(plan, i, std::move(results[k])));
    absl::FPrintF(stderr, "  %s: weights %.1f MiB (%s), KV cache peak %.2f MiB\n", record.name,
                  record.weight_bytes / (1024.0 * 1024.0), record.weights_dtype,
                  record.result.peak_held_bytes / (1024.0 * 1024.0));
    if (record.is_retrieval()) {
      absl::FPrintF(stderr, "  %s: retrieval accuracy %.1f%%\n", record.name,
                    100.0 * record.retrieval_accuracy());
    }
    // The evictions and NLLs first: a run file on disk means its run is complete.
    if (!record.result.evictions.empty()) {
      KVLAB_RETURN_IF_ERROR(
          WriteFileAtomically(EvictionsFile(plan.output_dir, record.name),
                              EvictionsToJson(record.name, record.result.evictions)));
    }
    if (plan.e.keep_token_nlls()) {
      KVLAB_RETURN_IF_ERROR(WriteFileAtomically(TokenNllsFile(plan.output_dir, record.name),
                                                TokenNllsBytes(record.result.token_nlls)));
      // Kept on disk, not in memory for the rest of the experiment.
      record.result.token_nlls = {};
    }
    KVLAB_RETURN_IF_ERROR(
        WriteFileAtomically(RunFile(plan.output_dir, record.name), RunToJson(record)));
    plan.records[i] = std::move(record);
  }
  // Every run of the batch is on disk: its progress, and its sample shards', is no
  // longer needed.
  std::error_code ignored;
  std::filesystem::remove(ProgressFile(plan.output_dir, first, Shard{}), ignored);
  for (const std::string& file : SampleShardProgressFiles(plan.output_dir, first)) {
    std::filesystem::remove(file, ignored);
  }
  return absl::OkStatus();
}

// Sample shard `shard`'s part of every batch not finished yet: its samples, kept in
// its progress files for an unsharded run to gather (Protocol::SampleGroups). A batch
// whose share another live process holds is skipped. Returns the number of batches run.
absl::StatusOr<int> RunSampleShard(const std::vector<std::vector<int>>& batches,
                                   const Shard& shard, RunPlan& plan) {
  int ran = 0;
  for (const std::vector<int>& batch : batches) {
    if (std::all_of(batch.begin(), batch.end(),
                    [&](int i) { return plan.records[i].has_value(); })) {
      continue;
    }
    const std::string& first = plan.e.caches(batch[0]).name();
    const std::string share =
        absl::StrFormat("%s.progress.%d-of-%d", first, shard.index, shard.count);
    absl::StatusOr<RunLock> lock = RunLock::Acquire(RunLockFile(plan.output_dir, share));
    if (absl::IsUnavailable(lock.status())) {
      absl::FPrintF(stderr, "skipping shard %s's samples of '%s': %s\n", shard.ToString(), first,
                    lock.status().message());
      continue;
    }
    KVLAB_RETURN_IF_ERROR(lock.status());
    KVLAB_RETURN_IF_ERROR(RunLockstep(batch, shard, plan).status());
    ++ran;
  }
  return ran;
}

// Runs every batch of this shard that is not finished yet. Returns the names of the
// runs other live processes hold.
absl::StatusOr<std::vector<std::string>> RunPendingBatches(
    const std::vector<std::vector<int>>& batches, const Shard& shard, RunPlan& plan) {
  std::vector<std::string> held_elsewhere;
  for (const std::vector<int>& batch : batches) {
    std::vector<int> pending;
    for (const int i : batch) {
      if (!plan.records[i].has_value()) pending.push_back(i);
    }
    if (pending.empty()) continue;
    // A run's numbers depend on its lockstep company (run_settings.h): a batch of which
    // some runs finished (a kill between its records' writes) runs whole again.
    pending = batch;
    std::vector<RunLock> locks;  // Held until the batch's records are written.
    if (!shard.is_whole()) {
      KVLAB_ASSIGN_OR_RETURN(const bool claimed,
                             ClaimBatch(plan, pending, locks, held_elsewhere));
      if (!claimed || pending.empty()) continue;
    }
    KVLAB_RETURN_IF_ERROR(RunBatch(pending, plan));
  }
  return held_elsewhere;
}

}  // namespace

absl::StatusOr<int64_t> SampleShardGroups(const config::Experiment& experiment) {
  KVLAB_ASSIGN_OR_RETURN(const std::unique_ptr<Protocol> protocol, FindProtocol(experiment));
  return protocol->SampleGroups(experiment);
}

std::vector<std::string> CacheNames(const config::Experiment& experiment) {
  std::vector<std::string> names;
  for (const config::CacheConfig& c : experiment.caches()) names.push_back(c.name());
  return names;
}

absl::StatusOr<std::vector<RunRecord>> RunExperiment(const config::Experiment& e,
                                                     const Shard& shard) {
  KVLAB_ASSIGN_OR_RETURN(const int threads, ResolveThreads(e.threads()));
  at::set_num_threads(threads);
  KVLAB_ASSIGN_OR_RETURN(const c10::Device device, ParseDevice(e.device()));
  KVLAB_ASSIGN_OR_RETURN(const std::unique_ptr<Protocol> protocol, FindProtocol(e));

  const std::string model_path = ResolveUserPath(e.model_path());
  const std::string text_path = ResolveUserPath(e.text_path());
  const std::string output_dir = ResolveUserPath(e.output_dir());
  // Before anything is loaded: a second run into the same directory stops here, and so
  // does one that could not write its results. Shards share the directory with each
  // other, never with an unsharded run or a merge (output_lock.h).
  KVLAB_ASSIGN_OR_RETURN(const OutputLock lock, shard.is_whole()
                                                    ? OutputLock::Exclusive(output_dir)
                                                    : OutputLock::Shared(output_dir));
  KVLAB_ASSIGN_OR_RETURN(Inputs in, LoadInputs(e, *protocol, device, model_path, text_path));
  PrintInputs(e, in, text_path, threads);

  RunPlan plan{e, *protocol, output_dir, std::move(in)};
  plan.threads = threads;
  plan.library_build = LibraryBuild();
  plan.mc = plan.in.model->info();
  const int64_t text_tokens = static_cast<int64_t>(plan.in.tokens.size());
  plan.reference_tokens = protocol->BudgetReferenceTokens(e, text_tokens);
  const ProtocolExtent extent = protocol->Extent(e, text_tokens);
  KVLAB_RETURN_IF_ERROR(
      CheckTrainedContext(e, *protocol, extent, plan.mc, plan.reference_tokens));
  // A protocol that scores answers has no predictions to count, and prompts of several
  // lengths that one idle-budget check cannot speak for.
  if (protocol->ScoresPredictions()) {
    for (const std::string& line : IdleBudgets(e, extent.window_tokens,
                                               plan.mc.attention.num_layers,
                                               plan.reference_tokens)) {
      absl::FPrintF(stderr, "warning: %s\n", line);
    }
    KVLAB_RETURN_IF_ERROR(CheckScoredTokens(e, *protocol, extent, text_tokens));
  }
  CacheContext context{plan.mc.attention, plan.in.model->ropes(), device, plan.reference_tokens};
  context.eviction_schedule = protocol->Schedule(e);
  context.record_evictions = e.record_evictions();
  KVLAB_RETURN_IF_ERROR(MakeFactories(context, plan));

  // A protocol of independent samples splits them between shards: each shard runs its
  // share of every batch, and an unsharded run gathers them and writes the runs.
  if (!shard.is_whole() && protocol->SampleGroups(e) > 0) {
    const std::vector<std::vector<int>> batches =
        LockstepBatches(e.caches_size(), e.batch_caches());
    FindFinishedRuns(batches, plan);
    KVLAB_ASSIGN_OR_RETURN(const int ran, RunSampleShard(batches, shard, plan));
    absl::FPrintF(stderr,
                  "shard %s: its samples of %d of %d lockstep batches kept in "
                  "%s/runs/*.progress.%d-of-%d.jsonl; run without --shard to gather every "
                  "shard's samples into the runs\n",
                  shard.ToString(), ran, batches.size(), output_dir, shard.index, shard.count);
    return std::vector<RunRecord>{};
  }
  // This shard's lockstep batches, whole: a run gives the same numbers as in a
  // single-process run only in the same company (shard.h).
  const std::vector<std::vector<int>> batches =
      ShardBatches(CacheNames(e), e.batch_caches(), shard);
  const int mine = FindFinishedRuns(batches, plan);
  KVLAB_ASSIGN_OR_RETURN(const std::vector<std::string> held_elsewhere,
                         RunPendingBatches(batches, shard, plan));

  std::vector<RunRecord> finished;
  for (auto& r : plan.records) {
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
  KVLAB_RETURN_IF_ERROR(WriteAggregates(e, plan.mc.name, finished, output_dir));
  absl::FPrintF(stderr, "results: %s/results.{json,csv,md} and plots\n", output_dir);
  return finished;
}

}  // namespace kvlab::experiments
