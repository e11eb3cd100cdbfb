#include "experiments/shard.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

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

// Cache names as a sweep generates them.
std::vector<std::string> Names(int count) {
  std::vector<std::string> names;
  for (int i = 0; i < count; ++i) names.push_back(absl::StrCat("cache-", i));
  return names;
}

// Which shard of `count` runs each cache of `names` in batches of one.
std::map<std::string, int> ShardOfEachRun(const std::vector<std::string>& names, int count) {
  std::map<std::string, int> shard_of;
  for (int index = 0; index < count; ++index) {
    for (const std::vector<int>& batch : ShardBatches(names, 1, Shard{index, count})) {
      for (const int i : batch) shard_of[names[i]] = index;
    }
  }
  return shard_of;
}

TEST(ShardTest, ShardsCoverEveryBatchOnceAndKeepBatchesWhole) {
  for (int caches : {1, 6, 7, 31}) {
    for (int batch : {1, 2, 5}) {
      for (int count : {1, 2, 3, 8}) {
        std::vector<std::vector<int>> together;
        for (int index = 0; index < count; ++index) {
          for (auto& b : ShardBatches(Names(caches), batch, Shard{index, count})) {
            together.push_back(b);
          }
        }
        std::sort(together.begin(), together.end());
        EXPECT_EQ(together, LockstepBatches(caches, batch))
            << caches << " caches, batches of " << batch << ", " << count << " shards";
      }
    }
  }
}

TEST(ShardTest, AShardRunsItsBatchesInConfigOrder) {
  for (int index = 0; index < 3; ++index) {
    const std::vector<std::vector<int>> mine = ShardBatches(Names(40), 2, Shard{index, 3});
    EXPECT_TRUE(std::is_sorted(mine.begin(), mine.end())) << index;
  }
}

TEST(ShardTest, ABatchGoesWhereItsRunNamesHash) {
  const std::vector<std::string> names = {"none-fp32", "none-int4", "tova-fp32", "tova-int4"};
  for (int count : {2, 3, 5}) {
    for (int index = 0; index < count; ++index) {
      for (const std::vector<int>& batch : ShardBatches(names, 2, Shard{index, count})) {
        EXPECT_EQ(ShardOf({names[batch[0]], names[batch[1]]}, count), index);
      }
    }
  }
  // Pinned: XXH3-64 of "none-fp32\0none-int4\0" is 0x6aa2a712b361a00d (Python's
  // xxhash package gives the same), so that no build, platform or release of the
  // library can move a run to another shard unnoticed.
  constexpr uint64_t kHash = 0x6aa2a712b361a00dULL;
  for (int count : {1, 2, 3, 7, 32}) {
    EXPECT_EQ(ShardOf({"none-fp32", "none-int4"}, count), static_cast<int>(kHash % count));
  }
  // Names end at NUL: the same letters cut otherwise are another batch.
  int differs = 0;
  for (int count = 2; count < 40; ++count) {
    differs += ShardOf({"ab", "c"}, count) != ShardOf({"a", "bc"}, count);
  }
  EXPECT_GT(differs, 0);
}

TEST(ShardTest, InsertingACacheLeavesEveryOtherRunOnItsShard) {
  std::vector<std::string> names = Names(30);
  for (int count : {2, 3, 8}) {
    const std::map<std::string, int> before = ShardOfEachRun(names, count);
    std::vector<std::string> inserted = names;
    inserted.insert(inserted.begin() + 7, "new-cache");
    std::map<std::string, int> after = ShardOfEachRun(inserted, count);
    ASSERT_EQ(after.erase("new-cache"), 1u);
    EXPECT_EQ(after, before) << count << " shards";
  }
  // With lockstep pairs, the batches before the insertion keep their company and shard.
  const std::vector<std::string> before = Names(10);
  std::vector<std::string> after = before;
  after.insert(after.begin() + 6, "new-cache");
  for (int index = 0; index < 3; ++index) {
    std::vector<std::vector<int>> kept_before, kept_after;
    for (const auto& b : ShardBatches(before, 2, Shard{index, 3})) {
      if (b.back() < 6) kept_before.push_back(b);
    }
    for (const auto& b : ShardBatches(after, 2, Shard{index, 3})) {
      if (b.back() < 6) kept_after.push_back(b);
    }
    EXPECT_EQ(kept_after, kept_before) << index;
  }
}

TEST(ShardTest, HashingSpreadsManyBatchesOverEveryShard) {
  for (int count : {2, 3, 8}) {
    std::vector<int> batches(count);
    for (int index = 0; index < count; ++index) {
      batches[index] = static_cast<int>(ShardBatches(Names(400), 1, Shard{index, count}).size());
    }
    for (int index = 0; index < count; ++index) {
      EXPECT_GT(batches[index], 400 / count / 2) << index << " of " << count;
    }
  }
  EXPECT_TRUE(ShardBatches({}, 1, Shard{0, 3}).empty());
}

}  // namespace
}  // namespace kvlab::experiments
