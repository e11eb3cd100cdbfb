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
  // What a tracker has seen, to keep on disk and read back (a RULER sample's record).
  struct State {
    int64_t peak_held = 0;
    int64_t peak_allocated = 0;
    int64_t peak_metadata = 0;
    double bytes_per_token_sum = 0.0;
    int64_t observations = 0;
  };

  MemoryTracker() = default;
  explicit MemoryTracker(const State& state) : state_(state) {}

  // Call after each step.
  void Observe(const KvCache& cache);
  // Folds in another tracker's steps (another sample's): the larger peaks, and the
  // mean over both trackers' steps.
  void Merge(const MemoryTracker& other);
  // Sets the result's peak_*_bytes and mean_bytes_per_token.
  void WriteTo(PerplexityResult& result) const;

  const State& state() const { return state_; }

 private:
  State state_;
};

}  // namespace kvlab::eval

#endif  // KVLAB_EVAL_PERPLEXITY_MEMORY_TRACKER_H_
