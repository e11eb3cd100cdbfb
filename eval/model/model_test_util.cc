#include "eval/model/model_test_util.h"

#include <ATen/ATen.h>

#include <vector>

#include "base/status_matchers.h"
#include "gtest/gtest.h"

namespace kvlab::model {

void FullAndStreamedLogits(const DecoderModel& model, const at::Tensor& tokens, at::Tensor& full,
                           at::Tensor& streamed) {
  ASSERT_OK_AND_ASSIGN(auto full_cache, model.NewDenseCache());
  ASSERT_OK_AND_ASSIGN(const at::Tensor full_hidden,
                       model.Forward(tokens.unsqueeze(0), 0, {full_cache.get()}));
  full = model.Logits(full_hidden).squeeze(0);
  ASSERT_OK_AND_ASSIGN(auto stream_cache, model.NewDenseCache());
  std::vector<at::Tensor> rows;
  for (int64_t t = 0; t < tokens.size(0); ++t) {
    ASSERT_OK_AND_ASSIGN(const at::Tensor hidden, model.Forward(tokens.narrow(0, t, 1).unsqueeze(0),
                                                                t, {stream_cache.get()}));
    rows.push_back(model.Logits(hidden).squeeze(0));
  }
  streamed = at::cat(rows, 0);
}

double MaxRelativeError(const at::Tensor& actual, const at::Tensor& expected) {
  return ((actual - expected).abs().max() / expected.abs().max()).item<double>();
}

}  // namespace kvlab::model
