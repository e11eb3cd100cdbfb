// Result records of experiment runs, and their table, JSON and CSV forms.
#ifndef KVLAB_EXPERIMENTS_RESULTS_H_
#define KVLAB_EXPERIMENTS_RESULTS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "eval/perplexity/perplexity.h"

namespace kvlab::experiments {

// One cache configuration's run of an experiment.
struct RunRecord {
  std::string name;      // The cache configuration's name.
  std::string protocol;  // "chunked", "streaming" or "prefill_compress".
  std::string keys;      // How keys were stored ("fp32", "int4 ...").
  std::string values;
  std::string eviction;  // "none", or the policy and its budget.
  std::string position_mode;
  eval::PerplexityResult result;
  // Bytes a dense fp32 / fp16 cache would hold per token, for the ratios below.
  int64_t dense_fp32_bytes_per_token = 0;
  int64_t elements_per_token = 0;  // 2 * layers * kv_heads * head_dim.
  int64_t bucket_size = 0;         // Streaming only.

  double kv_bytes_per_token() const { return result.mean_bytes_per_token; }
  // Bits held per cached K or V element, scales and residual tokens included.
  double bits_per_element() const;
  // How many times smaller than an fp16 cache, and than the model's fp32 cache.
  double compression_vs_fp16() const;
  double compression_vs_fp32() const;
};

// A fixed-width table: config, perplexity, tokens scored, KV bytes per token, peak KV
// bytes, tokens/s (and more).
std::string FormatTable(const std::vector<RunRecord>& records);

// results.json: a list of objects with at least name, perplexity, tokens_scored,
// kv_bytes_per_token, peak_kv_bytes and tokens_per_second.
std::string ToJson(const std::vector<RunRecord>& records);
// results.csv: one row per record, the scalar fields of the JSON.
std::string ToCsv(const std::vector<RunRecord>& records);

// Writes results.json and results.csv into `dir` (created if needed), each atomically.
absl::Status WriteResults(const std::string& dir, const std::vector<RunRecord>& records);

}  // namespace kvlab::experiments

#endif  // KVLAB_EXPERIMENTS_RESULTS_H_
