#include "base/status_matchers.h"

#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest-spi.h"
#include "gtest/gtest.h"

namespace kvlab {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

absl::StatusOr<std::unique_ptr<int>> MakeBox(int value) {
  if (value < 0) return absl::InvalidArgumentError("value must be >= 0");
  return std::make_unique<int>(value);
}

TEST(StatusMatchersTest, IsOkAndStatusIs) {
  EXPECT_THAT(absl::OkStatus(), IsOk());
  EXPECT_THAT(MakeBox(1), IsOk());
  EXPECT_THAT(MakeBox(-1), Not(IsOk()));
  EXPECT_THAT(MakeBox(-1), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(">= 0")));
  EXPECT_THAT(MakeBox(-1), Not(StatusIs(absl::StatusCode::kNotFound, HasSubstr(">= 0"))));
}

TEST(StatusMatchersTest, IsOkAndHoldsMatchesTheValue) {
  const absl::StatusOr<int> seven = 7;
  EXPECT_THAT(seven, IsOkAndHolds(7));
  EXPECT_THAT(seven, IsOkAndHolds(::testing::Gt(6)));
  EXPECT_THAT(seven, Not(IsOkAndHolds(8)));
  const absl::StatusOr<int> error = absl::NotFoundError("gone");
  EXPECT_THAT(error, Not(IsOkAndHolds(7)));
}

TEST(StatusMatchersTest, AssertOkAndAssignMovesTheValueOut) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<int> box, MakeBox(5));
  EXPECT_EQ(*box, 5);
  std::unique_ptr<int> assigned;
  ASSERT_OK_AND_ASSIGN(assigned, MakeBox(6));
  EXPECT_EQ(*assigned, 6);
}

TEST(StatusMatchersTest, ValueOrAddFailureGivesTheValueOrFails) {
  EXPECT_EQ(*ValueOrAddFailure(MakeBox(3)), 3);
  std::unique_ptr<int> box;
  EXPECT_NONFATAL_FAILURE(box = ValueOrAddFailure(MakeBox(-1)), "value must be >= 0");
  EXPECT_EQ(box, nullptr);
}

// A failing assignment ends the function it is in, as ASSERT_* do.
void AssignFromError(bool& reached_the_end) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<int> box, MakeBox(-1));
  reached_the_end = true;
}

TEST(StatusMatchersTest, AssertOkAndAssignFailsOnAnErrorAndStops) {
  static bool reached_the_end = false;
  EXPECT_FATAL_FAILURE(AssignFromError(reached_the_end), "value must be >= 0");
  EXPECT_FALSE(reached_the_end);
}

}  // namespace
}  // namespace kvlab
