// torch_test_main seeds ATen's generator before each test, not once per process.
#include <ATen/ATen.h>

#include "gtest/gtest.h"

namespace {

// The first draw of a test equals the first draw after seeding 0.
void ExpectFirstDrawIsSeedZeros() {
  const at::Tensor drawn = at::randn({16});
  at::manual_seed(0);
  EXPECT_TRUE(at::equal(drawn, at::randn({16})));
}

TEST(TorchTestMainTest, FirstTestStartsFromTheSeed) { ExpectFirstDrawIsSeedZeros(); }

// Fails if the seed were set once per process: the test before it drew from it.
TEST(TorchTestMainTest, NextTestStartsFromTheSeedAgain) { ExpectFirstDrawIsSeedZeros(); }

}  // namespace
