#include "core/rope_scaling.h"

#include <cmath>

#include "base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab {
namespace {

using ::testing::DoubleNear;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// head_dim 8, base 10000: unscaled inverse frequencies 1, 0.1, 0.01 and 0.001, whose
// wavelengths 2π/f are 6.28, 62.8, 628 and 6283 positions.
constexpr double kBase = 10000.0;

TEST(RopeScalingTest, DefaultIsBaseToTheMinusTwoIOverDim) {
  ASSERT_OK_AND_ASSIGN(const std::vector<double> f, RopeInverseFrequencies(kBase, 8, {}));
  EXPECT_THAT(f, ElementsAre(DoubleNear(1.0, 1e-15), DoubleNear(0.1, 1e-15),
                             DoubleNear(0.01, 1e-15), DoubleNear(0.001, 1e-15)));
}

TEST(RopeScalingTest, LinearDividesEveryFrequency) {
  RopeScaling linear;
  linear.type = RopeScaling::Type::kLinear;
  linear.factor = 8.0;
  ASSERT_OK_AND_ASSIGN(const std::vector<double> f, RopeInverseFrequencies(kBase, 8, linear));
  // transformers 5.2.0 (_compute_linear_scaling_rope_parameters, fp32): 0.125,
  // 0.0125000002, 0.00124999997, 0.000125000006.
  EXPECT_THAT(f, ElementsAre(DoubleNear(0.125, 1e-15), DoubleNear(0.0125, 1e-15),
                             DoubleNear(0.00125, 1e-15), DoubleNear(0.000125, 1e-15)));
}

TEST(RopeScalingTest, Llama3KeepsShortWavelengthsDividesLongOnesAndBlendsBetween) {
  RopeScaling llama3;
  llama3.type = RopeScaling::Type::kLlama3;
  llama3.factor = 8.0;
  llama3.low_freq_factor = 1.0;
  llama3.high_freq_factor = 4.0;
  llama3.original_context = 1024;  // Wavelengths below 1024 / 4 kept, above 1024 / 1 divided.
  ASSERT_OK_AND_ASSIGN(const std::vector<double> f, RopeInverseFrequencies(kBase, 8, llama3));
  // Pair 2's wavelength 200π lies between 256 and 1024:
  // s = (1024 / (200π) - 1) / (4 - 1) = 0.209915539087..., f = (1 - s) 0.01 / 8 + s 0.01.
  const double s = (1024.0 / (200.0 * M_PI) - 1.0) / 3.0;
  EXPECT_NEAR(s, 0.2099155390870, 1e-12);
  // transformers 5.2.0 (_compute_llama3_parameters, fp32): 1, 0.100000001,
  // 0.00308676064, 0.000125000006.
  EXPECT_THAT(f, ElementsAre(DoubleNear(1.0, 1e-15), DoubleNear(0.1, 1e-15),
                             DoubleNear(0.003086760967011, 1e-14),
                             DoubleNear(0.001 / 8, 1e-15)));
}

TEST(RopeScalingTest, FrequencyDivisorsApplyPerPairOnTopOfTheType) {
  RopeScaling scaling;
  scaling.type = RopeScaling::Type::kLinear;
  scaling.factor = 2.0;
  scaling.frequency_divisors = {1.0, 4.0};
  ASSERT_OK_AND_ASSIGN(const std::vector<double> f, RopeInverseFrequencies(100.0, 4, scaling));
  // Unscaled: 1 and 0.1.
  EXPECT_THAT(f, ElementsAre(DoubleNear(0.5, 1e-15), DoubleNear(0.1 / 8, 1e-15)));
}

TEST(RopeScalingTest, OutOfRangeParametersAreErrorsNamingThem) {
  RopeScaling linear;
  linear.type = RopeScaling::Type::kLinear;
  linear.factor = 0.0;
  EXPECT_THAT(RopeInverseFrequencies(kBase, 8, linear).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("factor must be > 0")));
  RopeScaling llama3;
  llama3.type = RopeScaling::Type::kLlama3;
  llama3.low_freq_factor = 4.0;
  llama3.high_freq_factor = 4.0;
  EXPECT_THAT(RopeInverseFrequencies(kBase, 8, llama3).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("low_freq_factor")));
  RopeScaling divisors;
  divisors.frequency_divisors = {1.0, 1.0, 1.0};
  EXPECT_THAT(RopeInverseFrequencies(kBase, 8, divisors).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("3 given for 4")));
  divisors.frequency_divisors = {1.0, 1.0, 0.0, 1.0};
  EXPECT_THAT(RopeInverseFrequencies(kBase, 8, divisors).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("factor 2")));
}

}  // namespace
}  // namespace kvlab
