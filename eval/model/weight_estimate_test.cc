#include "eval/model/weight_estimate.h"

#include <ATen/ATen.h>

#include "base/status_matchers.h"
#include "eval/testing/default_model.h"
#include "gtest/gtest.h"

namespace kvlab::model {
namespace {

// The estimate, from the file alone, is what the load then holds: fp32 (dequantized)
// and native (the file's blocks) alike. SmolLM2's output projection is its embedding.
TEST(WeightEstimateTest, MatchesWhatTheDefaultModelsLoadHolds) {
  ASSERT_OK_AND_ASSIGN(auto files, ModelFiles::Open(testing::kDefaultModelPath));
  for (const bool native_weights : {false, true}) {
    SCOPED_TRACE(native_weights ? "native" : "fp32");
    LoadOptions options;
    options.native_weights = native_weights;
    ASSERT_OK_AND_ASSIGN(auto model, LoadModel(*files, options));
    EXPECT_EQ(EstimateWeightBytes(*files, options), model->WeightBytes());
  }
}

TEST(WeightEstimateTest, Bf16HalvesTheMatrices) {
  ASSERT_OK_AND_ASSIGN(auto files, ModelFiles::Open(testing::kDefaultModelPath));
  LoadOptions fp32, bf16;
  bf16.weight_dtype = at::kBFloat16;
  EXPECT_LT(EstimateWeightBytes(*files, bf16), EstimateWeightBytes(*files, fp32) * 0.51);
}

}  // namespace
}  // namespace kvlab::model
