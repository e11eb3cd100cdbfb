#include "experiments/token_nlls.h"

#include <cmath>
#include <filesystem>

#include "base/files.h"
#include "base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab::experiments {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(TokenNllsTest, RoundTripsThroughItsFile) {
  const std::string dir = ::testing::TempDir() + "/token_nlls";
  std::filesystem::create_directories(dir + "/runs");
  const std::string path = TokenNllsFile(dir, "tova-512");
  EXPECT_EQ(path, dir + "/runs/tova-512.nll");
  ASSERT_THAT(WriteFileAtomically(path, TokenNllsBytes({1.5f, 0.25f, 3.0f})), IsOk());
  EXPECT_THAT(ReadTokenNlls(path), IsOkAndHolds(ElementsAre(1.5f, 0.25f, 3.0f)));
  ASSERT_THAT(WriteFileAtomically(path, "12345"), IsOk());
  EXPECT_THAT(ReadTokenNlls(path), StatusIs(absl::StatusCode::kDataLoss,
                                            HasSubstr("tova-512.nll: 5 bytes is not")));
  EXPECT_THAT(ReadTokenNlls(dir + "/runs/none.nll"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("keep_token_nlls: true")));
}

TEST(TokenNllsTest, PairedChangeIsTheIntervalOfTheMeanDifference) {
  // Differences 0.1, 0.2, 0.3, 0.4: mean 0.25, sample variance 1/60, standard error
  // sqrt(1/240); the change is 100 (exp(0.25 ± 1.96 x 0.06455) - 1).
  const std::vector<float> a = {2.0f, 2.0f, 2.0f, 2.0f};
  const std::vector<float> b = {2.1f, 2.2f, 2.3f, 2.4f};
  ASSERT_OK_AND_ASSIGN(const Interval i, PairedChangePercent(a, b, "a", "b"));
  const double half = kZ95 * std::sqrt(1.0 / 240.0);
  EXPECT_NEAR(i.low, 100.0 * std::expm1(0.25 - half), 1e-4);
  EXPECT_NEAR(i.high, 100.0 * std::expm1(0.25 + half), 1e-4);
  EXPECT_THAT(PairedChangePercent(a, {1.0f}, "dense", "h2o"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("dense scored 4 tokens and h2o 1")));
  EXPECT_THAT(PairedChangePercent({1.0f}, {1.0f}, "a", "b"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("at least 2")));
}

}  // namespace
}  // namespace kvlab::experiments
