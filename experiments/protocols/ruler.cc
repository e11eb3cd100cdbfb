// ruler: RULER's synthetic long-context tasks (config::RulerProtocol; eval/ruler/),
// each sample's context compressed once, its question and answer decoded greedily
// through each cache in lockstep, scored by string_match_all. It scores answers, not
// predictions: per task and length the mean score with Wilson's 95% interval, the mean
// over tasks, and a record per sample (the prompt's hash, the expected answers, the
// output) in the run's details.
#include <algorithm>
#include <cmath>
#include <set>
#include <tuple>

#include "absl/strings/str_format.h"
#include "base/annotate.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "eval/retrieval/chat_format.h"
#include "eval/ruler/generator.h"
#include "eval/ruler/resources.h"
#include "eval/ruler/ruler_run.h"
#include "eval/ruler/scoring.h"
#include "eval/ruler/tasks.h"
#include "experiments/protocols/protocol.h"
#include "experiments/protocols/sample_progress.h"
#include "nlohmann/json.hpp"

namespace kvlab::experiments {
namespace {

using Json = nlohmann::ordered_json;

constexpr int64_t kShortestLength = 256;

int64_t LongestLength(const config::RulerProtocol& r) {
  return r.lengths().empty() ? 0 : *std::max_element(r.lengths().begin(), r.lengths().end());
}

// The model's chat template, "" without one (GGUF files; a Hugging Face directory's
// template is not read here).
std::string ChatTemplate(const model::ModelFiles& files) {
  if (files.gguf() == nullptr) return "";
  const absl::StatusOr<std::string> chat_template =
      files.gguf()->GetString("tokenizer.chat_template");
  return chat_template.ok() ? *chat_template : "";
}

// NaN as null: JSON has no NaN.
Json Number(double x) { return std::isnan(x) ? Json(nullptr) : Json(x); }

Json RecordJson(const ruler::RulerRecord& r) {
  return {{"task", r.task},
          {"length", r.length},
          {"index", r.index},
          {"prompt_hash", r.prompt_hash},
          {"prompt_tokens", r.prompt_tokens},
          {"context_tokens", r.context_tokens},
          {"answers", r.answers},
          {"output", r.output},
          {"output_tokens", r.output_tokens},
          {"score", Number(r.score)}};
}

// What SampleProgress keeps of a record: RecordJson, the tokens forwarded and the
// cache's footprint and time over the sample.
Json KeptRecordJson(const ruler::RulerRecord& r) {
  Json j = RecordJson(r);
  j["tokens_forwarded"] = r.tokens_forwarded;
  j["footprint"] = {{"peak_held", r.footprint.peak_held},
                    {"peak_allocated", r.footprint.peak_allocated},
                    {"peak_metadata", r.footprint.peak_metadata},
                    {"bytes_per_token_sum", r.footprint.bytes_per_token_sum},
                    {"observations", r.footprint.observations}};
  j["seconds"] = r.seconds;
  return j;
}

// A record KeptRecordJson wrote; one kept before records carried their footprint and
// time reads back without them.
absl::StatusOr<ruler::RulerRecord> RecordFromJson(const Json& j, const std::string& file) {
  try {
    ruler::RulerRecord r;
    r.task = j.at("task").get<std::string>();
    r.length = j.at("length").get<int64_t>();
    r.index = j.at("index").get<int64_t>();
    r.prompt_hash = j.at("prompt_hash").get<std::string>();
    r.prompt_tokens = j.at("prompt_tokens").get<int64_t>();
    r.context_tokens = j.at("context_tokens").get<int64_t>();
    r.answers = j.at("answers").get<std::vector<std::string>>();
    r.output = j.at("output").get<std::string>();
    r.output_tokens = j.at("output_tokens").get<int64_t>();
    r.score = j.at("score").is_null() ? std::nan("") : j.at("score").get<double>();
    r.tokens_forwarded = j.at("tokens_forwarded").get<int64_t>();
    if (j.contains("footprint")) {
      const Json& f = j.at("footprint");
      r.footprint.peak_held = f.at("peak_held").get<int64_t>();
      r.footprint.peak_allocated = f.at("peak_allocated").get<int64_t>();
      r.footprint.peak_metadata = f.at("peak_metadata").get<int64_t>();
      r.footprint.bytes_per_token_sum = f.at("bytes_per_token_sum").get<double>();
      r.footprint.observations = f.at("observations").get<int64_t>();
    }
    if (j.contains("seconds")) r.seconds = j.at("seconds").get<double>();
    return r;
  } catch (const Json::exception& error) {
    return absl::DataLossError(
        absl::StrFormat("%s: a kept sample is not a RULER record: %s", file, error.what()));
  }
}

// A sample: (task, length, index).
using SampleKey = std::tuple<std::string, int64_t, int64_t>;

SampleKey KeyOf(const ruler::RulerRecord& r) { return {r.task, r.length, r.index}; }

// The tasks a run goes through, in its order: every task when `options` names none.
std::vector<std::string> TaskNames(const ruler::RulerRunOptions& options) {
  if (!options.tasks.empty()) return options.tasks;
  std::vector<std::string> tasks;
  for (const ruler::TaskSpec& task : ruler::RulerTasks()) tasks.push_back(task.name);
  return tasks;
}

// Sorts `records` into the order RunRuler runs samples: by length as `options` lists
// them, then index, then task.
void SortInRunOrder(const ruler::RulerRunOptions& options,
                    std::vector<ruler::RulerRecord>& records) {
  const std::vector<std::string> tasks = TaskNames(options);
  const auto position = [](const auto& list, const auto& value) {
    return std::find(list.begin(), list.end(), value) - list.begin();
  };
  std::stable_sort(records.begin(), records.end(),
                   [&](const ruler::RulerRecord& a, const ruler::RulerRecord& b) {
                     return std::make_tuple(position(options.lengths, a.length), a.index,
                                            position(tasks, a.task)) <
                            std::make_tuple(position(options.lengths, b.length), b.index,
                                            position(tasks, b.task));
                   });
}

Json Details(const ruler::RulerCacheResult& result) {
  Json scores = Json::array();
  std::vector<ruler::ScoreSummary> summaries;
  for (const ruler::RulerTaskScore& s : ruler::ScoreByTaskAndLength(result.records)) {
    summaries.push_back(s.score);
    scores.push_back({{"task", s.task},
                      {"length", s.length},
                      {"samples", s.score.samples},
                      {"score", Number(s.score.mean)},
                      {"wilson95_low", Number(s.score.low)},
                      {"wilson95_high", Number(s.score.high)}});
  }
  Json records = Json::array();
  for (const ruler::RulerRecord& r : result.records) {
    records.push_back(RecordJson(r));
  }
  // RULER's average: per length, the mean over tasks.
  Json average = Json::array();
  std::vector<int64_t> lengths;
  for (const ruler::RulerTaskScore& s : ruler::ScoreByTaskAndLength(result.records)) {
    if (std::find(lengths.begin(), lengths.end(), s.length) == lengths.end()) {
      lengths.push_back(s.length);
    }
  }
  for (const int64_t length : lengths) {
    std::vector<ruler::ScoreSummary> tasks;
    for (const ruler::RulerTaskScore& s : ruler::ScoreByTaskAndLength(result.records)) {
      if (s.length == length) tasks.push_back(s.score);
    }
    average.push_back({{"length", length},
                       {"tasks", tasks.size()},
                       {"score", Number(ruler::AverageOverTasks(tasks))}});
  }
  return {{"ruler_scores", scores}, {"ruler_average", average}, {"ruler_records", records}};
}

class Ruler : public Protocol {
 public:
  std::string Name() const override { return "ruler"; }

  absl::Status FillDefaultsAndValidate(config::Experiment& e) const override {
    config::RulerProtocol& r = *e.mutable_ruler();
    if (r.lengths().empty()) {
      return absl::InvalidArgumentError("ruler.lengths needs at least one context length");
    }
    for (int i = 0; i < r.lengths_size(); ++i) {
      if (r.lengths(i) < kShortestLength) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "ruler.lengths[%d] must be >= %d, got %d", i, kShortestLength, r.lengths(i)));
      }
    }
    for (int i = 0; i < r.tasks_size(); ++i) {
      if (absl::Status found = ruler::FindRulerTask(r.tasks(i)).status(); !found.ok()) {
        return Annotate(found, absl::StrFormat("ruler.tasks[%d]", i));
      }
    }
    if (r.tasks().empty()) {
      for (const ruler::TaskSpec& task : ruler::RulerTasks()) r.add_tasks(task.name);
    }
    if (!r.has_samples()) r.set_samples(100);
    if (r.samples() < 1) {
      return absl::InvalidArgumentError(
          absl::StrFormat("ruler.samples must be >= 1, got %d", r.samples()));
    }
    if (!r.has_seed()) r.set_seed(42);
    if (r.word_lists().empty()) r.set_word_lists("third_party/wordlists");
    if (!r.has_shared_prefill()) r.set_shared_prefill(true);
    if (!r.has_stop_when_answered()) r.set_stop_when_answered(true);
    return absl::OkStatus();
  }

  // A fraction of the context is a fraction of each sample's length only with one length.
  absl::Status ValidateCache(const config::Experiment& e, int i) const override {
    const config::CacheConfig& c = e.caches(i);
    if (!c.has_eviction() || !c.eviction().budget().has_fraction() ||
        e.ruler().lengths_size() == 1) {
      return absl::OkStatus();
    }
    return absl::InvalidArgumentError(absl::StrFormat(
        "caches[%d] '%s': ruler with several lengths needs eviction.budget in tokens, not a "
        "fraction (a fraction is of ruler.lengths' only length)",
        i, c.name()));
  }

  int64_t BudgetReferenceTokens(const config::Experiment& e, int64_t) const override {
    return LongestLength(e.ruler());
  }

  // Answers, not predictions; a sample and its answer fit its length.
  ProtocolExtent Extent(const config::Experiment& e, int64_t) const override {
    return {0, LongestLength(e.ruler()), "ruler.lengths"};
  }

  // The context is compressed once; the cache then grows.
  int64_t TokensPerStep(const config::Experiment&) const override { return 0; }

  EvictionSchedule Schedule(const config::Experiment&) const override {
    return EvictionSchedule::kOnceAfterPrefill;
  }

  bool ScoresPredictions() const override { return false; }
  bool NeedsRowIndependentProducts() const override { return true; }

  // A group is a sample index: every task and length at that index.
  int64_t SampleGroups(const config::Experiment& e) const override { return e.ruler().samples(); }

  absl::StatusOr<std::vector<ProtocolOutcome>> Run(
      const config::Experiment& e, const ProtocolInputs& in,
      absl::Span<const KvCacheFactory> make_caches, ProgressBar& bar) const override {
    const config::RulerProtocol& r = e.ruler();
    bar.set_unit("samples", "sample");
    ruler::RulerResources resources;
    KVLAB_ASSIGN_OR_RETURN(resources.nouns, ruler::ReadWordList(ResolveUserPath(
                                                r.word_lists() + "/nounlist.txt")));
    KVLAB_ASSIGN_OR_RETURN(resources.adjectives, ruler::ReadWordList(ResolveUserPath(
                                                     r.word_lists() + "/adjectivelist.txt")));
    KVLAB_ASSIGN_OR_RETURN(resources.verbs, ruler::ReadWordList(ResolveUserPath(
                                                r.word_lists() + "/verblist.txt")));
    resources.essay_words = ruler::EssayWords(in.text);
    if (resources.essay_words.size() < 1000) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "text_path: ruler's essay haystack needs at least 1000 words, got %d",
          resources.essay_words.size()));
    }
    KVLAB_ASSIGN_OR_RETURN(
        std::unique_ptr<ruler::RulerGenerator> generator,
        ruler::RulerGenerator::Create(in.tokenizer,
                                      retrieval::DetectChatFormat(ChatTemplate(in.files)),
                                      std::move(resources), in.model.info().context_length));
    ruler::RulerRunOptions options;
    options.tasks.assign(r.tasks().begin(), r.tasks().end());
    options.lengths.assign(r.lengths().begin(), r.lengths().end());
    options.samples = r.samples();
    options.seed = r.seed();
    options.shared_prefill = r.shared_prefill();
    options.stop_when_answered = r.stop_when_answered();
    // Samples an interrupted run of this batch, or its sample shards, finished are read
    // back, not run again.
    std::unique_ptr<SampleProgress> progress;
    std::vector<Json> kept_samples;
    if (!in.progress_file.empty()) {
      KVLAB_ASSIGN_OR_RETURN(progress, SampleProgress::Open(in.progress_file, in.progress_key));
      kept_samples = progress->samples();
    }
    std::vector<std::string> kept_from(kept_samples.size(), in.progress_file);
    for (const std::string& file : in.shard_progress_files) {
      KVLAB_ASSIGN_OR_RETURN(std::vector<Json> samples,
                             SampleProgress::Read(file, in.progress_key));
      for (Json& sample : samples) {
        kept_samples.push_back(std::move(sample));
        kept_from.push_back(file);
      }
    }
    std::vector<std::vector<ruler::RulerRecord>> kept(make_caches.size());
    std::set<SampleKey> done;
    for (size_t k = 0; k < kept_samples.size(); ++k) {
      const Json& sample = kept_samples[k];
      if (!sample.contains("records") || sample["records"].size() != make_caches.size()) {
        return absl::DataLossError(absl::StrFormat(
            "%s: a kept sample does not hold one record per cache", kept_from[k]));
      }
      std::vector<ruler::RulerRecord> records;
      for (size_t c = 0; c < make_caches.size(); ++c) {
        KVLAB_ASSIGN_OR_RETURN(ruler::RulerRecord record,
                               RecordFromJson(sample["records"][c], kept_from[k]));
        records.push_back(std::move(record));
      }
      // A sample two shard counts both ran (a resubmission with another count) counts once.
      if (!done.insert(KeyOf(records[0])).second) continue;
      for (size_t c = 0; c < make_caches.size(); ++c) kept[c].push_back(std::move(records[c]));
    }
    // This process's share of the samples: the indices of its shard.
    const auto foreign = [&in](int64_t index) {
      return index % in.sample_shards != in.sample_shard;
    };
    int64_t foreign_total = 0;
    for (int64_t index = 0; index < r.samples(); ++index) {
      if (foreign(index)) ++foreign_total;
    }
    const int64_t samples_per_index =
        static_cast<int64_t>(TaskNames(options).size() * options.lengths.size());
    foreign_total *= samples_per_index;
    int64_t mine_done = 0;
    for (const SampleKey& key : done) {
      if (!foreign(std::get<2>(key))) ++mine_done;
    }
    bar.set_resumed(mine_done);
    int64_t foreign_skipped = 0;
    const ruler::RulerSkip skip = [&](const std::string& task, int64_t length, int64_t index) {
      if (done.count({task, length, index}) > 0) return true;
      if (!foreign(index)) return false;
      ++foreign_skipped;
      return true;
    };
    const ruler::RulerRecordSink keep =
        [&progress](absl::Span<const ruler::RulerRecord> records) -> absl::Status {
      if (progress == nullptr) return absl::OkStatus();
      Json sample = {{"records", Json::array()}};
      for (const ruler::RulerRecord& r : records) sample["records"].push_back(KeptRecordJson(r));
      return progress->Append(sample);
    };
    // The bar counts this shard's samples only: another shard's count as neither done
    // nor due.
    const ruler::RulerProgress report = [&](int64_t done_count, int64_t total) {
      bar.Update(done_count - foreign_skipped, total - foreign_total);
    };
    KVLAB_ASSIGN_OR_RETURN(std::vector<ruler::RulerCacheResult> results,
                           ruler::RunRuler(in.model, in.tokenizer, *generator, options,
                                           make_caches, skip, keep, report));
    std::vector<ProtocolOutcome> outcomes;
    for (size_t c = 0; c < results.size(); ++c) {
      ruler::RulerCacheResult& result = results[c];
      // In the order of an uninterrupted run, whichever process ran each sample.
      result.records.insert(result.records.begin(), kept[c].begin(), kept[c].end());
      SortInRunOrder(options, result.records);
      ProtocolOutcome outcome;
      outcome.details = Details(result);
      outcome.details["resumed_samples"] = kept[c].size();
      // The footprint and time of every sample, kept ones included.
      outcome.result = ruler::RulerUsage(result.records, static_cast<int>(results.size()));
      outcomes.push_back(std::move(outcome));
    }
    return outcomes;
  }
};

}  // namespace

KVLAB_REGISTER_PROTOCOL(ruler, Ruler);

}  // namespace kvlab::experiments
