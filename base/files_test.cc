#include "base/files.h"

#include <linux/capability.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

#include "base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab {
namespace {

using ::testing::HasSubstr;

TEST(FilesTest, WriteThenReadRoundTrips) {
  const std::string path = ::testing::TempDir() + "/sub/dir/out.txt";
  ASSERT_THAT(WriteFileAtomically(path, "first"), IsOk());
  ASSERT_THAT(WriteFileAtomically(path, "second"), IsOk());
  absl::StatusOr<std::string> contents = ReadFileToString(path);
  ASSERT_THAT(contents, IsOk());
  EXPECT_EQ(*contents, "second");
  // No temporary file is left beside the result.
  int entries = 0;
  for (const auto& entry : std::filesystem::directory_iterator(::testing::TempDir() + "/sub/dir")) {
    (void)entry;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

TEST(FilesTest, MissingFileIsNotFoundNamingIt) {
  EXPECT_THAT(ReadFileToString("/nonexistent/kvlab.txt"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/nonexistent/kvlab.txt")));
}

TEST(FilesTest, UnwritableDirectoryIsAnError) {
  EXPECT_THAT(WriteFileAtomically("/proc/kvlab/out.txt", "x"), ::testing::Not(IsOk()));
}

int Entries(const std::string& dir) {
  int entries = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    (void)entry;
    ++entries;
  }
  return entries;
}

// A full disk, as the writer sees it: writes past a size limit fail (RLIMIT_FSIZE gives
// EFBIG where a full disk gives ENOSPC; both take the same path).
TEST(FilesTest, FullDiskLeavesTheOldFileAndNoTemporary) {
  const std::string dir = ::testing::TempDir() + "/full";
  std::filesystem::remove_all(dir);
  ASSERT_THAT(WriteFileAtomically(dir + "/results.json", "old and complete"), IsOk());
  struct rlimit old_limit;
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  ::signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = old_limit;
  small.rlim_cur = 1000;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  const absl::Status status = WriteFileAtomically(dir + "/results.json", std::string(5000, 'x'));
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &old_limit), 0);
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kDataLoss,
                               AllOf(HasSubstr(dir + "/results.json"), HasSubstr("write failed"))));
  EXPECT_THAT(ReadFileToString(dir + "/results.json"), IsOkAndHolds("old and complete"));
  EXPECT_EQ(Entries(dir), 1);
}

// Root writes anywhere: the write runs in a child that has dropped every capability,
// so the directory's mode applies to it.
TEST(FilesTest, ReadOnlyDirectoryIsAClearErrorNamingThePath) {
  const std::string dir = ::testing::TempDir() + "/read_only";
  std::filesystem::remove_all(dir);
  ASSERT_THAT(WriteFileAtomically(dir + "/results.json", "old"), IsOk());
  ASSERT_EQ(::chmod(dir.c_str(), 0555), 0);
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct none[2] = {};
    if (::syscall(SYS_capset, &header, none) != 0) ::_exit(2);
    const absl::Status s = WriteFileAtomically(dir + "/results.json", "new");
    const std::string message(s.message());
    if (::write(pipe_fds[1], message.data(), message.size()) < 0) ::_exit(3);
    ::_exit(s.ok() ? 0 : 1);
  }
  ::close(pipe_fds[1]);
  char buffer[512] = {};
  const ssize_t n = ::read(pipe_fds[0], buffer, sizeof(buffer) - 1);
  int status = 0;
  ::waitpid(child, &status, 0);
  ::chmod(dir.c_str(), 0755);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
  EXPECT_THAT(std::string(buffer, n > 0 ? n : 0),
              AllOf(HasSubstr(dir + "/results.json"), HasSubstr("Permission denied")));
  EXPECT_THAT(ReadFileToString(dir + "/results.json"), IsOkAndHolds("old"));
}

// A writer killed at any moment leaves the old complete file or the new one.
TEST(FilesTest, SigkillDuringRewritesNeverTearsTheFile) {
  const std::string dir = ::testing::TempDir() + "/killed_writer";
  std::filesystem::remove_all(dir);
  const std::string path = dir + "/results.json";
  const auto version = [](int i) { return std::string(200000 + i, static_cast<char>('a' + i % 26)); };
  ASSERT_THAT(WriteFileAtomically(path, version(0)), IsOk());
  std::mt19937 random(7);
  for (int round = 0; round < 20; ++round) {
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      for (int i = 1;; ++i) {
        if (!WriteFileAtomically(path, version(i)).ok()) ::_exit(1);
      }
    }
    ::usleep(std::uniform_int_distribution<int>(1000, 30000)(random));
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    ASSERT_OK_AND_ASSIGN(const std::string contents, ReadFileToString(path));
    const int i = static_cast<int>(contents.size()) - 200000;
    ASSERT_GE(i, 0);
    EXPECT_EQ(contents, version(i)) << "torn after round " << round;
  }
}

TEST(FilesTest, ResolvesRelativePathsAgainstBazelRunDirectory) {
  ::setenv("BUILD_WORKING_DIRECTORY", "/home/me/kvlab", 1);
  EXPECT_EQ(ResolveUserPath("experiments/configs/a.pbtxt"),
            "/home/me/kvlab/experiments/configs/a.pbtxt");
  EXPECT_EQ(ResolveUserPath("/abs/path"), "/abs/path");
  EXPECT_EQ(ResolveUserPath(""), "");
  ::unsetenv("BUILD_WORKING_DIRECTORY");
  EXPECT_EQ(ResolveUserPath("rel"), "rel");
}

}  // namespace
}  // namespace kvlab
