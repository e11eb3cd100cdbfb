// Side-by-side comparison of result sets (results.json files).
#ifndef KVLAB_EXPERIMENTS_COMPARE_H_
#define KVLAB_EXPERIMENTS_COMPARE_H_

#include <string>
#include <vector>

#include "experiments/results.h"

namespace kvlab::experiments {

struct ResultSet {
  std::string label;  // Shown in the header: usually the file's directory name.
  std::vector<RunRecord> records;
};

// A markdown table with one row per run name (in order of first appearance) and, for
// each set, its perplexity and KV bytes per token; for every set after the first, the
// perplexity change against the first set (absolute and %). Missing runs are blank.
std::string CompareTable(const std::vector<ResultSet>& sets);

}  // namespace kvlab::experiments

#endif  // KVLAB_EXPERIMENTS_COMPARE_H_
