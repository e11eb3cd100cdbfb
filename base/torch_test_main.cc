// main() for the tests that link LibTorch: GoogleTest's, plus one fixed seed for ATen's
// default generator before every test.
//
// LibTorch seeds that generator from the OS in each process, so a test drawing
// at::randint or at::randn without seeding saw new inputs on every run, and a
// tolerance could pass on one draw and fail on the next with nothing to replay.
// Seeding before each test (not once per process) gives a test the same inputs
// whatever runs before it, under --gtest_filter and sharding too. A test that wants
// fresh inputs each run seeds itself and records the seed
// (kernels/kernel_test_util.h's FreshSeed).
#include <ATen/ATen.h>

#include "gtest/gtest.h"

namespace {

constexpr uint64_t kTestSeed = 0;

class SeedEveryTest : public ::testing::EmptyTestEventListener {
  void OnTestStart(const ::testing::TestInfo&) override { at::manual_seed(kTestSeed); }
};

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::UnitTest::GetInstance()->listeners().Append(new SeedEveryTest);
  return RUN_ALL_TESTS();
}
