// EstimateWeightBytes: the bytes a model's weights will hold once loaded as `options`
// asks, read from the file's tensor descriptions before anything is loaded, so a model
// that cannot fit is refused before it swaps or is killed (experiment_runner.cc).
//
// Matrices count at the load's dtype (fp32: 4 bytes an element, bf16 and fp16: 2) or,
// native, at their stored block-format size; vectors (norms, biases) at fp32. This is
// what WeightBytes() reports after the load, give or take the tensors a model does not
// use.
#ifndef KVLAB_EVAL_MODEL_WEIGHT_ESTIMATE_H_
#define KVLAB_EVAL_MODEL_WEIGHT_ESTIMATE_H_

#include <cstdint>

#include "eval/model/decoder_model.h"
#include "eval/model/load_model.h"

namespace kvlab::model {

int64_t EstimateWeightBytes(const ModelFiles& files, const LoadOptions& options);

}  // namespace kvlab::model

#endif  // KVLAB_EVAL_MODEL_WEIGHT_ESTIMATE_H_
