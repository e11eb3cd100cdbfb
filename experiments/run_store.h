// Where an experiment's finished runs live in its output directory, and reading them
// back:
//
//   <output_dir>/runs/<name>.json   one finished run (RunToJson), written atomically
//   <output_dir>/runs/<name>.lock   a run in progress in a sharded run (run_lock.h)
#ifndef KVLAB_EXPERIMENTS_RUN_STORE_H_
#define KVLAB_EXPERIMENTS_RUN_STORE_H_

#include <string>

#include "absl/status/statusor.h"
#include "experiments/results.h"

namespace kvlab::experiments {

std::string RunFile(const std::string& output_dir, const std::string& name);
std::string RunLockFile(const std::string& output_dir, const std::string& name);

// The finished run stored for `name` if its fingerprint is `fingerprint`. NotFound
// when there is none; FailedPrecondition when it was run with something else (config,
// model, text or results version: its fingerprint differs); DataLoss when the file is
// not a run record. Errors name the file.
absl::StatusOr<RunRecord> LoadFinishedRun(const std::string& output_dir, const std::string& name,
                                          const std::string& fingerprint);

}  // namespace kvlab::experiments

#endif  // KVLAB_EXPERIMENTS_RUN_STORE_H_
