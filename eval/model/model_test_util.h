// What the model tests share: the logits of one full causal forward against those of
// token-by-token decoding through a cache, and how far apart two logit tensors are.
#ifndef KVLAB_EVAL_MODEL_MODEL_TEST_UTIL_H_
#define KVLAB_EVAL_MODEL_MODEL_TEST_UTIL_H_

#include <ATen/core/Tensor.h>

#include "eval/model/decoder_model.h"

namespace kvlab::model {

// Logits [n, vocab] of `tokens` [n] in one forward (`full`) and one token at a time
// through a dense cache (`streamed`). Adds a test failure (and returns) on an error.
void FullAndStreamedLogits(const DecoderModel& model, const at::Tensor& tokens, at::Tensor& full,
                           at::Tensor& streamed);

// max |actual - expected| / max |expected|.
double MaxRelativeError(const at::Tensor& actual, const at::Tensor& expected);

}  // namespace kvlab::model

#endif  // KVLAB_EVAL_MODEL_MODEL_TEST_UTIL_H_
