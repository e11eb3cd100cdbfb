#include "experiments/merge.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "absl/strings/str_format.h"
#include "base/files.h"
#include "base/status_matchers.h"
#include "experiments/fingerprint.h"
#include "experiments/run_lock.h"
#include "experiments/run_settings.h"
#include "experiments/run_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab::experiments {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kModelHash[] = "0123456789abcdef0123456789abcdef";
constexpr char kTextHash[] = "fedcba9876543210fedcba9876543210";
constexpr int kThreads = 2;
constexpr char kBuild[] = "libtorch 2.11.0, AVX2";

class MergeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::path(std::getenv("TEST_TMPDIR")) /
            ::testing::UnitTest::GetInstance()->current_test_info()->name())
               .string();
    std::filesystem::remove_all(dir_);
    experiment_.mutable_chunked()->set_n_ctx(128);
    for (const char* name : {"a", "b", "c", "d"}) experiment_.add_caches()->set_name(name);
  }
  // Stores cache `i`'s run as a shard would, with the fingerprint of `experiment`.
  void Finish(int i, const config::Experiment& experiment) {
    RunRecord record;
    record.name = experiment.caches(i).name();
    record.protocol = "chunked";
    record.fingerprint =
        WithRunSettings(RunFingerprint(experiment, experiment.caches(i), kModelHash, kTextHash),
                        experiment, i, kThreads, kBuild);
    record.result.nll_sum = 10.0 + i;
    record.result.tokens_scored = 4;
    ASSERT_THAT(WriteFileAtomically(RunFile(dir_, record.name), RunToJson(record)), IsOk());
  }
  std::string dir_;
  config::Experiment experiment_;
};

TEST_F(MergeTest, CollectsEveryFinishedRunInConfigOrder) {
  for (int i : {3, 0, 2, 1}) Finish(i, experiment_);
  const MergedRuns merged = CollectFinishedRuns(experiment_, dir_, kModelHash, kTextHash, kThreads, kBuild);
  EXPECT_TRUE(merged.complete());
  ASSERT_EQ(merged.records.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(merged.records[i].name, experiment_.caches(i).name());
    EXPECT_EQ(merged.records[i].result.nll_sum, 10.0 + i);
  }
}

TEST_F(MergeTest, ReportsMissingRunsAndThoseInProgress) {
  Finish(0, experiment_);
  Finish(2, experiment_);
  absl::StatusOr<RunLock> lock = RunLock::Acquire(RunLockFile(dir_, "b"));
  ASSERT_THAT(lock, IsOk());
  const MergedRuns merged =
      CollectFinishedRuns(experiment_, dir_, kModelHash, kTextHash, kThreads, kBuild);
  EXPECT_FALSE(merged.complete());
  ASSERT_EQ(merged.records.size(), 2u);
  EXPECT_EQ(merged.records[1].name, "c");
  EXPECT_THAT(merged.missing,
              ElementsAre(absl::StrFormat("b (in progress: %s)", LockOwner::Current().Describe()),
                          "d"));
  EXPECT_TRUE(merged.refused.empty());
}

TEST_F(MergeTest, RefusesRunsOfAnotherConfigModelOrText) {
  for (int i = 0; i < 4; ++i) Finish(i, experiment_);
  config::Experiment changed = experiment_;
  changed.mutable_chunked()->set_n_ctx(256);  // Another protocol: every fingerprint changes.
  Finish(1, changed);
  MergedRuns merged =
      CollectFinishedRuns(experiment_, dir_, kModelHash, kTextHash, kThreads, kBuild);
  ASSERT_EQ(merged.records.size(), 3u);
  ASSERT_EQ(merged.refused.size(), 1u);
  EXPECT_THAT(merged.refused[0], HasSubstr("runs/b.json: fingerprint"));
  EXPECT_THAT(merged.refused[0], HasSubstr("differs from the config's"));

  merged = CollectFinishedRuns(experiment_, dir_, kModelHash, "another text hash", kThreads,
                               kBuild);
  EXPECT_TRUE(merged.records.empty());
  EXPECT_EQ(merged.refused.size(), 4u);
}

// Runs made with other threads or other libraries are refused, not mixed in.
TEST_F(MergeTest, RefusesRunsMadeWithOtherThreadsOrLibraries) {
  for (int i = 0; i < 4; ++i) Finish(i, experiment_);
  EXPECT_EQ(CollectFinishedRuns(experiment_, dir_, kModelHash, kTextHash, kThreads + 1, kBuild)
                .refused.size(),
            4u);
  EXPECT_EQ(
      CollectFinishedRuns(experiment_, dir_, kModelHash, kTextHash, kThreads, "libtorch 2.12.0")
          .refused.size(),
      4u);
}

}  // namespace
}  // namespace kvlab::experiments
