#include "experiments/experiment_runner.h"

#include <ATen/Parallel.h>
#include <c10/core/Device.h>

#include <thread>

#include "absl/strings/str_format.h"
#include "core/cache_builder.h"
#include "core/files.h"
#include "core/status_macros.h"
#include "core/torch_status.h"
#include "eval/gguf/gguf_file.h"
#include "eval/model/llama_model.h"
#include "eval/perplexity/perplexity.h"
#include "eval/tokenizer/bpe_tokenizer.h"
#include "experiments/progress_bar.h"

namespace kvlab::experiments {

namespace {

absl::StatusOr<c10::Device> ParseDevice(const std::string& text) {
  return CatchTorchErrors(absl::StrFormat("device '%s'", text),
                          [&]() -> absl::StatusOr<c10::Device> { return c10::Device(text); });
}

std::string ProtocolName(const config::Experiment& e) {
  switch (e.protocol_case()) {
    case config::Experiment::kChunked: return "chunked";
    case config::Experiment::kStreaming: return "streaming";
    case config::Experiment::kPrefillCompress: return "prefill_compress";
    default: return "none";
  }
}

// The tokens a fractional eviction budget refers to: the context a cache must hold.
int64_t BudgetReferenceTokens(const config::Experiment& e, int64_t text_tokens) {
  switch (e.protocol_case()) {
    case config::Experiment::kChunked: return e.chunked().n_ctx();
    case config::Experiment::kStreaming:
      return e.streaming().max_tokens() > 0 ? std::min(e.streaming().max_tokens(), text_tokens)
                                            : text_tokens;
    case config::Experiment::kPrefillCompress: return e.prefill_compress().context_tokens();
    default: return text_tokens;
  }
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
    const config::Experiment& e, const model::LlamaModel& model,
    const tokenizer::BpeTokenizer& tokenizer, const std::vector<int32_t>& tokens,
    absl::Span<const KvCacheFactory> make_caches, ProgressBar& bar) {
  const auto progress = [&bar](int64_t done, int64_t total) { bar.Update(done, total); };
  switch (e.protocol_case()) {
    case config::Experiment::kChunked: {
      eval::ChunkedOptions options;
      options.n_ctx = e.chunked().n_ctx();
      options.max_chunks = e.chunked().max_chunks();
      options.bos_id = tokenizer.bos_id();
      options.replace_first_with_bos =
          e.chunked().bos() == config::BOS_ALWAYS ||
          (e.chunked().bos() == config::BOS_AUTO && tokenizer.add_bos());
      return eval::RunChunked(model, tokens, options, make_caches, progress);
    }
    case config::Experiment::kStreaming: {
      eval::StreamingOptions options;
      options.max_tokens = e.streaming().max_tokens();
      options.bucket_size = e.streaming().bucket_size();
      return eval::RunStreaming(model, tokens, options, make_caches, progress);
    }
    case config::Experiment::kPrefillCompress: {
      eval::PrefillCompressOptions options;
      options.context_tokens = e.prefill_compress().context_tokens();
      options.scored_tokens = e.prefill_compress().scored_tokens();
      options.max_windows = e.prefill_compress().max_windows();
      return eval::RunPrefillCompress(model, tokens, options, make_caches, progress);
    }
    default:
      return absl::InvalidArgumentError("no protocol set");
  }
}

}  // namespace

absl::StatusOr<std::vector<RunRecord>> RunExperiment(const config::Experiment& e) {
  const int threads =
      e.threads() > 0 ? e.threads() : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(threads);
  KVLAB_ASSIGN_OR_RETURN(const c10::Device device, ParseDevice(e.device()));

  const std::string model_path = ResolveUserPath(e.model_path());
  const std::string text_path = ResolveUserPath(e.text_path());
  const std::string output_dir = ResolveUserPath(e.output_dir());
  KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<gguf::GgufFile> file, gguf::GgufFile::Open(model_path));
  KVLAB_ASSIGN_OR_RETURN(tokenizer::BpeTokenizer tokenizer,
                         tokenizer::BpeTokenizer::FromGguf(*file));
  model::LoadOptions load_options;
  load_options.device = device;
  KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<model::LlamaModel> model,
                         model::LlamaModel::Load(*file, load_options));
  KVLAB_ASSIGN_OR_RETURN(const std::string text, ReadFileToString(text_path));
  const std::vector<int32_t> tokens = tokenizer.Encode(text);
  const model::LlamaConfig& mc = model->config();
  absl::FPrintF(stderr, "%s: %s (%d layers, %d/%d heads, head dim %d), %d tokens from %s, %d threads\n",
                e.name(), mc.name, mc.num_layers, mc.q_heads, mc.kv_heads, mc.head_dim,
                tokens.size(), text_path, threads);

  CacheContext context{mc.attention_shape(), model->rope(), device,
                       BudgetReferenceTokens(e, static_cast<int64_t>(tokens.size()))};
  // Validate every cache configuration before spending time on the first run.
  std::vector<KvCacheFactory> factories;
  for (int i = 0; i < e.caches_size(); ++i) {
    absl::StatusOr<KvCacheFactory> factory = MakeCacheFactory(e.caches(i), context);
    if (!factory.ok()) {
      return absl::Status(factory.status().code(),
                          absl::StrFormat("caches[%d] '%s': %s", i, e.caches(i).name(),
                                          factory.status().message()));
    }
    factories.push_back(*std::move(factory));
  }

  std::vector<RunRecord> records;
  for (int begin = 0; begin < e.caches_size(); begin += e.batch_caches()) {
    const int end = std::min(e.caches_size(), begin + e.batch_caches());
    std::string label = e.caches(begin).name();
    if (end - begin > 1) label += absl::StrFormat(" +%d in lockstep", end - begin - 1);
    ProgressBar bar(label);
    absl::StatusOr<std::vector<eval::PerplexityResult>> results = RunProtocol(
        e, *model, tokenizer, tokens,
        absl::MakeConstSpan(factories).subspan(begin, end - begin), bar);
    if (!results.ok()) {
      return absl::Status(results.status().code(),
                          absl::StrFormat("caches[%d..%d] from '%s': %s", begin, end - 1,
                                          e.caches(begin).name(), results.status().message()));
    }
    bar.Finish();
    for (int i = begin; i < end; ++i) {
      const config::CacheConfig& c = e.caches(i);
      RunRecord record;
      record.name = c.name();
      record.protocol = ProtocolName(e);
      record.keys = DescribeStore(c.keys());
      record.values = DescribeStore(c.values());
      record.eviction = DescribeEviction(c);
      record.position_mode =
          c.position_mode() == config::POSITION_CACHE_SLOT ? "cache_slot" : "original";
      record.result = std::move((*results)[i - begin]);
      record.elements_per_token = mc.DenseCacheBytesPerToken(1);
      record.dense_fp32_bytes_per_token = mc.DenseCacheBytesPerToken(4);
      record.bucket_size = e.has_streaming() ? e.streaming().bucket_size() : 0;
      records.push_back(std::move(record));
    }
    KVLAB_RETURN_IF_ERROR(WriteResults(output_dir, records));
  }
  absl::FPrintF(stderr, "results: %s/results.json, %s/results.csv\n", output_dir, output_dir);
  return records;
}

}  // namespace kvlab::experiments
