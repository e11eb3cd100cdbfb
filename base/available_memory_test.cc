#include "base/available_memory.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/status_matchers.h"

namespace kvlab {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

TEST(AvailableMemoryTest, ParsesMemAvailableInKib) {
  const std::string meminfo =
      "MemTotal:       24576000 kB\nMemFree:        1000 kB\nMemAvailable:   2048 kB\n";
  ASSERT_OK_AND_ASSIGN(int64_t bytes, ParseMemAvailable(meminfo, "meminfo"));
  EXPECT_EQ(bytes, 2048 * 1024);
}

TEST(AvailableMemoryTest, AMissingOrMalformedLineIsAnErrorNamingTheFile) {
  EXPECT_THAT(ParseMemAvailable("MemTotal: 5 kB\n", "/proc/meminfo"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("/proc/meminfo"), HasSubstr("MemAvailable"))));
  EXPECT_THAT(ParseMemAvailable("MemAvailable: lots\n", "m"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("<n> kB")));
}

TEST(AvailableMemoryTest, ThisMachineReportsSomeMemory) {
  ASSERT_OK_AND_ASSIGN(int64_t bytes, AvailableMemoryBytes());
  EXPECT_GT(bytes, 0);
}

TEST(AvailableMemoryTest, RefusesWeightsAndCachesBeyondTheAvailableMemoryGivingBoth) {
  constexpr int64_t kGiB = int64_t{1} << 30;
  EXPECT_THAT(CheckFitsInMemory(3 * kGiB, kGiB, 4 * kGiB), IsOk());
  EXPECT_THAT(CheckFitsInMemory(6 * kGiB, kGiB / 2, 4 * kGiB),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       AllOf(HasSubstr("weights need 6.00 GiB"),
                             HasSubstr("largest caches 0.50 GiB"),
                             HasSubstr("only 4.00 GiB is available"))));
}

}  // namespace
}  // namespace kvlab
