#include "eval/perplexity/memory_tracker.h"

#include <algorithm>

namespace kvlab::eval {

void MemoryTracker::Observe(const KvCache& cache) {
  const CacheMemory m = cache.Memory();
  state_.peak_held = std::max(state_.peak_held, m.peak_held_bytes);
  state_.peak_allocated = std::max(state_.peak_allocated, m.allocated_bytes);
  state_.peak_metadata = std::max(state_.peak_metadata, m.metadata_bytes);
  if (m.held_tokens > 0) {
    // held_tokens counts a token once per layer: this is what one token costs over all
    // layers.
    state_.bytes_per_token_sum +=
        static_cast<double>(m.held_bytes) * cache.num_layers() / m.held_tokens;
    ++state_.observations;
  }
}

void MemoryTracker::Merge(const MemoryTracker& other) {
  const State& o = other.state_;
  state_.peak_held = std::max(state_.peak_held, o.peak_held);
  state_.peak_allocated = std::max(state_.peak_allocated, o.peak_allocated);
  state_.peak_metadata = std::max(state_.peak_metadata, o.peak_metadata);
  state_.bytes_per_token_sum += o.bytes_per_token_sum;
  state_.observations += o.observations;
}

void MemoryTracker::WriteTo(PerplexityResult& result) const {
  result.peak_held_bytes = state_.peak_held;
  result.peak_allocated_bytes = state_.peak_allocated;
  result.peak_metadata_bytes = state_.peak_metadata;
  if (state_.observations > 0) {
    result.mean_bytes_per_token = state_.bytes_per_token_sum / state_.observations;
  }
}

}  // namespace kvlab::eval
