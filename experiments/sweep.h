// Expanding sweeps (experiment.proto's Sweep) into cache configurations.
#ifndef KVLAB_EXPERIMENTS_SWEEP_H_
#define KVLAB_EXPERIMENTS_SWEEP_H_

#include <vector>

#include "absl/status/statusor.h"
#include "experiments/experiment.pb.h"

namespace kvlab::experiments {

// The most caches one sweep may generate.
inline constexpr size_t kMaxSweepCaches = 10000;

// The caches of one sweep, in axis order (policies vary slowest, position modes
// fastest), each named after the axes that vary (and, in a sweep without a name, its
// policy even when it is the only one). Errors name the sweep's field.
absl::StatusOr<std::vector<config::CacheConfig>> ExpandSweep(const config::Sweep& sweep);

}  // namespace kvlab::experiments

#endif  // KVLAB_EXPERIMENTS_SWEEP_H_
