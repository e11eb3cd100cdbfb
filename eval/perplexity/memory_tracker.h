// MemoryTracker: one run's cache footprint across its steps, as PerplexityResult
// reports it (peaks, and the held bytes per token averaged over steps).
#ifndef KVLAB_EVAL_PERPLEXITY_MEMORY_TRACKER_H_
#define KVLAB_EVAL_PERPLEXITY_MEMORY_TRACKER_H_

#include <cstdint>

#include "core/kv_cache.h"
#include "eval/perplexity/perplexity.h"

namespace kvlab::eval {

class MemoryTracker {
 public:
  // Call after each step.
  void Observe(const KvCache& cache);
  // Sets the result's peak_*_bytes and mean_bytes_per_token.
  void WriteTo(PerplexityResult& result) const;

 private:
  int64_t peak_held_ = 0;
  int64_t peak_allocated_ = 0;
  int64_t peak_metadata_ = 0;
  double bytes_per_token_sum_ = 0.0;
  int64_t observations_ = 0;
};

}  // namespace kvlab::eval

#endif  // KVLAB_EVAL_PERPLEXITY_MEMORY_TRACKER_H_
