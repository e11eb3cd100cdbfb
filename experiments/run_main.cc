// Runs an experiment config and prints its perplexity table.
//
//   bazel run //experiments:run -- --config=experiments/configs/baseline.pbtxt
//
// Flags override the config's model and text paths, output directory and threads
// (experiment_flags.h). --shard=I/N runs only shard I of N into a shared output
// directory (shard.h); `merge` then builds the aggregate files, or, for a protocol that
// splits its samples between shards (RULER), `run` without --shard gathers them.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/allocator.h"
#include "base/status_macros.h"
#include "experiments/experiment_flags.h"
#include "experiments/experiment_runner.h"
#include "experiments/results.h"
#include "experiments/shard.h"

ABSL_FLAG(std::string, shard, "",
          "I/N: run only shard I (0-based) of N, writing runs/<name>.json and no aggregate "
          "files; `merge` builds those");
ABSL_FLAG(bool, plan, false,
          "print how the config shards as one line, \"<shards> <threads> <device> "
          "<finish>\", and exit: <shards> is the most shards that can get work (the "
          "lockstep batches, or the sample groups of a protocol that splits samples) and "
          "<finish> what builds the aggregate files after them (\"merge\", or \"run\" "
          "without --shard, which gathers a sample-split run's samples); with "
          "--shard=I/N, then one line per lockstep batch shard I runs, its run names "
          "separated by spaces, in the order the shard runs them");

namespace kvlab::experiments {
namespace {

absl::Status Run() {
  Shard shard;
  if (!absl::GetFlag(FLAGS_shard).empty()) {
    KVLAB_ASSIGN_OR_RETURN(shard, ParseShard(absl::GetFlag(FLAGS_shard), "--shard"));
  }
  KVLAB_ASSIGN_OR_RETURN(const config::Experiment experiment, ExperimentFromFlags());
  if (absl::GetFlag(FLAGS_plan)) {
    KVLAB_ASSIGN_OR_RETURN(const int64_t sample_groups, SampleShardGroups(experiment));
    const std::vector<std::vector<int>> all =
        LockstepBatches(experiment.caches_size(), experiment.batch_caches());
    absl::PrintF("%d %d %s %s\n", sample_groups > 0 ? sample_groups : all.size(),
                 experiment.threads(), experiment.device().empty() ? "cpu" : experiment.device(),
                 sample_groups > 0 ? "run" : "merge");
    if (shard.is_whole()) return absl::OkStatus();
    const std::vector<std::string> names = CacheNames(experiment);
    // A sample shard runs its share of every batch.
    for (const std::vector<int>& batch :
         sample_groups > 0 ? all : ShardBatches(names, experiment.batch_caches(), shard)) {
      std::vector<std::string> batch_names;
      for (const int i : batch) batch_names.push_back(names[i]);
      absl::PrintF("%s\n", absl::StrJoin(batch_names, " "));
    }
    return absl::OkStatus();
  }
  KVLAB_ASSIGN_OR_RETURN(const std::vector<RunRecord> records, RunExperiment(experiment, shard));
  // A shard that finished no run (a sample shard never does) has no table to print.
  if (records.empty()) return absl::OkStatus();
  absl::PrintF("%s", FormatTable(records, FindBaseline(records, experiment.baseline())));
  return absl::OkStatus();
}

}  // namespace
}  // namespace kvlab::experiments

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Runs a kvlab experiment: run --config=experiments/configs/x.pbtxt [--shard=I/N]");
  absl::ParseCommandLine(argc, argv);
  kvlab::KeepFreedMemoryInProcess();
  const absl::Status status = kvlab::experiments::Run();
  if (!status.ok()) {
    absl::FPrintF(stderr, "run: %s\n", status.message());
    return 1;
  }
  return 0;
}
