#include "experiments/run_store.h"

#include <algorithm>
#include <filesystem>

#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "base/files.h"
#include "base/status_macros.h"

namespace kvlab::experiments {

std::string RunFile(const std::string& output_dir, const std::string& name) {
  return absl::StrFormat("%s/runs/%s.json", output_dir, name);
}

std::string RunLockFile(const std::string& output_dir, const std::string& name) {
  return absl::StrFormat("%s/runs/%s.lock", output_dir, name);
}

std::string ProgressFile(const std::string& output_dir, const std::string& first,
                         const Shard& shard) {
  if (shard.is_whole()) return absl::StrFormat("%s/runs/%s.progress.jsonl", output_dir, first);
  return absl::StrFormat("%s/runs/%s.progress.%d-of-%d.jsonl", output_dir, first, shard.index,
                         shard.count);
}

std::vector<std::string> SampleShardProgressFiles(const std::string& output_dir,
                                                  const std::string& first) {
  std::vector<std::string> files;
  std::error_code error;  // No runs folder: no files.
  for (const auto& entry : std::filesystem::directory_iterator(output_dir + "/runs", error)) {
    const std::string file_name = entry.path().filename().string();
    absl::string_view name = file_name;
    // <first>.progress.<I>-of-<N>.jsonl, with a shard that ParseShard accepts.
    if (!absl::ConsumeSuffix(&name, ".jsonl")) continue;
    const size_t marker = name.rfind(".progress.");
    if (marker == absl::string_view::npos) continue;
    if (!first.empty() && name.substr(0, marker) != first) continue;
    std::string shard(name.substr(marker + std::string(".progress.").size()));
    absl::StrReplaceAll({{"-of-", "/"}}, &shard);
    if (ParseShard(shard, entry.path().string()).ok()) files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
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
