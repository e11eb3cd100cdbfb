// Locks that keep runs from writing into the same output directory at once.
//
// The contract between runs sharing an output directory:
// - An unsharded run, and the merge of a sharded one, hold the directory lock
//   exclusively: they alone write the aggregate files (results.*, plots).
// - A shard holds the directory lock shared (so an unsharded run or a merge cannot
//   start beside it, while other shards can), claims each run it computes with a
//   RunLock (run_lock.h), and writes only runs/<name>.json.
// A lock that is taken is never waited for: the caller gets an error naming the
// directory, and the user decides. The directory lock is an advisory flock(2) on
// `<dir>/.lock`; the kernel drops it when the holder exits, however it exits, so a
// killed run never leaves a stale directory lock behind.
//
//   KVLAB_ASSIGN_OR_RETURN(OutputLock lock, OutputLock::Exclusive(output_dir));
//   ... write results; the lock is released when `lock` is destroyed.
#ifndef KVLAB_EXPERIMENTS_OUTPUT_LOCK_H_
#define KVLAB_EXPERIMENTS_OUTPUT_LOCK_H_

#include <string>

#include "absl/status/statusor.h"

namespace kvlab::experiments {

class OutputLock {
 public:
  // Creates `dir` if needed and locks it for writing the aggregate files. Fails with
  // FailedPrecondition if another process holds the directory lock in either mode,
  // and with PermissionDenied (naming the path) if the directory cannot be written.
  // Leftover temporary files of an earlier, killed writer are removed.
  static absl::StatusOr<OutputLock> Exclusive(const std::string& dir);
  // Creates `dir` if needed and locks it shared, as a shard does.
  static absl::StatusOr<OutputLock> Shared(const std::string& dir);

  OutputLock(OutputLock&& other) noexcept;
  OutputLock& operator=(OutputLock&& other) noexcept;
  OutputLock(const OutputLock&) = delete;
  OutputLock& operator=(const OutputLock&) = delete;
  ~OutputLock();

  // The lock file held.
  const std::string& path() const { return path_; }

 private:
  OutputLock(int fd, std::string path, bool exclusive)
      : fd_(fd), path_(std::move(path)), exclusive_(exclusive) {}
  void Release();
  static absl::StatusOr<OutputLock> Acquire(const std::string& path, bool exclusive,
                                            const std::string& what);

  int fd_ = -1;
  std::string path_;
  bool exclusive_ = false;
};

}  // namespace kvlab::experiments

#endif  // KVLAB_EXPERIMENTS_OUTPUT_LOCK_H_
