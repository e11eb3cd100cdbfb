#include "experiments/run_store.h"

#include <cstdlib>
#include <filesystem>

#include "base/files.h"
#include "base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab::experiments {
namespace {

using ::testing::HasSubstr;

class RunStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::path(std::getenv("TEST_TMPDIR")) /
            ::testing::UnitTest::GetInstance()->current_test_info()->name())
               .string();
    std::filesystem::remove_all(dir_);
  }
  void Store(const std::string& name, const std::string& fingerprint) {
    RunRecord record;
    record.name = name;
    record.protocol = "chunked";
    record.fingerprint = fingerprint;
    record.result.nll_sum = 12.5;
    record.result.tokens_scored = 4;
    ASSERT_THAT(WriteFileAtomically(RunFile(dir_, name), RunToJson(record)), IsOk());
  }
  std::string dir_;
};

TEST_F(RunStoreTest, PathsSitInRuns) {
  EXPECT_EQ(RunFile("out", "h2o-b64"), "out/runs/h2o-b64.json");
  EXPECT_EQ(RunLockFile("out", "h2o-b64"), "out/runs/h2o-b64.lock");
}

TEST_F(RunStoreTest, ProgressFilesOfTheWholeRunAndOfSampleShards) {
  EXPECT_EQ(ProgressFile("out", "dense"), "out/runs/dense.progress.jsonl");
  EXPECT_EQ(ProgressFile("out", "dense", Shard{1, 3}), "out/runs/dense.progress.1-of-3.jsonl");
  EXPECT_TRUE(SampleShardProgressFiles(dir_).empty());  // No runs folder yet.
  for (const std::string& name :
       {"dense.progress.jsonl", "dense.progress.1-of-3.jsonl", "dense.progress.0-of-2.jsonl",
        "dense.progress.1-of-3.lock", "dense.progress.3-of-3.jsonl", "int8.progress.0-of-2.jsonl",
        "dense.json"}) {
    ASSERT_THAT(WriteFileAtomically(dir_ + "/runs/" + name, "x"), IsOk());
  }
  EXPECT_THAT(SampleShardProgressFiles(dir_, "dense"),
              ::testing::ElementsAre(dir_ + "/runs/dense.progress.0-of-2.jsonl",
                                     dir_ + "/runs/dense.progress.1-of-3.jsonl"));
  EXPECT_EQ(SampleShardProgressFiles(dir_).size(), 3u);
}

TEST_F(RunStoreTest, LoadsARunWithTheSameFingerprint) {
  Store("a", "f1");
  absl::StatusOr<RunRecord> run = LoadFinishedRun(dir_, "a", "f1");
  ASSERT_THAT(run, IsOk());
  EXPECT_EQ(run->name, "a");
  EXPECT_EQ(run->result.nll_sum, 12.5);
}

TEST_F(RunStoreTest, TellsMissingFromStaleFromGarbled) {
  Store("a", "f1");
  EXPECT_THAT(LoadFinishedRun(dir_, "b", "f1"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("runs/b.json: not run yet")));
  EXPECT_THAT(LoadFinishedRun(dir_, "a", "f2"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("runs/a.json: fingerprint f1 differs from the config's f2")));
  ASSERT_THAT(WriteFileAtomically(RunFile(dir_, "c"), "{\"name\": 3"), IsOk());
  EXPECT_THAT(LoadFinishedRun(dir_, "c", "f1"),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("runs/c.json")));
}

}  // namespace
}  // namespace kvlab::experiments
