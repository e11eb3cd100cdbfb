#include "base/status_macros.h"

#include "base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab {
namespace {

using ::testing::HasSubstr;

absl::StatusOr<int> ParsePositive(int value) {
  if (value <= 0) return absl::InvalidArgumentError("value must be > 0");
  return value;
}

absl::StatusOr<int> DoubleIfPositive(int value) {
  KVLAB_ASSIGN_OR_RETURN(const int parsed, ParsePositive(value));
  return 2 * parsed;
}

absl::Status CheckBoth(int a, int b) {
  KVLAB_RETURN_IF_ERROR(ParsePositive(a).status());
  KVLAB_RETURN_IF_ERROR(ParsePositive(b).status());
  return absl::OkStatus();
}

TEST(StatusMacrosTest, AssignOrReturnPassesValueThrough) {
  absl::StatusOr<int> doubled = DoubleIfPositive(21);
  ASSERT_THAT(doubled, IsOk());
  EXPECT_EQ(*doubled, 42);
}

TEST(StatusMacrosTest, AssignOrReturnPropagatesError) {
  EXPECT_THAT(DoubleIfPositive(-1),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("must be > 0")));
}

TEST(StatusMacrosTest, ReturnIfErrorStopsAtFirstError) {
  EXPECT_THAT(CheckBoth(1, 2), IsOk());
  EXPECT_THAT(CheckBoth(1, 0), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("> 0")));
}

}  // namespace
}  // namespace kvlab
