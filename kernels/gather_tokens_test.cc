#include "kernels/gather_tokens.h"

#include <ATen/ATen.h>

#include <tuple>

#include "base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kernels/kernel_test_util.h"

namespace kvlab::kernels {
namespace {

using ::testing::HasSubstr;

TEST(GatherTokensTest, MatchesAtenGatherInPlace) {
  testing::FreshSeed();
  for (auto dtype : {at::kFloat, at::kByte, at::kLong}) {
    at::Tensor buffer = at::randint(0, 100, {3, 128, 5}).to(dtype);
    const int64_t length = 100;
    at::Tensor keep = std::get<0>(std::get<1>(at::rand({3, length}).topk(40, 1)).sort(1));
    const at::Tensor expected =
        buffer.narrow(1, 0, length).gather(1, keep.unsqueeze(-1).expand({3, 40, 5})).clone();
    ASSERT_THAT(GatherTokens(buffer, length, keep), IsOk());
    EXPECT_TRUE(at::equal(buffer.narrow(1, 0, 40), expected));
  }
}

TEST(GatherTokensTest, RejectsIndicesThatAreNotAscending) {
  at::Tensor buffer = at::zeros({1, 8, 2});
  EXPECT_THAT(GatherTokens(buffer, 8, at::tensor({3, 1}, at::kLong).view({1, 2})),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("ascending")));
  EXPECT_THAT(GatherTokens(buffer, 8, at::tensor({1, 9}, at::kLong).view({1, 2})),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("ascending")));
}

}  // namespace
}  // namespace kvlab::kernels
