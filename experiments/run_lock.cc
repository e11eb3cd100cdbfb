#include "experiments/run_lock.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <filesystem>
#include <optional>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "core/files.h"
#include "core/status_macros.h"
#include "nlohmann/json.hpp"

namespace kvlab::experiments {

namespace {

std::string HostName() {
  char name[256] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0) return "unknown-host";
  return name;
}

std::string BootId() {
  absl::StatusOr<std::string> id = ReadFileToString("/proc/sys/kernel/random/boot_id");
  return id.ok() ? std::string(absl::StripAsciiWhitespace(*id)) : "";
}

// Field 22 of /proc/<pid>/stat: the process's start time in clock ticks since boot.
// The command name (field 2) is in parentheses and may hold spaces, so the fields are
// counted from the last ')'.
std::optional<int64_t> StartTicks(int64_t pid) {
  absl::StatusOr<std::string> stat = ReadFileToString(absl::StrCat("/proc/", pid, "/stat"));
  if (!stat.ok()) return std::nullopt;
  const size_t close = stat->rfind(')');
  if (close == std::string::npos) return std::nullopt;
  const std::vector<absl::string_view> fields =
      absl::StrSplit(absl::string_view(*stat).substr(close + 1), ' ', absl::SkipEmpty());
  // After ')' come field 3 (state) onwards, so field 22 is at index 19.
  int64_t ticks = 0;
  if (fields.size() <= 19 || !absl::SimpleAtoi(fields[19], &ticks)) return std::nullopt;
  return ticks;
}

bool ProcessExists(int64_t pid) {
  return pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
}

// Holds an exclusive flock on a file for its lifetime.
class FileGuard {
 public:
  static absl::StatusOr<FileGuard> Lock(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      return absl::PermissionDeniedError(
          absl::StrFormat("%s: cannot open: %s", path, std::strerror(errno)));
    }
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return absl::UnavailableError(
          absl::StrFormat("%s: cannot lock: %s", path, std::strerror(err)));
    }
    return FileGuard(fd);
  }
  FileGuard(FileGuard&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  FileGuard(const FileGuard&) = delete;
  FileGuard& operator=(const FileGuard&) = delete;
  ~FileGuard() {
    if (fd_ >= 0) ::close(fd_);  // Closing drops the flock.
  }

 private:
  explicit FileGuard(int fd) : fd_(fd) {}
  int fd_;
};

// Creates `path` holding `contents` only if it does not exist: written under a
// temporary name first, then hard-linked into place (link never replaces a file).
// Returns false if `path` exists.
absl::StatusOr<bool> CreateExclusively(const std::string& path, const std::string& contents) {
  const std::string temp = absl::StrCat(path, ".new.", ::getpid());
  KVLAB_RETURN_IF_ERROR(WriteFileAtomically(temp, contents));
  const int result = ::link(temp.c_str(), path.c_str());
  const int err = errno;
  ::unlink(temp.c_str());
  if (result == 0) return true;
  if (err == EEXIST) return false;
  return absl::PermissionDeniedError(
      absl::StrFormat("%s: cannot create lock: %s", path, std::strerror(err)));
}

// The lock files this process holds, for the signal handler: fixed slots of
// heap-allocated paths, so that the handler neither allocates nor takes a lock.
constexpr int kMaxHeldLocks = 1024;
std::atomic<const char*> held_lock_paths[kMaxHeldLocks];

void RememberHeld(const char* path) {
  for (auto& slot : held_lock_paths) {
    const char* empty = nullptr;
    if (slot.compare_exchange_strong(empty, path)) return;
  }
  // More locks than slots: those beyond are left to stale-lock detection.
}

void ForgetHeld(const char* path) {
  for (auto& slot : held_lock_paths) {
    const char* expected = path;
    if (slot.compare_exchange_strong(expected, nullptr)) return;
  }
}

// SIGTERM is how Slurm cancels a job or ends it at its time limit, and the next task
// may start on another host, which could not tell that this process is gone: remove
// the locks, then die of the signal as before.
extern "C" void ReleaseHeldLocksAndReraise(int signal_number) {
  for (auto& slot : held_lock_paths) {
    if (const char* path = slot.exchange(nullptr)) ::unlink(path);
  }
  ::signal(signal_number, SIG_DFL);
  ::raise(signal_number);
}

void ReleaseLocksOnTermination() {
  static std::once_flag once;
  std::call_once(once, [] {
    for (const int signal_number : {SIGTERM, SIGINT, SIGHUP}) {
      struct sigaction current = {};
      if (::sigaction(signal_number, nullptr, &current) != 0) continue;
      if (current.sa_handler != SIG_DFL) continue;  // Someone else handles it; leave it.
      struct sigaction action = {};
      action.sa_handler = ReleaseHeldLocksAndReraise;
      sigemptyset(&action.sa_mask);
      ::sigaction(signal_number, &action, nullptr);
    }
  });
}

absl::Status HeldBy(const std::string& path, const LockOwner& owner) {
  return absl::UnavailableError(absl::StrFormat("%s: held by %s", path, owner.Describe()));
}

}  // namespace

LockOwner LockOwner::Current() {
  LockOwner owner;
  owner.host = HostName();
  owner.boot_id = BootId();
  owner.pid = ::getpid();
  owner.start_ticks = StartTicks(owner.pid).value_or(0);
  return owner;
}

std::string LockOwner::ToJson() const {
  nlohmann::json json = {
      {"host", host}, {"boot_id", boot_id}, {"pid", pid}, {"start_ticks", start_ticks}};
  return json.dump() + "\n";
}

absl::StatusOr<LockOwner> LockOwner::FromJson(absl::string_view text, const std::string& source) {
  const nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  const auto bad = [&source]() {
    return absl::DataLossError(absl::StrFormat(
        "%s: not a run lock (expected a JSON object with host, boot_id, pid and start_ticks)",
        source));
  };
  if (!json.is_object()) return bad();
  for (const char* key : {"host", "boot_id"}) {
    if (!json.contains(key) || !json[key].is_string()) return bad();
  }
  for (const char* key : {"pid", "start_ticks"}) {
    if (!json.contains(key) || !json[key].is_number_integer()) return bad();
  }
  LockOwner owner;
  owner.host = json["host"].get<std::string>();
  owner.boot_id = json["boot_id"].get<std::string>();
  owner.pid = json["pid"].get<int64_t>();
  owner.start_ticks = json["start_ticks"].get<int64_t>();
  return owner;
}

std::string LockOwner::Describe() const { return absl::StrFormat("%s pid %d", host, pid); }

bool OwnerMayBeAlive(const LockOwner& owner) {
  const LockOwner self = LockOwner::Current();
  if (owner.host != self.host) return true;
  if (!owner.boot_id.empty() && !self.boot_id.empty() && owner.boot_id != self.boot_id) {
    return false;
  }
  if (!ProcessExists(owner.pid)) return false;
  const std::optional<int64_t> ticks = StartTicks(owner.pid);
  return !ticks.has_value() || owner.start_ticks == 0 || *ticks == owner.start_ticks;
}

absl::StatusOr<RunLock> RunLock::Acquire(const std::string& path) {
  const LockOwner self = LockOwner::Current();
  const std::string contents = self.ToJson();
  KVLAB_ASSIGN_OR_RETURN(const bool created, CreateExclusively(path, contents));
  if (created) return RunLock(path, self);

  // Someone holds it, or held it and died. Only one process at a time may judge and
  // break a stale lock, or two could each remove the other's fresh one.
  const std::filesystem::path dir = std::filesystem::path(path).parent_path();
  KVLAB_ASSIGN_OR_RETURN(FileGuard guard, FileGuard::Lock((dir / ".run_locks").string()));
  absl::StatusOr<std::string> text = ReadFileToString(path);
  if (!text.ok()) {
    // Released since the first attempt.
    KVLAB_ASSIGN_OR_RETURN(const bool retried, CreateExclusively(path, contents));
    if (retried) return RunLock(path, self);
    return absl::UnavailableError(absl::StrFormat("%s: held by another process", path));
  }
  KVLAB_ASSIGN_OR_RETURN(const LockOwner owner, LockOwner::FromJson(*text, path));
  if (OwnerMayBeAlive(owner)) return HeldBy(path, owner);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return absl::PermissionDeniedError(
        absl::StrFormat("%s: cannot remove stale lock: %s", path, std::strerror(errno)));
  }
  KVLAB_ASSIGN_OR_RETURN(const bool retried, CreateExclusively(path, contents));
  if (retried) return RunLock(path, self);
  return absl::UnavailableError(absl::StrFormat("%s: held by another process", path));
}

RunLock::RunLock(const std::string& path, LockOwner owner)
    : path_(path), signal_path_(new char[path.size() + 1]), owner_(std::move(owner)) {
  std::memcpy(signal_path_.get(), path.c_str(), path.size() + 1);
  ReleaseLocksOnTermination();
  RememberHeld(signal_path_.get());
}

RunLock::RunLock(RunLock&& other) noexcept
    : path_(std::exchange(other.path_, "")),
      signal_path_(std::move(other.signal_path_)),
      owner_(std::move(other.owner_)) {}

RunLock& RunLock::operator=(RunLock&& other) noexcept {
  if (this != &other) {
    Release().IgnoreError();
    path_ = std::exchange(other.path_, "");
    signal_path_ = std::move(other.signal_path_);
    owner_ = std::move(other.owner_);
  }
  return *this;
}

RunLock::~RunLock() { Release().IgnoreError(); }

absl::Status RunLock::Release() {
  if (path_.empty()) return absl::OkStatus();
  const std::string path = std::exchange(path_, "");
  ForgetHeld(signal_path_.get());
  signal_path_.reset();
  absl::StatusOr<std::string> text = ReadFileToString(path);
  // Gone, or no longer ours (removed by hand and claimed again): nothing to release.
  if (!text.ok() || *text != owner_.ToJson()) return absl::OkStatus();
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return absl::PermissionDeniedError(
        absl::StrFormat("%s: cannot remove lock: %s", path, std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace kvlab::experiments
