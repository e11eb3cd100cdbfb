#include "experiments/merge.h"

#include "absl/strings/str_format.h"
#include "base/files.h"
#include "experiments/fingerprint.h"
#include "experiments/run_lock.h"
#include "experiments/run_settings.h"
#include "experiments/run_store.h"

namespace kvlab::experiments {

MergedRuns CollectFinishedRuns(const config::Experiment& e, const std::string& output_dir,
                               const std::string& model_hash, const std::string& text_hash,
                               int threads, const std::string& library_build) {
  MergedRuns merged;
  for (int i = 0; i < e.caches_size(); ++i) {
    const config::CacheConfig& c = e.caches(i);
    absl::StatusOr<RunRecord> run = LoadFinishedRun(
        output_dir, c.name(),
        WithRunSettings(RunFingerprint(e, c, model_hash, text_hash), e, i, threads, library_build));
    if (run.ok()) {
      merged.records.push_back(*std::move(run));
      continue;
    }
    if (!absl::IsNotFound(run.status())) {
      merged.refused.push_back(std::string(run.status().message()));
      continue;
    }
    std::string missing = c.name();
    const std::string lock_file = RunLockFile(output_dir, c.name());
    if (absl::StatusOr<std::string> lock = ReadFileToString(lock_file); lock.ok()) {
      if (absl::StatusOr<LockOwner> owner = LockOwner::FromJson(*lock, lock_file); owner.ok()) {
        missing += OwnerMayBeAlive(*owner)
                       ? absl::StrFormat(" (in progress: %s)", owner->Describe())
                       : absl::StrFormat(" (its process, %s, is gone)", owner->Describe());
      }
    }
    merged.missing.push_back(missing);
  }
  return merged;
}

}  // namespace kvlab::experiments
