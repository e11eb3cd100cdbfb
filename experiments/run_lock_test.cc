#include "experiments/run_lock.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "base/files.h"
#include "base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab::experiments {
namespace {

using ::testing::HasSubstr;

class RunLockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(std::getenv("TEST_TMPDIR")) /
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "run.lock").string();
  }
  // Writes a lock file as `owner` would have.
  void WriteLock(const LockOwner& owner) {
    ASSERT_THAT(WriteFileAtomically(path_, owner.ToJson()), IsOk());
  }
  // The identity of a child process that has exited and been reaped: a pid that is gone.
  static LockOwner DeadOwner() {
    int pipe_fds[2];
    EXPECT_EQ(::pipe(pipe_fds), 0);
    const pid_t child = ::fork();
    if (child == 0) {
      const std::string json = LockOwner::Current().ToJson();
      (void)!::write(pipe_fds[1], json.data(), json.size());
      ::_exit(0);
    }
    ::close(pipe_fds[1]);
    std::string json;
    char buffer[512];
    for (ssize_t n; (n = ::read(pipe_fds[0], buffer, sizeof(buffer))) > 0;) json.append(buffer, n);
    ::close(pipe_fds[0]);
    ::waitpid(child, nullptr, 0);
    absl::StatusOr<LockOwner> owner = LockOwner::FromJson(json, "child");
    EXPECT_THAT(owner, IsOk());
    return owner.ok() ? *owner : LockOwner{};
  }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(RunLockTest, AcquireWritesOwnerAndReleaseRemovesIt) {
  absl::StatusOr<RunLock> lock = RunLock::Acquire(path_);
  ASSERT_THAT(lock, IsOk());
  absl::StatusOr<std::string> text = ReadFileToString(path_);
  ASSERT_THAT(text, IsOk());
  absl::StatusOr<LockOwner> owner = LockOwner::FromJson(*text, path_);
  ASSERT_THAT(owner, IsOk());
  EXPECT_EQ(owner->pid, ::getpid());
  EXPECT_EQ(owner->host, LockOwner::Current().host);
  EXPECT_GT(owner->start_ticks, 0);
  EXPECT_THAT(lock->Release(), IsOk());
  EXPECT_FALSE(std::filesystem::exists(path_));
  EXPECT_THAT(lock->Release(), IsOk());  // Idempotent.
}

TEST_F(RunLockTest, DestructorReleases) {
  { ASSERT_THAT(RunLock::Acquire(path_), IsOk()); }
  EXPECT_FALSE(std::filesystem::exists(path_));
}

TEST_F(RunLockTest, ALiveOwnerKeepsItsLock) {
  absl::StatusOr<RunLock> first = RunLock::Acquire(path_);
  ASSERT_THAT(first, IsOk());
  // This process is alive, so a second claim, from anyone, is refused.
  EXPECT_THAT(RunLock::Acquire(path_),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr(absl::StrCat("held by ", LockOwner::Current().host, " pid ",
                                              ::getpid()))));
  EXPECT_TRUE(std::filesystem::exists(path_));
}

TEST_F(RunLockTest, ALockWhoseProcessIsGoneIsTakenOver) {
  const LockOwner dead = DeadOwner();
  ASSERT_NE(dead.pid, ::getpid());
  EXPECT_FALSE(OwnerMayBeAlive(dead));
  WriteLock(dead);
  absl::StatusOr<RunLock> lock = RunLock::Acquire(path_);
  ASSERT_THAT(lock, IsOk());
  ASSERT_OK_AND_ASSIGN(const std::string json, ReadFileToString(path_));
  absl::StatusOr<LockOwner> owner = LockOwner::FromJson(json, path_);
  ASSERT_THAT(owner, IsOk());
  EXPECT_EQ(owner->pid, ::getpid());
}

TEST_F(RunLockTest, AReusedPidDoesNotKeepALockAlive) {
  LockOwner earlier = LockOwner::Current();
  earlier.start_ticks -= 1;  // Same pid, an earlier process.
  EXPECT_FALSE(OwnerMayBeAlive(earlier));
  WriteLock(earlier);
  EXPECT_THAT(RunLock::Acquire(path_), IsOk());
}

TEST_F(RunLockTest, ALockFromBeforeARebootIsStale) {
  LockOwner before_reboot = LockOwner::Current();
  before_reboot.boot_id = "00000000-0000-0000-0000-000000000000";
  EXPECT_FALSE(OwnerMayBeAlive(before_reboot));
}

TEST_F(RunLockTest, ALockFromAnotherHostIsHonoured) {
  LockOwner remote = DeadOwner();
  remote.host = "node-elsewhere";
  EXPECT_TRUE(OwnerMayBeAlive(remote));
  WriteLock(remote);
  EXPECT_THAT(RunLock::Acquire(path_),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("node-elsewhere pid")));
}

TEST_F(RunLockTest, ReleaseLeavesALockThatIsNoLongerOurs) {
  absl::StatusOr<RunLock> lock = RunLock::Acquire(path_);
  ASSERT_THAT(lock, IsOk());
  LockOwner other = DeadOwner();
  WriteLock(other);  // Removed by hand and claimed by someone else meanwhile.
  EXPECT_THAT(lock->Release(), IsOk());
  EXPECT_TRUE(std::filesystem::exists(path_));
}

TEST_F(RunLockTest, AGarbledLockFileIsAnErrorNamingIt) {
  ASSERT_THAT(WriteFileAtomically(path_, "not json"), IsOk());
  EXPECT_THAT(RunLock::Acquire(path_),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr(path_ + ": not a run lock")));
}

TEST_F(RunLockTest, SigtermReleasesTheLocksItHolds) {
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  if (child == 0) {
    absl::StatusOr<RunLock> lock = RunLock::Acquire(path_);
    const char state = lock.ok() ? 'W' : 'E';
    (void)!::write(ready[1], &state, 1);
    ::pause();  // Until the signal.
    ::_exit(0);
  }
  char state = 0;
  ASSERT_EQ(::read(ready[0], &state, 1), 1);
  ASSERT_EQ(state, 'W');
  EXPECT_TRUE(std::filesystem::exists(path_));
  ::kill(child, SIGTERM);
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);  // Still dies of it.
  EXPECT_FALSE(std::filesystem::exists(path_));
}

TEST_F(RunLockTest, OnlyOneOfManyProcessesRacingForAStaleLockWinsIt) {
  WriteLock(DeadOwner());
  constexpr int kProcesses = 8;
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  std::vector<pid_t> children;
  for (int i = 0; i < kProcesses; ++i) {
    const pid_t child = ::fork();
    if (child == 0) {
      absl::StatusOr<RunLock> lock = RunLock::Acquire(path_);
      const char won = lock.ok() ? 'W' : (absl::IsUnavailable(lock.status()) ? 'L' : 'E');
      (void)!::write(pipe_fds[1], &won, 1);
      ::usleep(200 * 1000);  // Hold it while the others try.
      ::_exit(0);            // Without releasing: the lock goes stale.
    }
    children.push_back(child);
  }
  ::close(pipe_fds[1]);
  std::string outcomes;
  char c;
  while (::read(pipe_fds[0], &c, 1) == 1) outcomes.push_back(c);
  ::close(pipe_fds[0]);
  for (pid_t child : children) ::waitpid(child, nullptr, 0);
  EXPECT_EQ(std::count(outcomes.begin(), outcomes.end(), 'W'), 1) << outcomes;
  EXPECT_EQ(std::count(outcomes.begin(), outcomes.end(), 'L'), kProcesses - 1) << outcomes;
}

}  // namespace
}  // namespace kvlab::experiments
