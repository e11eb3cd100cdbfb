// A claim on one run of a sweep, shared between processes that may sit on different
// hosts and write into one output directory (sharded runs on a cluster):
//
//   absl::StatusOr<RunLock> lock = RunLock::Acquire("results/x/runs/h2o-b256.lock");
//   if (absl::IsUnavailable(lock.status())) { /* another live process runs it */ }
//   ... run, write runs/h2o-b256.json ...
//   // ~RunLock (or Release()) removes the lock file.
//
// The lock file names its owner: host, boot id, pid and the process's start time. A
// lock is stale, and taken over, when its owner was on this host and that process is
// gone (killed, crashed, or the host rebooted); a pid reused by a newer process does not
// keep it alive, the start time tells them apart. A lock owned by another host is
// always honoured: only that host can tell whether its owner lives.
//
// Creation is atomic (the file is written under a temporary name and hard-linked into
// place), so a reader never sees a half-written lock, and two processes never both
// hold one. Breaking stale locks is serialised by an flock on `<dir>/.run_locks`.
//
// A process killed by SIGTERM, SIGINT or SIGHUP (Slurm's scancel and time limit send
// SIGTERM) removes the locks it holds before it dies, unless the program installed its
// own handlers; after SIGKILL its locks wait for stale-lock detection on its host.
#ifndef KVLAB_EXPERIMENTS_RUN_LOCK_H_
#define KVLAB_EXPERIMENTS_RUN_LOCK_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kvlab::experiments {

// Who holds a lock.
struct LockOwner {
  std::string host;     // gethostname().
  std::string boot_id;  // /proc/sys/kernel/random/boot_id: changes when the host reboots.
  int64_t pid = 0;
  int64_t start_ticks = 0;  // The process's start time (/proc/<pid>/stat), against pid reuse.

  // This process.
  static LockOwner Current();
  std::string ToJson() const;
  // Errors name `source` and what was expected.
  static absl::StatusOr<LockOwner> FromJson(absl::string_view text, const std::string& source);
  // "host pid 1234".
  std::string Describe() const;
};

// Whether `owner` may still be running: false only when it was on this host and that
// process is gone (or the host has rebooted since).
bool OwnerMayBeAlive(const LockOwner& owner);

class RunLock {
 public:
  // Claims `path` for this process. Unavailable, naming the owner, when a live process
  // (this one included) holds it; other errors name the file.
  static absl::StatusOr<RunLock> Acquire(const std::string& path);

  RunLock(RunLock&& other) noexcept;
  RunLock& operator=(RunLock&& other) noexcept;
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;
  ~RunLock();

  // Removes the lock file if it still names this process. Idempotent.
  absl::Status Release();

  const std::string& path() const { return path_; }

 private:
  RunLock(const std::string& path, LockOwner owner);

  std::string path_;  // Empty once released or moved from.
  // The same path, at an address that moves never change, for the signal handler.
  std::unique_ptr<char[]> signal_path_;
  LockOwner owner_;
};

}  // namespace kvlab::experiments

#endif  // KVLAB_EXPERIMENTS_RUN_LOCK_H_
