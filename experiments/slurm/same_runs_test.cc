#include "experiments/slurm/same_runs.h"

#include "base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab::experiments {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kRuns[] =
    R"([{"name": "a", "perplexity": 44.34402275085449, "seconds": 1.5, "tokens_per_second": 20.0},
        {"name": "b", "perplexity": 56.76011276245117, "seconds": 1.5, "tokens_per_second": 20.0}])";

TEST(SameRunsTest, EqualUpToWallClock) {
  constexpr char kSlower[] =
      R"([{"name": "a", "perplexity": 44.34402275085449, "seconds": 9.0, "tokens_per_second": 2.0},
          {"name": "b", "perplexity": 56.76011276245117, "seconds": 9.0, "tokens_per_second": 2.0}])";
  absl::StatusOr<std::vector<std::string>> differences = RunDifferences(kRuns, "x", kSlower, "y");
  ASSERT_THAT(differences, IsOk());
  EXPECT_THAT(*differences, IsEmpty());
}

TEST(SameRunsTest, WallClockAndResumedSamplesAreIgnoredAtAnyDepth) {
  constexpr char kSingle[] = R"([{"name": "a", "details": {"resumed_samples": 0,)"
                              R"( "records": [{"score": 1.0, "seconds": 3.0}]}}])";
  constexpr char kGathered[] = R"([{"name": "a", "details": {"resumed_samples": 4,)"
                              R"( "records": [{"score": 1.0, "seconds": 7.0}]}}])";
  constexpr char kOtherScore[] = R"([{"name": "a", "details": {"resumed_samples": 4,)"
                              R"( "records": [{"score": 0.5, "seconds": 7.0}]}}])";
  absl::StatusOr<std::vector<std::string>> differences =
      RunDifferences(kSingle, "x", kGathered, "y");
  ASSERT_THAT(differences, IsOk());
  EXPECT_THAT(*differences, IsEmpty());
  differences = RunDifferences(kSingle, "x", kOtherScore, "y");
  ASSERT_THAT(differences, IsOk());
  ASSERT_EQ(differences->size(), 1u);
  EXPECT_THAT((*differences)[0], HasSubstr("a: details"));
}

TEST(SameRunsTest, ALastBitDifferenceCounts) {
  constexpr char kOff[] =
      R"([{"name": "a", "perplexity": 44.34402275085450, "seconds": 1.5, "tokens_per_second": 20.0},
          {"name": "b", "perplexity": 56.76011276245117, "seconds": 1.5, "tokens_per_second": 20.0}])";
  absl::StatusOr<std::vector<std::string>> differences = RunDifferences(kRuns, "x", kOff, "y");
  ASSERT_THAT(differences, IsOk());
  ASSERT_EQ(differences->size(), 1u);
  EXPECT_THAT((*differences)[0], HasSubstr("a: perplexity 44.34402275085449 vs 44.3440227508545"));
}

TEST(SameRunsTest, MissingRunsAndFieldsAndOrder) {
  constexpr char kOne[] = R"([{"name": "b", "perplexity": 56.76011276245117, "budget": 64}])";
  absl::StatusOr<std::vector<std::string>> differences = RunDifferences(kRuns, "x", kOne, "y");
  ASSERT_THAT(differences, IsOk());
  EXPECT_THAT(*differences, ElementsAre("2 runs vs 1 runs", "run 0: a vs b"));
  constexpr char kExtraField[] =
      R"([{"name": "a", "perplexity": 44.34402275085449, "budget": 64},
          {"name": "b", "perplexity": 56.76011276245117}])";
  differences = RunDifferences(kRuns, "x", kExtraField, "y");
  ASSERT_THAT(differences, IsOk());
  EXPECT_THAT(*differences, ElementsAre("a: budget (absent) vs 64"));
}

TEST(SameRunsTest, NotAResultsListIsAnErrorNamingTheFile) {
  EXPECT_THAT(RunDifferences(kRuns, "x", "{}", "y/results.json"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("y/results.json: expected")));
  EXPECT_THAT(RunDifferences("[1]", "x/results.json", kRuns, "y"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("x/results.json: expected")));
}

}  // namespace
}  // namespace kvlab::experiments
