#include "kernels/attention_stats.h"

#include <ATen/ATen.h>

#include "base/status_matchers.h"
#include "gtest/gtest.h"
#include "kernels/kernel_test_util.h"

namespace kvlab::kernels {
namespace {

TEST(AccumulateAttentionTest, AddsHeadMeanOfQuerySums) {
  testing::FreshSeed();
  for (int64_t length : {1, 700, 3000}) {
    const at::Tensor probs = at::softmax(at::randn({3, 3, 5, length}), -1);
    const at::Tensor start = at::rand({3, length});
    at::Tensor sums = testing::InsideLargerBuffer(start);
    ASSERT_THAT(AccumulateAttention(probs, sums), IsOk());
    EXPECT_LT(testing::RelativeError(sums, start + probs.mean(1).sum(1)), 1e-6);
  }
}

}  // namespace
}  // namespace kvlab::kernels
