// Protocol: what an experiment does with its text and its caches, and everything that
// follows from it elsewhere: its config's defaults and checks, whether the text starts
// with BOS, what a fractional eviction budget is a fraction of, how many predictions
// it scores, what of it goes into a run's fingerprint, and running one lockstep batch
// of caches. The runner, the config loader, the fingerprint and the aggregate files
// ask the experiment's protocol and know none by name.
//
// A protocol is a config message, one field of Experiment's `protocol` oneof
// (experiments/experiment.proto) whose name is the protocol's name, and a class
// registered under that name. Adding one, "needle2" say:
//
//   1. The config message, and its line in the oneof (the field name is the name):
//
//        message Needle2Protocol { int64 context_tokens = 1; ... }
//        oneof protocol { ...  Needle2Protocol needle2 = 22; }
//
//   2. experiments/protocols/needle2.cc: the class in an anonymous namespace, reading
//      its message with e.needle2(), and one line registering it:
//
//        class Needle2 : public Protocol {
//         public:
//          std::string Name() const override { return "needle2"; }
//          absl::Status FillDefaultsAndValidate(config::Experiment& e) const override;
//          ...
//        };
//        KVLAB_REGISTER_PROTOCOL(needle2, Needle2);
//
//   3. experiments/protocols/BUILD: kvlab_protocol(name = "needle2", deps = [...]),
//      which declares the alwayslink library and needle2_test, and ":needle2" in
//      all_protocols, which every program that loads a config links.
//
// Protocols are stateless: every method reads the experiment it is given, so one
// instance serves any number of experiments and threads.
#ifndef KVLAB_EXPERIMENTS_PROTOCOLS_PROTOCOL_H_
#define KVLAB_EXPERIMENTS_PROTOCOLS_PROTOCOL_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/evicting_kv_cache.h"
#include "core/kv_cache.h"
#include "core/registry.h"
#include "eval/model/decoder_model.h"
#include "eval/model/load_model.h"
#include "eval/perplexity/perplexity.h"
#include "eval/retrieval/retrieval.h"
#include "eval/tokenizer/tokenizer.h"
#include "experiments/experiment.pb.h"
#include "experiments/progress_bar.h"
#include "nlohmann/json.hpp"

namespace kvlab::experiments {

// What a protocol does with a text of a given length: how many predictions it scores
// (none for a protocol that scores answers), and the longest run of positions one
// cache sees from empty.
struct ProtocolExtent {
  int64_t scored_tokens = 0;
  int64_t window_tokens = 0;
  std::string window_field;  // The config field(s) that set window_tokens.
};

// What an experiment loaded once for all of its runs. The references outlive the run.
struct ProtocolInputs {
  const model::ModelFiles& files;
  const model::DecoderModel& model;
  tokenizer::Tokenizer& tokenizer;
  const std::string& text;
  // The text's tokens, BOS first when `bos`.
  const std::vector<int32_t>& tokens;
  // The protocol's BosMode asked for BOS (Protocol::Bos); sequences cut from the text
  // then start with BOS too, where the protocol says so.
  bool bos = false;
  // Where a protocol that runs many independent samples may keep those the batch
  // finished (SampleProgress), so an interrupted batch resumes at its next sample, and
  // the key a kept file must carry to be reused: the batch's run fingerprints. Empty:
  // keep nothing. The runner removes the file once the batch's runs are written.
  std::string progress_file;
  std::string progress_key;
  // A run sharded by samples (Protocol::SampleGroups) runs only the groups g with
  // g % sample_shards == sample_shard, and keeps them in `progress_file`.
  int sample_shard = 0;
  int sample_shards = 1;
  // Progress files that sample shards of this batch wrote, under the same key: read,
  // never written; their samples count as finished.
  std::vector<std::string> shard_progress_files;
};

// What a protocol's run gave one cache.
struct ProtocolOutcome {
  // The perplexity protocols' result; a protocol that scores answers fills in the
  // cache's bytes, tokens and time only.
  eval::PerplexityResult result;
  // Retrieval's answers per context length and depth; empty under other protocols.
  std::vector<retrieval::RetrievalCell> retrieval;
  // Positions per bucket of result.bucket_nll_sum (0: no NLL-by-position curve).
  int32_t bucket_size = 0;
  // What else the protocol reports (RULER: its scores and per-sample records), written
  // as is under "details" in the run's file; null when nothing.
  nlohmann::ordered_json details;
};

class Protocol {
 public:
  virtual ~Protocol() = default;

  // The registered name: the protocol's field in Experiment's `protocol` oneof. Result
  // records and error messages carry it.
  virtual std::string Name() const = 0;

  // Fills the defaults of the protocol's config message in `e` and checks its fields.
  // Errors name the field as "<name>.<field>" and what was expected. Called by the
  // config loader before the sweeps are expanded.
  virtual absl::Status FillDefaultsAndValidate(config::Experiment& e) const = 0;

  // Checks that caches[index] of `e` (sweeps expanded, defaults filled) makes sense
  // under the protocol; errors name "caches[index] '<name>'". Default: any cache does.
  virtual absl::Status ValidateCache(const config::Experiment& e, int index) const;

  // Whether the text starts with BOS (BOS_AUTO: as the model's tokenizer says).
  // Default BOS_AUTO, for a protocol whose message has no `bos` field.
  virtual config::BosMode Bos(const config::Experiment& e) const;

  // The tokens a fractional eviction budget refers to, on a text of `text_tokens`
  // tokens: the context a cache must hold.
  virtual int64_t BudgetReferenceTokens(const config::Experiment& e,
                                        int64_t text_tokens) const = 0;

  // How many predictions it scores on a text of `text_tokens` tokens, and the longest
  // run of positions one cache sees.
  virtual ProtocolExtent Extent(const config::Experiment& e, int64_t text_tokens) const = 0;

  // The most positions a cache that evicts and rotates keys by their slot
  // (POSITION_CACHE_SLOT) sees beyond its largest layer budget: the tokens one step
  // adds before the cache evicts. 0 when such a cache can still see the whole window
  // (it grows after a compression, or it is sent all of it in one step).
  virtual int64_t TokensPerStep(const config::Experiment& e) const = 0;

  // When its evicting caches evict. Default: whenever a step leaves a layer over its
  // budget.
  virtual EvictionSchedule Schedule(const config::Experiment& e) const;

  // Whether it scores predictions, so that it reports a perplexity (and the runner
  // holds it to min_scored_tokens, the aggregate draws perplexity plots). Default true.
  virtual bool ScoresPredictions() const { return true; }

  // How many groups its samples form that separate processes can run (each group every
  // cache of a batch, the groups' records gathered afterwards): a run sharded with
  // --shard=I/N then runs every batch on its share of the groups, keeping the records
  // in progress files, and an unsharded run gathers them and writes the runs. 0 (the
  // default): the protocol's sequences are not independent samples, and shards take
  // whole lockstep batches (shard.h).
  virtual int64_t SampleGroups(const config::Experiment&) const { return 0; }

  // Whether a cache's numbers must not depend on how many caches share its forwards:
  // true where caches leave a lockstep batch as they finish, so that each would
  // otherwise run in products of whatever size the others leave. Native weights then
  // pad small products (model::LoadOptions::row_independent_products). Default false.
  virtual bool NeedsRowIndependentProducts() const { return false; }

  // Whether its evicting caches can record what their evictions keep
  // (Experiment.record_evictions). Default false.
  virtual bool RecordsEvictions() const { return false; }

  // Adds what a run's result depends on in the protocol's settings to `fingerprint`,
  // an otherwise empty Experiment that is serialized into the run's fingerprint.
  // Default: a copy of the protocol's config message, in its oneof field. A setting
  // added later must leave the fingerprint unchanged at its default, so that finished
  // runs stay reusable.
  virtual void AddToFingerprint(const config::Experiment& e,
                                config::Experiment& fingerprint) const;

  // Runs one lockstep batch: a cache from each factory over the protocol's sequences,
  // one outcome per factory in order. Reports progress to `bar`.
  virtual absl::StatusOr<std::vector<ProtocolOutcome>> Run(
      const config::Experiment& e, const ProtocolInputs& in,
      absl::Span<const KvCacheFactory> make_caches, ProgressBar& bar) const = 0;
};

// The registry of protocols, keyed by their oneof field name.
PluginRegistry<Protocol>& ProtocolRegistry();

// The name of the experiment's protocol (its set oneof field), or "none".
std::string ProtocolName(const config::Experiment& e);

// The experiment's protocol. InvalidArgument when none is set, listing the
// registered ones; NotFound when the set one is not registered in this program.
absl::StatusOr<std::unique_ptr<Protocol>> FindProtocol(const config::Experiment& e);

// The registered protocols' names in the order of Experiment's `protocol` oneof,
// those for which `keep` holds when it is given.
std::vector<std::string> ProtocolNames(
    const std::function<bool(const Protocol&)>& keep = nullptr);

// "a, b or c" (`conjunction` "or"), for messages that list protocols.
// The most tokens cache `c` holds at once in its largest layer under `protocol`: for an
// evicting cache that the protocol holds to its budget between steps (TokensPerStep >
// 0), its largest layer budget plus one step's tokens, when that is below the window;
// `window_tokens` otherwise. Errors are the budget's (EvictionLayerBudgets), naming the
// field. The memory estimate and the trained-context guard both read it.
absl::StatusOr<int64_t> MostTokensHeld(const Protocol& protocol, const config::Experiment& e,
                                       const config::CacheConfig& c, int64_t window_tokens,
                                       int num_layers, int64_t reference_tokens);

std::string JoinNames(const std::vector<std::string>& names, const std::string& conjunction);

// Scoring settings every perplexity protocol takes from the experiment: the dense
// reference when compare_to_dense is set.
eval::ScoringOptions ScoringFor(const config::Experiment& e, const model::DecoderModel& model);

// One outcome per result, in order, each with the given NLL-by-position bucket size.
std::vector<ProtocolOutcome> PerplexityOutcomes(std::vector<eval::PerplexityResult> results,
                                               int32_t bucket_size = 0);

// Registers `make` under `name`; aborts at start-up when Experiment's `protocol`
// oneof has no message field `name`, when the made protocol's Name() is not `name`, or
// when the name is taken. Returns true, to initialise a static.
bool RegisterProtocol(const std::string& name, std::function<std::unique_ptr<Protocol>()> make);

}  // namespace kvlab::experiments

// Registers the class `Class` (default-constructible, derived from Protocol) as the
// protocol `name` (an identifier: its field name in Experiment's `protocol` oneof).
// The library holding this line must be alwayslink (kvlab_protocol() makes it so).
#define KVLAB_REGISTER_PROTOCOL(name, Class)                                          \
  static const bool kvlab_protocol_registered_##name =                                \
      ::kvlab::experiments::RegisterProtocol(#name, [] {                              \
        return std::unique_ptr<::kvlab::experiments::Protocol>(std::make_unique<Class>()); \
      })

#endif  // KVLAB_EXPERIMENTS_PROTOCOLS_PROTOCOL_H_
