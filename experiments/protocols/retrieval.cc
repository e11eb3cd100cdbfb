// retrieval: prompts hiding a five-digit number at a depth of a filler text, asked for
// in the model's chat format and answered by greedy decoding through each cache
// (config::RetrievalProtocol, retrieval::RunRetrieval). It scores answers, not
// predictions: accuracy per context length and depth.
#include <algorithm>

#include "absl/strings/str_format.h"
#include "base/annotate.h"
#include "base/files.h"
#include "base/json_text.h"
#include "base/status_macros.h"
#include "eval/retrieval/chat_format.h"
#include "eval/retrieval/retrieval_prompt.h"
#include "experiments/protocols/protocol.h"

namespace kvlab::experiments {
namespace {

// The longest prompt asked for (0 for none).
int64_t LongestPrompt(const config::RetrievalProtocol& r) {
  return r.context_tokens().empty()
             ? 0
             : *std::max_element(r.context_tokens().begin(), r.context_tokens().end());
}

// The model's chat template: a GGUF's tokenizer.chat_template, a Hugging Face
// directory's tokenizer_config.json "chat_template" (or chat_template.jinja beside it);
// "" when there is none.
std::string ChatTemplate(const model::ModelFiles& files) {
  if (files.gguf() != nullptr) {
    const absl::StatusOr<std::string> chat_template =
        files.gguf()->GetString("tokenizer.chat_template");
    return chat_template.ok() ? *chat_template : "";
  }
  const std::string dir = files.path() + "/";
  if (const absl::StatusOr<std::string> text = ReadFileToString(dir + "tokenizer_config.json");
      text.ok()) {
    const absl::StatusOr<nlohmann::json> config = ParseJsonText("tokenizer_config.json", *text);
    if (config.ok() && config->is_object() && config->contains("chat_template") &&
        (*config)["chat_template"].is_string()) {
      return (*config)["chat_template"].get<std::string>();
    }
  }
  const absl::StatusOr<std::string> jinja = ReadFileToString(dir + "chat_template.jinja");
  return jinja.ok() ? *jinja : "";
}

class Retrieval : public Protocol {
 public:
  std::string Name() const override { return "retrieval"; }

  absl::Status FillDefaultsAndValidate(config::Experiment& e) const override {
    config::RetrievalProtocol& r = *e.mutable_retrieval();
    if (r.context_tokens().empty()) {
      return absl::InvalidArgumentError("retrieval.context_tokens needs at least one prompt length");
    }
    for (int i = 0; i < r.context_tokens_size(); ++i) {
      if (r.context_tokens(i) < 64) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "retrieval.context_tokens[%d] must be >= 64, got %d", i, r.context_tokens(i)));
      }
    }
    if (r.depths().empty()) {
      for (double depth : {0.0, 0.25, 0.5, 0.75, 1.0}) r.add_depths(depth);
    }
    for (int i = 0; i < r.depths_size(); ++i) {
      if (!(r.depths(i) >= 0.0 && r.depths(i) <= 1.0)) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "retrieval.depths[%d] must be in [0, 1], got %g", i, r.depths(i)));
      }
    }
    if (r.shared_prefill() && r.eviction() != config::RetrievalProtocol::ONCE_AFTER_PROMPT) {
      return absl::InvalidArgumentError(
          "retrieval.shared_prefill needs eviction: ONCE_AFTER_PROMPT (a shared prefill "
          "hands each cache the whole prompt, compressed once after it)");
    }
    if (!r.has_trials()) r.set_trials(5);
    if (!r.has_max_new_tokens()) r.set_max_new_tokens(8);
    if (r.trials() < 1 || r.max_new_tokens() < 1) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "retrieval.trials and retrieval.max_new_tokens must be >= 1, got %d and %d",
          r.trials(), r.max_new_tokens()));
    }
    return absl::OkStatus();
  }

  // Prompts have several lengths: a fraction of which one would be ambiguous.
  absl::Status ValidateCache(const config::Experiment& e, int i) const override {
    const config::CacheConfig& c = e.caches(i);
    if (!c.has_eviction() || !c.eviction().budget().has_fraction()) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrFormat(
        "caches[%d] '%s': retrieval needs eviction.budget in tokens, not a fraction (its "
        "prompts have several lengths)",
        i, c.name()));
  }

  int64_t BudgetReferenceTokens(const config::Experiment& e, int64_t) const override {
    return LongestPrompt(e.retrieval());
  }

  // Answers, not predictions, are what it scores; the prompt and the answer's steps
  // are what a cache sees.
  ProtocolExtent Extent(const config::Experiment& e, int64_t) const override {
    return {0, LongestPrompt(e.retrieval()) + e.retrieval().max_new_tokens(),
            "retrieval.context_tokens + max_new_tokens"};
  }

  // A prompt is one step: the cache sees all of it.
  int64_t TokensPerStep(const config::Experiment&) const override { return 0; }

  EvictionSchedule Schedule(const config::Experiment& e) const override {
    return e.retrieval().eviction() == config::RetrievalProtocol::ONCE_AFTER_PROMPT
               ? EvictionSchedule::kOnceAfterPrefill
               : EvictionSchedule::kWheneverOverBudget;
  }

  bool ScoresPredictions() const override { return false; }
  bool NeedsRowIndependentProducts() const override { return true; }

  // Prompts in the model's chat format (tokenizer.chat_template; plain text without one).
  absl::StatusOr<std::vector<ProtocolOutcome>> Run(
      const config::Experiment& e, const ProtocolInputs& in,
      absl::Span<const KvCacheFactory> make_caches, ProgressBar& bar) const override {
    const config::RetrievalProtocol& r = e.retrieval();
    bar.set_unit("prompts", "prompt");
    const retrieval::ChatFormat format = retrieval::DetectChatFormat(ChatTemplate(in.files));
    const retrieval::RetrievalTask task = r.task() == config::RetrievalProtocol::NEEDLE
                                              ? retrieval::RetrievalTask::kNeedle
                                              : retrieval::RetrievalTask::kPasskey;
    absl::StatusOr<std::unique_ptr<retrieval::PromptBuilder>> prompts =
        retrieval::PromptBuilder::Create(task, in.tokenizer, format, in.text);
    if (!prompts.ok()) return Annotate(prompts.status(), "retrieval.task NEEDLE on text_path");
    retrieval::RetrievalOptions options;
    options.context_tokens.assign(r.context_tokens().begin(), r.context_tokens().end());
    options.depths.assign(r.depths().begin(), r.depths().end());
    options.trials = r.trials();
    options.seed = r.seed();
    options.max_new_tokens = r.max_new_tokens();
    options.shared_prefill = r.shared_prefill();
    KVLAB_ASSIGN_OR_RETURN(
        std::vector<retrieval::RetrievalResult> results,
        retrieval::RunRetrieval(in.model, in.tokenizer, **prompts, options, make_caches,
                                [&bar](int64_t done, int64_t total) { bar.Update(done, total); }));
    std::vector<ProtocolOutcome> outcomes;
    for (retrieval::RetrievalResult& result : results) {
      outcomes.push_back({std::move(result.usage), std::move(result.cells)});
    }
    return outcomes;
  }
};

}  // namespace

KVLAB_REGISTER_PROTOCOL(retrieval, Retrieval);

}  // namespace kvlab::experiments
