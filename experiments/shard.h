// Splitting an experiment's runs between processes ("shards") that share one output
// directory, e.g. the tasks of a Slurm job array:
//
//   run --config=sweep.pbtxt --shard=0/3   # and 1/3, 2/3, anywhere
//   merge --config=sweep.pbtxt             # builds results.{json,csv,md} and plots
//
// Lockstep batching changes results (a cache run alone and the same cache batched with
// others differ in fp32 rounding, which a 4-bit quantizer can turn into a visible
// perplexity change), so the unit of assignment is the lockstep batch, never a single
// run: the config's caches are cut into consecutive batches of `batch_caches` in config
// order, exactly as a single process cuts them. Every run then executes in the same
// company as in a single-process run and gives the same numbers. (The number of
// threads changes results the same way: shards match a single-process run when they
// use the same `threads`, which submit.sh never overrides.)
//
// A batch goes to the shard its run names hash to (ShardOf: XXH3-64 with seed 0, whose
// output xxHash fixes for every platform and release since 0.8.0), not to the shard of
// its position: adding, removing or reordering caches leaves every batch whose runs
// are unchanged on the shard it had, so a resubmitted array after a config edit finds
// each finished run where it was and reruns none of them. With `batch_caches` > 1 an
// inserted cache changes the company of the batches after it, which then rerun anyway
// (a run's fingerprint holds its company). Hashing balances shards only on average: a
// shard may get several batches while another gets none.
#ifndef KVLAB_EXPERIMENTS_SHARD_H_
#define KVLAB_EXPERIMENTS_SHARD_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kvlab::experiments {

// Shard `index` of `count`: 0 <= index < count. {0, 1} is the whole experiment.
struct Shard {
  int index = 0;
  int count = 1;

  bool is_whole() const { return count == 1; }
  std::string ToString() const;  // "1/3".
};

// Parses "I/N" (0 <= I < N). Errors name the flag or field given as `source`.
absl::StatusOr<Shard> ParseShard(absl::string_view text, absl::string_view source);

// The lockstep batches of `num_caches` caches in batches of up to `batch_caches`
// (>= 1): indices into the config's caches, consecutive, in config order.
std::vector<std::vector<int>> LockstepBatches(int num_caches, int batch_caches);

// The shard of `count` that the lockstep batch of runs `names` belongs to: XXH3-64
// (seed 0) of the names, each followed by a NUL byte, modulo `count`.
int ShardOf(const std::vector<std::string>& names, int count);

// The batches `shard` runs, out of LockstepBatches(cache_names.size(), batch_caches),
// in config order; `cache_names` are the config's caches' names, in config order.
std::vector<std::vector<int>> ShardBatches(const std::vector<std::string>& cache_names,
                                           int batch_caches, const Shard& shard);

}  // namespace kvlab::experiments

#endif  // KVLAB_EXPERIMENTS_SHARD_H_
