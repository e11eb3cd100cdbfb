// Where an experiment's finished runs live in its output directory, and reading them
// back:
//
//   <output_dir>/runs/<name>.json   one finished run (RunToJson), written atomically
//   <output_dir>/runs/<name>.lock   a run in progress in a sharded run (run_lock.h)
//   <output_dir>/runs/<first>.progress.jsonl         the samples a lockstep batch whose
//                                                    first cache is <first> finished
//   <output_dir>/runs/<first>.progress.<I>-of-<N>.jsonl  those sample shard I of N ran
#ifndef KVLAB_EXPERIMENTS_RUN_STORE_H_
#define KVLAB_EXPERIMENTS_RUN_STORE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "experiments/results.h"
#include "experiments/shard.h"

namespace kvlab::experiments {

std::string RunFile(const std::string& output_dir, const std::string& name);
std::string RunLockFile(const std::string& output_dir, const std::string& name);

// Where the lockstep batch whose first cache is `first` keeps its finished samples
// (protocols/sample_progress.h): the whole run's file, or sample shard `shard`'s.
std::string ProgressFile(const std::string& output_dir, const std::string& first,
                         const Shard& shard = Shard());

// The sample shards' progress files in `output_dir`/runs, of any shard count, sorted:
// those of the batch whose first cache is `first`, or of every batch when it is "".
std::vector<std::string> SampleShardProgressFiles(const std::string& output_dir,
                                                  const std::string& first = "");

// The finished run stored for `name` if its fingerprint is `fingerprint`. NotFound
// when there is none; FailedPrecondition when it was run with something else (config,
// model, text or results version: its fingerprint differs); DataLoss when the file is
// not a run record. Errors name the file.
absl::StatusOr<RunRecord> LoadFinishedRun(const std::string& output_dir, const std::string& name,
                                          const std::string& fingerprint);

}  // namespace kvlab::experiments

#endif  // KVLAB_EXPERIMENTS_RUN_STORE_H_
