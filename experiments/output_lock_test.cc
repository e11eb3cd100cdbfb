#include "experiments/output_lock.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "base/files.h"
#include "absl/strings/str_cat.h"
#include "base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab::experiments {
namespace {

using ::testing::HasSubstr;

std::string TestDir() {
  const std::string dir = ::testing::TempDir() + "/" +
                          ::testing::UnitTest::GetInstance()->current_test_info()->name();
  std::filesystem::remove_all(dir);
  return dir;
}

TEST(OutputLockTest, SecondExclusiveHolderIsRefusedWithTheDirectoryAndPid) {
  const std::string dir = TestDir();
  absl::StatusOr<OutputLock> first = OutputLock::Exclusive(dir);
  ASSERT_THAT(first, IsOk());
  EXPECT_THAT(OutputLock::Exclusive(dir),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("output directory " + dir + " is in use"),
                             HasSubstr(absl::StrCat("pid ", ::getpid())))));
  EXPECT_THAT(OutputLock::Shared(dir), StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("in use")));
  // Released with its holder.
  ASSERT_OK_AND_ASSIGN(*first, OutputLock::Shared(dir + "-other"));
  EXPECT_THAT(OutputLock::Exclusive(dir), IsOk());
}

TEST(OutputLockTest, ShardsShareTheDirectory) {
  const std::string dir = TestDir();
  absl::StatusOr<OutputLock> shard1 = OutputLock::Shared(dir);
  absl::StatusOr<OutputLock> shard2 = OutputLock::Shared(dir);
  ASSERT_THAT(shard1, IsOk());
  ASSERT_THAT(shard2, IsOk());
  // Neither an unsharded run nor a merge may start beside running shards.
  EXPECT_THAT(OutputLock::Exclusive(dir), StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("in use")));
}

TEST(OutputLockTest, LockIsReleasedWhenTheHolderIsKilled) {
  const std::string dir = TestDir();
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    absl::StatusOr<OutputLock> lock = OutputLock::Exclusive(dir);
    const char byte = lock.ok() ? 1 : 0;
    if (::write(ready[1], &byte, 1) != 1) ::_exit(2);
    ::pause();
    ::_exit(0);
  }
  char byte = 0;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  ASSERT_EQ(byte, 1);
  EXPECT_THAT(OutputLock::Exclusive(dir),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(absl::StrCat("pid ", child))));
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_THAT(OutputLock::Exclusive(dir), IsOk());
}

TEST(OutputLockTest, ExclusiveHolderRemovesAKilledWritersTemporaries) {
  const std::string dir = TestDir();
  std::filesystem::create_directories(dir + "/runs");
  std::ofstream(dir + "/results.json.tmp.Ab12Cd") << "[{\"name\": ";
  std::ofstream(dir + "/runs/dense.json.tmp.xY9zQ1") << "{";
  std::ofstream(dir + "/runs/dense.json") << "{}";
  ASSERT_THAT(OutputLock::Exclusive(dir), IsOk());
  EXPECT_FALSE(std::filesystem::exists(dir + "/results.json.tmp.Ab12Cd"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/runs/dense.json.tmp.xY9zQ1"));
  EXPECT_TRUE(std::filesystem::exists(dir + "/runs/dense.json"));
}

TEST(OutputLockTest, UnwritableDirectoryIsAClearError) {
  // A path below a regular file can never be a directory.
  const std::string dir = TestDir();
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/file") << "x";
  EXPECT_THAT(OutputLock::Exclusive(dir + "/file/out"),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       AllOf(HasSubstr(dir + "/file/out"), HasSubstr("cannot create"))));
}

}  // namespace
}  // namespace kvlab::experiments
