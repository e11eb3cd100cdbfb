#include "experiments/ruler_plots.h"

#include <filesystem>

#include "base/files.h"
#include "base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab::experiments {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A RULER run at 4096 tokens scoring `niah` and `vt` (fractions) and their mean.
RunRecord RulerRun(const std::string& name, int64_t budget, double niah, double vt,
                   int64_t peak) {
  RunRecord r;
  r.name = name;
  r.budget = budget;
  r.result.peak_held_bytes = peak;
  r.details["ruler_scores"] = {{{"task", "niah_single_1"}, {"length", 4096}, {"score", niah}},
                               {{"task", "vt"}, {"length", 4096}, {"score", vt}}};
  r.details["ruler_average"] = {{{"length", 4096}, {"tasks", 2}, {"score", (niah + vt) / 2}}};
  return r;
}

TEST(RulerPlotsTest, ScoreAgainstMemoryAndByTask) {
  const std::string dir = ::testing::TempDir() + "/ruler_plots";
  std::filesystem::create_directories(dir);
  const std::vector<RunRecord> runs = {RulerRun("dense", 0, 1.0, 0.5, 38 << 20),
                                       RulerRun("snapkv-b1024", 1024, 0.9, 0.25, 26 << 20),
                                       RulerRun("snapkv-b2048", 2048, 1.0, 0.5, 30 << 20),
                                       RulerRun("int8-token", 0, 1.0, 0.25, 10 << 20)};
  ASSERT_THAT(WriteRulerPlots(dir, runs, "demo", "ruler protocol, tiny"), IsOk());
  ASSERT_OK_AND_ASSIGN(const std::string memory,
                       ReadFileToString(dir + "/ruler_score_vs_memory.svg"));
  EXPECT_THAT(memory, HasSubstr(">snapkv</text>"));  // One line for both budgets.
  EXPECT_THAT(memory, HasSubstr(">Pareto front</text>"));
  EXPECT_THAT(memory, HasSubstr("RULER score, mean over tasks (%)"));
  EXPECT_THAT(memory, Not(HasSubstr("nan")));
  ASSERT_OK_AND_ASSIGN(const std::string by_task,
                       ReadFileToString(dir + "/ruler_score_by_task.svg"));
  EXPECT_THAT(by_task, HasSubstr(">niah_single_1</text>"));
  EXPECT_THAT(by_task, HasSubstr(">snapkv-b1024</text>"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/perplexity_vs_memory.svg"));
}

TEST(RulerPlotsTest, ManyRunsSplitByBudgetWithTheUnevictedInEach) {
  const std::string dir = ::testing::TempDir() + "/ruler_plots_split";
  std::filesystem::create_directories(dir);
  std::vector<RunRecord> runs = {RulerRun("dense", 0, 1.0, 0.5, 38 << 20)};
  for (const int64_t budget : {1024, 2048}) {
    for (const char* policy : {"a", "b", "c", "d", "e", "f", "g"}) {
      runs.push_back(RulerRun(std::string(policy) + "-b" + std::to_string(budget), budget, 0.5,
                              0.5, budget << 10));
    }
  }
  // A layer-allocating policy's mean budget is not the one it was given.
  runs.push_back(RulerRun("pyramidkv-b1024", 1032, 0.5, 0.5, 1 << 20));
  ASSERT_THAT(WriteRulerPlots(dir, runs, "demo", "ruler protocol, tiny"), IsOk());
  EXPECT_FALSE(std::filesystem::exists(dir + "/ruler_score_by_task.svg"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/ruler_score_by_task_b1032.svg"));
  ASSERT_OK_AND_ASSIGN(const std::string b1024,
                       ReadFileToString(dir + "/ruler_score_by_task_b1024.svg"));
  EXPECT_THAT(b1024, HasSubstr(">dense</text>"));
  EXPECT_THAT(b1024, HasSubstr(">a-b1024</text>"));
  EXPECT_THAT(b1024, Not(HasSubstr(">a-b2048</text>")));
  EXPECT_THAT(b1024, HasSubstr(">pyramidkv-b1024</text>"));
}

TEST(RulerPlotsTest, NothingWithoutRulerScores) {
  const std::string dir = ::testing::TempDir() + "/ruler_plots_none";
  std::filesystem::create_directories(dir);
  RunRecord plain;
  plain.name = "dense";
  ASSERT_THAT(WriteRulerPlots(dir, {plain}, "demo", "chunked protocol, tiny"), IsOk());
  EXPECT_FALSE(std::filesystem::exists(dir + "/ruler_score_vs_memory.svg"));
}

}  // namespace
}  // namespace kvlab::experiments
