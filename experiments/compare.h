// Side-by-side comparison of result sets (results.json files).
#ifndef KVLAB_EXPERIMENTS_COMPARE_H_
#define KVLAB_EXPERIMENTS_COMPARE_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "experiments/results.h"

namespace kvlab::experiments {

struct ResultSet {
  std::string label;  // Shown in the header: usually the file's directory name.
  std::vector<RunRecord> records;
  // Per run name, its per-token NLLs where the set kept them (runs/<name>.nll).
  absl::flat_hash_map<std::string, std::vector<float>> token_nlls;
};

// A markdown table with one row per run name (in order of first appearance) and, for
// each set, its perplexity and KV bytes per token; for every set after the first, the
// perplexity change against the first set (absolute and %), and, where both sets kept
// the run's per-token NLLs over the same tokens, the paired 95% interval of that change
// (a column shown only when some run has one). Missing runs are blank.
std::string CompareTable(const std::vector<ResultSet>& sets);

}  // namespace kvlab::experiments

#endif  // KVLAB_EXPERIMENTS_COMPARE_H_
