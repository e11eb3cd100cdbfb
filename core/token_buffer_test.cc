#include "core/token_buffer.h"

#include <ATen/ATen.h>

#include "base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab {
namespace {

using ::testing::HasSubstr;

TEST(TokenBufferTest, AppendGrowsByDoublingAndKeepsContents) {
  TokenBuffer buffer(2, {3}, at::TensorOptions().dtype(at::kFloat));
  std::vector<at::Tensor> appended;
  int64_t reallocations = 0, last_capacity = 0;
  for (int i = 0; i < 300; ++i) {
    appended.push_back(at::randn({2, 1, 3}));
    ASSERT_THAT(buffer.Append(appended.back()), IsOk());
    if (buffer.capacity() != last_capacity) ++reallocations;
    last_capacity = buffer.capacity();
  }
  EXPECT_EQ(buffer.length(), 300);
  EXPECT_EQ(buffer.capacity(), 512);  // 64 -> 128 -> 256 -> 512
  EXPECT_EQ(reallocations, 4);
  EXPECT_TRUE(at::equal(buffer.View(), at::cat(appended, 1)));
  EXPECT_EQ(buffer.held_bytes(), 300 * 2 * 3 * 4);
  EXPECT_EQ(buffer.allocated_bytes(), 512 * 2 * 3 * 4);
}

TEST(TokenBufferTest, RetainGathersPerHeadAndShrinks) {
  TokenBuffer buffer(2, {}, at::TensorOptions().dtype(at::kLong));
  ASSERT_THAT(buffer.Append(at::arange(1000, at::kLong).view({1, 1000}).repeat({2, 1})), IsOk());
  const at::Tensor keep = at::tensor({0, 5, 999, 1, 2, 3}, at::kLong).view({2, 3});
  ASSERT_THAT(buffer.Retain(keep), IsOk());
  EXPECT_TRUE(at::equal(buffer.View(), keep));
  EXPECT_EQ(buffer.capacity(), TokenBuffer::kMinCapacity);  // Memory given back.
  // Appending after a retain continues after the kept tokens.
  ASSERT_THAT(buffer.Append(at::full({2, 1}, 7, at::kLong)), IsOk());
  EXPECT_EQ(buffer.View()[1][3].item<int64_t>(), 7);
}

TEST(TokenBufferTest, RejectsWrongShapes) {
  TokenBuffer buffer(2, {3}, at::TensorOptions().dtype(at::kFloat));
  EXPECT_THAT(buffer.Append(at::zeros({3, 1, 3})),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("[2, n, 3]")));
  ASSERT_THAT(buffer.Append(at::zeros({2, 4, 3})), IsOk());
  EXPECT_THAT(buffer.Retain(at::zeros({2, 5}, at::kLong)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("m <= 4")));
  EXPECT_THAT(buffer.Retain(at::tensor({2, 1, 0, 1}, at::kLong).view({2, 2})),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("ascending")));
}

}  // namespace
}  // namespace kvlab
