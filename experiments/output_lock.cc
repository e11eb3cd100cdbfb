#include "experiments/output_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace kvlab::experiments {

namespace {

// The suffix WriteFileAtomically gives its temporary files: ".tmp." and six characters.
bool IsLeftoverTemporary(const std::filesystem::path& file) {
  const std::string name = file.filename().string();
  const size_t at = name.rfind(".tmp.");
  return at != std::string::npos && at + 5 + 6 == name.size();
}

void RemoveLeftoverTemporaries(const std::string& dir) {
  for (const std::string& folder : {dir, dir + "/runs"}) {
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(folder, error)) {
      if (entry.is_regular_file(error) && IsLeftoverTemporary(entry.path())) {
        std::filesystem::remove(entry.path(), error);
      }
    }
  }
}

absl::Status CreateDirectory(const std::string& dir) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    return absl::PermissionDeniedError(
        absl::StrFormat("%s: cannot create output directory: %s", dir, error.message()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<OutputLock> OutputLock::Acquire(const std::string& path, bool exclusive,
                                               const std::string& what) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::PermissionDeniedError(absl::StrFormat(
        "%s: cannot create lock file (is the output directory writable?): %s", path,
        std::strerror(errno)));
  }
  if (::flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0) {
    const int err = errno;
    // An exclusive holder writes its pid into the lock file; a shared one does not.
    char buffer[32] = {};
    const ssize_t n = ::pread(fd, buffer, sizeof(buffer) - 1, 0);
    ::close(fd);
    if (err != EWOULDBLOCK) {
      return absl::InternalError(absl::StrFormat("%s: cannot lock: %s", path, std::strerror(err)));
    }
    std::string holder(buffer, n > 0 ? static_cast<size_t>(n) : 0);
    absl::StripAsciiWhitespace(&holder);
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s is in use by another run (lock %s%s); wait for it to finish or choose another "
        "output_dir",
        what, path, holder.empty() ? "" : absl::StrCat(", held by pid ", holder)));
  }
  if (exclusive) {
    const std::string pid = absl::StrCat(::getpid(), "\n");
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
      const int err = errno;
      ::close(fd);
      return absl::PermissionDeniedError(
          absl::StrFormat("%s: cannot write lock file: %s", path, std::strerror(err)));
    }
  }
  return OutputLock(fd, path, exclusive);
}

absl::StatusOr<OutputLock> OutputLock::Exclusive(const std::string& dir) {
  if (absl::Status s = CreateDirectory(dir); !s.ok()) return s;
  absl::StatusOr<OutputLock> lock =
      Acquire(dir + "/.lock", /*exclusive=*/true, absl::StrCat("output directory ", dir));
  // No other writer can be active now: any temporary file is a killed writer's.
  if (lock.ok()) RemoveLeftoverTemporaries(dir);
  return lock;
}

absl::StatusOr<OutputLock> OutputLock::Shared(const std::string& dir) {
  if (absl::Status s = CreateDirectory(dir); !s.ok()) return s;
  return Acquire(dir + "/.lock", /*exclusive=*/false, absl::StrCat("output directory ", dir));
}

OutputLock::OutputLock(OutputLock&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      path_(std::move(other.path_)),
      exclusive_(other.exclusive_) {}

OutputLock& OutputLock::operator=(OutputLock&& other) noexcept {
  if (this != &other) {
    Release();
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
    exclusive_ = other.exclusive_;
  }
  return *this;
}

OutputLock::~OutputLock() { Release(); }

void OutputLock::Release() {
  if (fd_ < 0) return;
  // The pid is no longer the holder's. Closing the descriptor releases the flock; the
  // file stays for the next holder.
  if (exclusive_ && ::ftruncate(fd_, 0) != 0) {
    // Nothing to do: a stale pid only shows in another run's error message.
  }
  ::close(fd_);
  fd_ = -1;
}

}  // namespace kvlab::experiments
