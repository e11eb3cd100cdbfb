// The settings a run's numbers depend on beyond its model, text, protocol and cache:
// what every run of an experiment shares (threads, device, weights, lockstep batch
// size, and any other field of the experiment that is not a path, a name or a
// tolerance), the company a cache runs in, and the builds that compute it. They change
// a perplexity's last bits (docs/reliability.md, Determinism), which int4 amplifies, so
// a resumed or merged table takes a finished run only when they are the same.
//
//   KVLAB_ASSIGN_OR_RETURN(const int threads, ResolveThreads(e.threads()));
//   const std::string fingerprint =
//       WithRunSettings(RunFingerprint(e, e.caches(i), model_hash, text_hash), e, i, threads,
//                       LibraryBuild());
#ifndef KVLAB_EXPERIMENTS_RUN_SETTINGS_H_
#define KVLAB_EXPERIMENTS_RUN_SETTINGS_H_

#include <string>

#include "absl/status/statusor.h"
#include "experiments/experiment.pb.h"

namespace kvlab::experiments {

// The logical CPUs this machine has (at least 1): the most threads a run may ask for.
int MachineThreads();

// The threads a run uses: `requested` when > 0, else MachineThreads(). More than
// MachineThreads() is an InvalidArgument naming `threads` and the limit: more threads
// than CPUs only wait on each other, and thousands of them hang the start-up.
absl::StatusOr<int> ResolveThreads(int requested);

// `run_fingerprint` (RunFingerprint, fingerprint.h) of cache `i` of `e`, extended with
// the settings every run shares: `e`'s fields other than its name, paths, protocol,
// caches, sweeps, baseline and tolerances (allow_beyond_trained_context,
// min_scored_tokens), with `threads` (resolved) for its threads; the configs of the
// caches in i's lockstep batch (names aside) and i's place in it; and `library_build`
// (library_build.h).
// A field added to Experiment is covered unless it is named here as one that changes no
// number.
std::string WithRunSettings(const std::string& run_fingerprint, const config::Experiment& e, int i,
                            int threads, const std::string& library_build);

}  // namespace kvlab::experiments

#endif  // KVLAB_EXPERIMENTS_RUN_SETTINGS_H_
