// Result records of experiment runs, and their table, JSON, CSV and markdown forms.
#ifndef KVLAB_EXPERIMENTS_RESULTS_H_
#define KVLAB_EXPERIMENTS_RESULTS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/statistics.h"
#include "eval/perplexity/perplexity.h"
#include "eval/retrieval/retrieval.h"
#include "nlohmann/json.hpp"

namespace kvlab::experiments {

// One cache configuration's run of an experiment.
struct RunRecord {
  std::string name;      // The cache configuration's name.
  std::string protocol;  // "chunked", "streaming" or "prefill_compress".
  std::string keys;      // How keys were stored ("fp32", "int4 ...").
  std::string values;
  std::string eviction;  // "none", or the policy and its budget.
  std::string policy;    // The eviction policy's name, or "" for none.
  int64_t budget = 0;    // The eviction budget in tokens (mean over layers), or 0.
  std::string position_mode;
  std::string fingerprint;  // What the result depends on (fingerprint.h).
  eval::PerplexityResult result;
  int64_t elements_per_token = 0;  // 2 * layers * kv_heads * head_dim.
  int64_t bucket_size = 0;         // Streaming only.
  std::string weights_dtype;       // "fp32", "bf16", "fp16" or "native" (the weights).
  int64_t weight_bytes = 0;        // Bytes of the model's weights in that dtype.
  // Retrieval only: accuracy per prompt length and depth; `result` then holds the
  // bytes, tokens and time, and scores no predictions.
  std::vector<retrieval::RetrievalCell> retrieval;
  // With Experiment.record_evictions, evicting caches only: per layer, the mean share
  // of the last query's attention kept by the layer's evictions, over KV heads and
  // sequences; NaN for a layer that never evicted.
  std::vector<double> retained_mass_by_layer;
  // With Experiment.keep_token_nlls, set when the table is made: the paired 95%
  // interval of the perplexity change against the baseline run, in percent
  // (token_nlls.h). Not read back from results.json.
  std::optional<Interval> paired_change_ci95;
  // What else the protocol reported (ProtocolOutcome::details), as it reported it;
  // null when nothing.
  nlohmann::ordered_json details;

  double kv_bytes_per_token() const { return result.mean_bytes_per_token; }
  // Bits held per cached K or V element, scales and residual tokens included.
  double bits_per_element() const;
  // How many times smaller than an fp16 cache, and than the model's fp32 cache.
  double compression_vs_fp16() const;
  double compression_vs_fp32() const;
  bool is_retrieval() const { return !retrieval.empty(); }
  // Correct answers over all trials of every cell (retrieval only).
  double retrieval_accuracy() const;
  // Whether keys and values are dense fp32 and nothing is evicted.
  bool is_dense_baseline() const;
};

// The change from perplexity `base` to `perplexity`: absolute, and in percent.
std::pair<double, double> PerplexityDelta(double base, double perplexity);

// Index of the baseline: the run named `name` if given, else the first dense run
// without eviction; -1 if there is none.
int FindBaseline(const std::vector<RunRecord>& records, absl::string_view name);

// A markdown table: config, perplexity, its delta against the baseline (absolute and
// %), tokens scored, KV bytes per token, bits per element, compression against fp16
// and against the model's own fp32 cache, peak KV bytes, tokens/s.
// Retrieval records instead get: config, accuracy overall and per prompt length, KV
// bytes per token, bits per element, compression, peak KV, tokens/s; then a second
// table of accuracy by depth.
std::string FormatTable(const std::vector<RunRecord>& records, int baseline);

// JSON: a list of objects with at least name, perplexity, tokens_scored,
// kv_bytes_per_token, peak_kv_bytes and tokens_per_second, and everything needed to
// read the records back.
std::string ToJson(const std::vector<RunRecord>& records);
std::string RunToJson(const RunRecord& record);
// CSV: one row per record, the scalar fields of the JSON plus the deltas.
std::string ToCsv(const std::vector<RunRecord>& records, int baseline);

// Reads back what ToJson() / RunToJson() wrote. Errors name `source`.
absl::StatusOr<std::vector<RunRecord>> ParseResultsJson(absl::string_view text,
                                                        const std::string& source);
absl::StatusOr<RunRecord> ParseRunJson(absl::string_view text, const std::string& source);

// Writes results.json, results.csv and results.md into `dir` (created if needed),
// each atomically. `title` heads the markdown.
absl::Status WriteResults(const std::string& dir, const std::vector<RunRecord>& records,
                          int baseline, const std::string& title);

}  // namespace kvlab::experiments

#endif  // KVLAB_EXPERIMENTS_RESULTS_H_
