// Whether a protocol's text starts with BOS (config::BosMode, experiment.proto).
//
// A protocol says which BosMode it follows (Protocol::Bos); BOS_AUTO follows the model's
// tokenizer.ggml.add_bos_token, as llama.cpp and transformers tokenize a prompt for
// the same model.
#ifndef KVLAB_EXPERIMENTS_BOS_MODE_H_
#define KVLAB_EXPERIMENTS_BOS_MODE_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "experiments/experiment.pb.h"

namespace kvlab::experiments {

// The BosMode of the experiment's protocol (BOS_AUTO when none is set or registered).
config::BosMode ProtocolBos(const config::Experiment& experiment);

// Whether the text starts with BOS under `mode`, for a model whose tokenizer asks for
// BOS (`model_adds_bos`) and whose BOS id is `bos_id` (-1: none). BOS asked for on a
// model without one is an error naming the protocol's `bos` field.
absl::StatusOr<bool> UseBos(const config::Experiment& experiment, bool model_adds_bos,
                            int32_t bos_id);

}  // namespace kvlab::experiments

#endif  // KVLAB_EXPERIMENTS_BOS_MODE_H_
