#include "eval/perplexity/memory_tracker.h"

#include <algorithm>

namespace kvlab::eval {

void MemoryTracker::Observe(const KvCache& cache) {
  const CacheMemory m = cache.Memory();
  peak_held_ = std::max(peak_held_, m.peak_held_bytes);
  peak_allocated_ = std::max(peak_allocated_, m.allocated_bytes);
  peak_metadata_ = std::max(peak_metadata_, m.metadata_bytes);
  if (m.held_tokens > 0) {
    // held_tokens counts a token once per layer: this is what one token costs over all
    // layers.
    bytes_per_token_sum_ += static_cast<double>(m.held_bytes) * cache.num_layers() / m.held_tokens;
    ++observations_;
  }
}

void MemoryTracker::WriteTo(PerplexityResult& result) const {
  result.peak_held_bytes = peak_held_;
  result.peak_allocated_bytes = peak_allocated_;
  result.peak_metadata_bytes = peak_metadata_;
  if (observations_ > 0) result.mean_bytes_per_token = bytes_per_token_sum_ / observations_;
}

}  // namespace kvlab::eval
