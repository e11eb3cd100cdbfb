#include "base/annotate.h"

#include "base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab {
namespace {

TEST(AnnotateTest, KeepsTheCodeAndPutsTheContextFirst) {
  EXPECT_THAT(Annotate(absl::InvalidArgumentError("bits must be 8 or 4"), "keys"),
              StatusIs(absl::StatusCode::kInvalidArgument, "keys: bits must be 8 or 4"));
  EXPECT_THAT(Annotate(absl::NotFoundError("no such policy"), "eviction"),
              StatusIs(absl::StatusCode::kNotFound, "eviction: no such policy"));
}

TEST(AnnotateTest, OkStaysOk) { EXPECT_THAT(Annotate(absl::OkStatus(), "keys"), IsOk()); }

}  // namespace
}  // namespace kvlab
