// CheckModelFits: before a CPU experiment loads its model, refuse one whose weights and
// caches would not fit in the machine's available memory, with a one-line error giving
// both figures, instead of letting it swap or be killed part way.
//
// The weights count as the load will hold them (weight_estimate.h: fp32, bf16, fp16 or
// native block formats). The caches count as the most a lockstep batch holds at once:
// batch_caches caches (and the dense reference when compare_to_dense is on), each a
// dense fp32 cache of the most tokens any of the experiment's caches holds (an evicting
// cache: its largest layer budget plus a step; otherwise the protocol's longest window).
// Quantized caches hold less, so this is an upper bound.
#ifndef KVLAB_EXPERIMENTS_MEMORY_CHECK_H_
#define KVLAB_EXPERIMENTS_MEMORY_CHECK_H_

#include <cstdint>

#include "absl/status/status.h"
#include "eval/model/decoder_model.h"
#include "eval/model/load_model.h"
#include "experiments/experiment.pb.h"

namespace kvlab::experiments {

// The caches' bytes described above, for `info`'s model on a text of `text_tokens`.
absl::StatusOr<int64_t> EstimateCacheBytes(const config::Experiment& e,
                                           const model::ModelInfo& info, int64_t text_tokens);

// ResourceExhausted (both figures and `available_bytes`) if the weights of `files`
// loaded as `options` and the caches of `e` exceed `available_bytes`; for a GGUF loaded
// dequantized, the message also gives the native weights' bytes.
absl::Status CheckModelFits(const config::Experiment& e, const model::ModelFiles& files,
                            const model::LoadOptions& options, int64_t text_tokens,
                            int64_t available_bytes);

}  // namespace kvlab::experiments

#endif  // KVLAB_EXPERIMENTS_MEMORY_CHECK_H_
