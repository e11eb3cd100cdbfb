#include "experiments/plots.h"

#include <cmath>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "base/files.h"
#include "base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab::experiments {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

RunRecord MakeRun(const std::string& name, const std::string& policy, int64_t budget, double ppl,
              int64_t peak) {
  RunRecord r;
  r.name = name;
  r.policy = policy;
  r.budget = budget;
  r.result.tokens_scored = 10;
  r.result.nll_sum = 10 * std::log(ppl);
  r.result.peak_held_bytes = peak;
  r.bucket_size = 256;
  r.result.bucket_count = {255, 256};
  r.result.bucket_nll_sum = {255 * 3.0, 256 * 3.5};
  return r;
}

TEST(PlotsTest, FamiliesDropBudgets) {
  EXPECT_EQ(Family(MakeRun("h2o-256", "h2o", 256, 1, 1)), "h2o");
  EXPECT_EQ(Family(MakeRun("sink-slot-b128", "sink", 128, 1, 1)), "sink-slot");
  EXPECT_EQ(Family(MakeRun("sink-b128-original", "sink", 128, 1, 1)), "sink-original");
  EXPECT_EQ(Family(MakeRun("int4-kivi-g32-r128-sink-512", "sink", 512, 1, 1)),
            "int4-kivi-g32-r128-sink");
  EXPECT_EQ(Family(MakeRun("knorm-recent32", "knorm", 128, 1, 1)), "knorm-recent32");
  EXPECT_EQ(Family(MakeRun("int4-kivi-g32-r128", "", 0, 1, 1)), "int4-kivi-g32-r128");
}

TEST(PlotsTest, NamedBudgetsAreTheSweepsOwn) {
  // PyramidKV's mean over layers is not the budget it was given.
  EXPECT_EQ(NamedBudget(MakeRun("pyramidkv-b1024", "snapkv", 1032, 1, 1)), 1024);
  EXPECT_EQ(NamedBudget(MakeRun("sink-b128-slot", "sink", 128, 1, 1)), 128);
  EXPECT_EQ(NamedBudget(MakeRun("h2o-256", "h2o", 256, 1, 1)), 256);
  EXPECT_EQ(NamedBudget(MakeRun("int8-token", "", 0, 1, 1)), 0);
}

TEST(PlotsTest, WritesMemoryAndPositionPlots) {
  const std::string dir = ::testing::TempDir() + "/plots";
  const std::vector<RunRecord> runs = {MakeRun("dense", "", 0, 17.8, 180 << 20),
                                       MakeRun("window-128", "window", 128, 70.5, 6 << 20),
                                       MakeRun("window-512", "window", 512, 30.0, 23 << 20),
                                       MakeRun("h2o-128", "h2o", 128, 30.5, 6 << 20)};
  ASSERT_THAT(WritePlots(dir, runs, "demo", "streaming protocol, tiny"), IsOk());
  ASSERT_OK_AND_ASSIGN(const std::string memory,
                       ReadFileToString(dir + "/perplexity_vs_memory.svg"));
  EXPECT_THAT(memory, HasSubstr("<svg"));
  EXPECT_THAT(memory, HasSubstr(">window</text>"));  // One line for both window runs.
  EXPECT_THAT(memory, HasSubstr(">Pareto front</text>"));
  EXPECT_THAT(memory, HasSubstr("(log scale)"));
  EXPECT_THAT(memory, Not(HasSubstr("nan")));
  ASSERT_OK_AND_ASSIGN(const std::string position, ReadFileToString(dir + "/nll_by_position.svg"));
  EXPECT_THAT(position, HasSubstr(">h2o-128</text>"));
  EXPECT_THAT(position, HasSubstr("position in the stream"));
}

TEST(PlotsTest, RetainedMassPlotOnlyForRunsThatRecordedEvictions) {
  const std::string dir = ::testing::TempDir() + "/plots_mass";
  std::vector<RunRecord> runs = {MakeRun("dense", "", 0, 17.8, 180 << 20),
                                 MakeRun("h2o-128", "h2o", 128, 30.5, 6 << 20)};
  ASSERT_THAT(WritePlots(dir, runs, "demo", "compress_once protocol, tiny"), IsOk());
  EXPECT_FALSE(std::filesystem::exists(dir + "/retained_mass_by_layer.svg"));
  runs[1].retained_mass_by_layer = {NAN, 0.8, 0.6};  // Layer 0 never evicted.
  ASSERT_THAT(WritePlots(dir, runs, "demo", "compress_once protocol, tiny"), IsOk());
  ASSERT_OK_AND_ASSIGN(const std::string mass,
                       ReadFileToString(dir + "/retained_mass_by_layer.svg"));
  EXPECT_THAT(mass, HasSubstr(">h2o-128</text>"));
  EXPECT_THAT(mass, Not(HasSubstr(">dense</text>")));
  EXPECT_THAT(mass, Not(HasSubstr("nan")));
}

TEST(PlotsTest, ManyRunsSplitPositionPlotsByBudget) {
  const std::string dir = ::testing::TempDir() + "/plots_split";
  std::vector<RunRecord> runs = {MakeRun("dense", "", 0, 17.8, 180 << 20)};
  for (int64_t budget : {128, 256}) {
    for (const char* policy : {"window", "sink", "h2o", "tova", "knorm", "random"}) {
      runs.push_back(MakeRun(absl::StrCat(policy, "-", budget), policy, budget, 30, budget << 14));
    }
  }
  ASSERT_THAT(WritePlots(dir, runs, "demo", "streaming protocol, tiny"), IsOk());
  ASSERT_OK_AND_ASSIGN(const std::string b128, ReadFileToString(dir + "/nll_by_position_b128.svg"));
  EXPECT_THAT(b128, HasSubstr(">dense</text>"));
  EXPECT_THAT(b128, HasSubstr(">tova-128</text>"));
  EXPECT_THAT(b128, Not(HasSubstr(">tova-256</text>")));
  EXPECT_THAT(ReadFileToString(dir + "/nll_by_position_b256.svg"), IsOk());
}

}  // namespace
}  // namespace kvlab::experiments
