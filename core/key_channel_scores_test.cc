#include "core/key_channel_scores.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

namespace kvlab {
namespace {

// Two query heads per KV head, a window of two queries, two keys, four channels:
//   mean_t q^2: head 0 [1, 0, 2, 0], head 1 [0, 1, 0, 2] -> group mean [.5, .5, 1, 1]
//   mean_t k^2 of keys [2, 3, 0, 3], [0, 1, 1, 1]: [2, 5, .5, 5]
//   scores [1, 2.5, .5, 5]: pruning 2 drops channels 2 and 0.
// The second KV head is the first with its channels reversed.
TEST(KeyChannelScoresTest, MatchesAHandComputedCase) {
  const at::Tensor group_queries = at::tensor({1.f, 0.f, 2.f, 0.f, 1.f, 0.f, 0.f, 0.f,  //
                                               0.f, 1.f, 0.f, 0.f, 0.f, 1.f, 0.f, 2.f})
                                       .view({2, 2, 4});
  const at::Tensor head_keys = at::tensor({2.f, 3.f, 0.f, 3.f, 0.f, 1.f, 1.f, 1.f}).view({1, 2, 4});
  const at::Tensor queries = at::cat({group_queries, group_queries.flip(2)}, 0);  // [4, 2, 4]
  const at::Tensor keys = at::cat({head_keys, head_keys.flip(2)}, 0);            // [2, 2, 4]

  const at::Tensor scores = KeyChannelScores(queries, keys);
  const at::Tensor expected = at::tensor({1.f, 2.5f, .5f, 5.f, 5.f, .5f, 2.5f, 1.f}).view({2, 4});
  EXPECT_TRUE(at::allclose(scores, expected)) << scores;

  const at::Tensor kept = KeptKeyChannels(scores, 2);
  EXPECT_TRUE(at::equal(kept, at::tensor({1, 3, 0, 2}, at::kLong).view({2, 2}))) << kept;
  // Pruning one drops only the lowest; pruning none keeps every channel.
  EXPECT_TRUE(at::equal(KeptKeyChannels(scores, 1),
                        at::tensor({0, 1, 3, 0, 2, 3}, at::kLong).view({2, 3})));
  EXPECT_TRUE(at::equal(KeptKeyChannels(scores, 0),
                        at::arange(4, at::kLong).repeat({2, 1})));
}

}  // namespace
}  // namespace kvlab
