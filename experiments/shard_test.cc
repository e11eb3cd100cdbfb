#include "experiments/shard.h"

#include <set>

#include "base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab::experiments {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(ShardTest, ParsesIndexOverCount) {
  absl::StatusOr<Shard> shard = ParseShard("2/3", "--shard");
  ASSERT_THAT(shard, IsOk());
  EXPECT_EQ(shard->index, 2);
  EXPECT_EQ(shard->count, 3);
  EXPECT_EQ(shard->ToString(), "2/3");
  EXPECT_FALSE(shard->is_whole());
  ASSERT_OK_AND_ASSIGN(const Shard whole, ParseShard("0/1", "--shard"));
  EXPECT_TRUE(whole.is_whole());
}

TEST(ShardTest, RejectsMalformedShardsNamingTheSource) {
  for (const char* bad : {"3/3", "-1/3", "1/0", "1", "a/3", "1/3/4", "", "1/-2"}) {
    EXPECT_THAT(ParseShard(bad, "--shard"),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr(std::string("--shard: expected I/N with 0 <= I < N (e.g. 0/3), got '") +
                                   bad + "'")))
        << bad;
  }
}

TEST(ShardTest, BatchesAreConsecutiveInConfigOrder) {
  EXPECT_THAT(LockstepBatches(5, 2),
              ElementsAre(ElementsAre(0, 1), ElementsAre(2, 3), ElementsAre(4)));
  EXPECT_THAT(LockstepBatches(3, 1), ElementsAre(ElementsAre(0), ElementsAre(1), ElementsAre(2)));
  EXPECT_THAT(LockstepBatches(2, 8), ElementsAre(ElementsAre(0, 1)));
  EXPECT_TRUE(LockstepBatches(0, 4).empty());
}

TEST(ShardTest, ShardsCoverEveryBatchOnceAndKeepBatchesWhole) {
  for (int caches : {1, 6, 7, 31}) {
    for (int batch : {1, 2, 5}) {
      for (int count : {1, 2, 3, 8}) {
        std::vector<std::vector<int>> together;
        for (int index = 0; index < count; ++index) {
          for (auto& b : ShardBatches(caches, batch, Shard{index, count})) together.push_back(b);
        }
        std::sort(together.begin(), together.end());
        EXPECT_EQ(together, LockstepBatches(caches, batch))
            << caches << " caches, batches of " << batch << ", " << count << " shards";
      }
    }
  }
}

TEST(ShardTest, BatchesAreDealtRoundRobin) {
  EXPECT_THAT(ShardBatches(6, 2, Shard{0, 3}), ElementsAre(ElementsAre(0, 1)));
  EXPECT_THAT(ShardBatches(6, 2, Shard{2, 3}), ElementsAre(ElementsAre(4, 5)));
  EXPECT_THAT(ShardBatches(7, 1, Shard{1, 3}),
              ElementsAre(ElementsAre(1), ElementsAre(4)));
  EXPECT_TRUE(ShardBatches(2, 1, Shard{2, 3}).empty());
}

}  // namespace
}  // namespace kvlab::experiments
