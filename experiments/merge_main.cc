// Builds an experiment's aggregate files (results.json, results.csv, results.md and
// the plots) from the finished runs in its output directory, e.g. after the shards of
// a sweep ran (`run --shard=I/N`), and prints the table:
//
//   bazel run //experiments:merge -- --config=experiments/configs/eviction_streaming.pbtxt
//
// Takes the same flags as `run`. Lists the runs that are missing and refuses those
// whose fingerprint does not match the config (run with another config, model or
// text); the aggregate files then hold the others, and it exits non-zero.
#include <cstdio>

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "eval/model/load_model.h"
#include "experiments/aggregate.h"
#include "experiments/experiment_flags.h"
#include "experiments/fingerprint.h"
#include "experiments/library_build.h"
#include "experiments/merge.h"
#include "experiments/model_hash.h"
#include "experiments/output_lock.h"
#include "experiments/run_settings.h"
#include "experiments/run_store.h"

namespace kvlab::experiments {
namespace {

absl::Status Merge() {
  KVLAB_ASSIGN_OR_RETURN(const config::Experiment e, ExperimentFromFlags());
  const std::string model_path = ResolveUserPath(e.model_path());
  const std::string text_path = ResolveUserPath(e.text_path());
  const std::string output_dir = ResolveUserPath(e.output_dir());
  // Shards still running hold the directory shared: the merge waits for none of them.
  KVLAB_ASSIGN_OR_RETURN(const OutputLock lock, OutputLock::Exclusive(output_dir));
  // The model's name titles the tables; its headers are all that is read.
  KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<model::ModelFiles> files,
                         model::ModelFiles::Open(model_path));
  KVLAB_ASSIGN_OR_RETURN(const model::ModelInfo model_info, model::ReadModelInfo(*files));
  KVLAB_ASSIGN_OR_RETURN(
      const std::string model_hash,
      HashModel(*files, e.tokenizer_path().empty() ? "" : ResolveUserPath(e.tokenizer_path())));
  KVLAB_ASSIGN_OR_RETURN(const std::string text_hash, HashFile(text_path));

  // The runs' threads as `run` resolves them: submit.sh gives the merge the tasks' --threads.
  KVLAB_ASSIGN_OR_RETURN(const int threads, ResolveThreads(e.threads()));
  const MergedRuns merged =
      CollectFinishedRuns(e, output_dir, model_hash, text_hash, threads, LibraryBuild());
  for (const std::string& line : merged.refused) absl::FPrintF(stderr, "refused: %s\n", line);
  if (!merged.missing.empty()) {
    absl::FPrintF(stderr, "missing %d: %s\n", merged.missing.size(),
                  absl::StrJoin(merged.missing, ", "));
  }
  if (!merged.missing.empty() && !SampleShardProgressFiles(output_dir).empty()) {
    absl::FPrintF(stderr,
                  "%s/runs holds sample shards' progress files: `run` without --shard "
                  "gathers them into the runs (merge only collects finished runs)\n",
                  output_dir);
  }
  if (merged.records.empty()) {
    return absl::NotFoundError(
        absl::StrFormat("%s/runs: no finished run of this config; nothing written", output_dir));
  }
  KVLAB_RETURN_IF_ERROR(WriteAggregates(e, model_info.name, merged.records, output_dir));
  absl::PrintF("%s", FormatTable(merged.records, FindBaseline(merged.records, e.baseline())));
  absl::FPrintF(stderr, "merged %d of %d runs: %s/results.{json,csv,md} and plots\n",
                merged.records.size(), e.caches_size(), output_dir);
  if (!merged.complete()) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "incomplete: %d missing, %d refused", merged.missing.size(), merged.refused.size()));
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace kvlab::experiments

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Builds an experiment's results from its finished runs: merge --config=x.pbtxt");
  absl::ParseCommandLine(argc, argv);
  const absl::Status status = kvlab::experiments::Merge();
  if (!status.ok()) {
    absl::FPrintF(stderr, "merge: %s\n", status.message());
    return 1;
  }
  return 0;
}
