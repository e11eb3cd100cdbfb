#include "experiments/run_store.h"

#include <filesystem>

#include "absl/strings/str_format.h"
#include "core/files.h"
#include "core/status_macros.h"

namespace kvlab::experiments {

std::string RunFile(const std::string& output_dir, const std::string& name) {
  return absl::StrFormat("%s/runs/%s.json", output_dir, name);
}

std::string RunLockFile(const std::string& output_dir, const std::string& name) {
  return absl::StrFormat("%s/runs/%s.lock", output_dir, name);
}

absl::StatusOr<RunRecord> LoadFinishedRun(const std::string& output_dir, const std::string& name,
                                          const std::string& fingerprint) {
  const std::string path = RunFile(output_dir, name);
  if (!std::filesystem::exists(path)) {
    return absl::NotFoundError(absl::StrFormat("%s: not run yet", path));
  }
  KVLAB_ASSIGN_OR_RETURN(const std::string text, ReadFileToString(path));
  absl::StatusOr<RunRecord> record = ParseRunJson(text, path);
  if (!record.ok()) return absl::DataLossError(record.status().message());
  if (record->fingerprint != fingerprint) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: fingerprint %s differs from the config's %s (run with another config, model, "
        "text or kvlab version)",
        path, record->fingerprint, fingerprint));
  }
  return *std::move(record);
}

}  // namespace kvlab::experiments
