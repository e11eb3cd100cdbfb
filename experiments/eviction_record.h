// What recording evicting caches kept (Experiment.record_evictions), as results carry
// it: the retained attention mass by layer in the run's record, and every sequence's
// record in a file of its own beside the run's:
//
//   <output_dir>/runs/<name>.evictions.json
//     {"name": ..., "sequences": [            one per chunk, window or stream
//        {"layers": [                        one per layer
//           {"layer": 0, "evictions": 1,
//            "retained_mass": [0.93, ...],   per KV head, mean over the evictions
//            "kept_positions": [[...], ...]} per KV head: what the latest eviction kept
//        ]}]}
#ifndef KVLAB_EXPERIMENTS_EVICTION_RECORD_H_
#define KVLAB_EXPERIMENTS_EVICTION_RECORD_H_

#include <string>
#include <vector>

#include "eval/perplexity/perplexity.h"

namespace kvlab::experiments {

using SequenceEvictions = std::vector<eval::LayerEvictionRecord>;  // One per layer.

// Per layer, the mean retained mass over KV heads and the sequences in which the layer
// evicted; NaN where it never did. Empty when nothing was recorded.
std::vector<double> RetainedMassByLayer(const std::vector<SequenceEvictions>& sequences);

std::string EvictionsFile(const std::string& output_dir, const std::string& name);
std::string EvictionsToJson(const std::string& name,
                            const std::vector<SequenceEvictions>& sequences);

}  // namespace kvlab::experiments

#endif  // KVLAB_EXPERIMENTS_EVICTION_RECORD_H_
