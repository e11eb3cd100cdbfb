#include "experiments/run_settings.h"

#include <xxhash.h>

#include <algorithm>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "experiments/shard.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace kvlab::experiments {

namespace {

std::string Deterministic(const google::protobuf::Message& message) {
  std::string bytes;
  google::protobuf::io::StringOutputStream stream(&bytes);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  message.SerializeToCodedStream(&coded);
  coded.Trim();
  return bytes;
}

// `e` without what changes no number (or is fingerprinted elsewhere: the protocol and
// the cache by RunFingerprint, the model's and text's contents by their hashes).
config::Experiment SharedSettings(const config::Experiment& e, int threads) {
  config::Experiment shared = e;
  shared.clear_name();
  shared.clear_model_path();
  shared.clear_text_path();
  shared.clear_tokenizer_path();
  shared.clear_output_dir();
  shared.clear_caches();
  shared.clear_sweeps();
  shared.clear_baseline();
  shared.clear_allow_beyond_trained_context();
  shared.clear_min_scored_tokens();
  shared.clear_protocol();
  shared.set_threads(threads);
  return shared;
}

}  // namespace

int MachineThreads() { return static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

absl::StatusOr<int> ResolveThreads(int requested) {
  if (requested <= 0) return MachineThreads();
  if (requested > MachineThreads()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("threads must be at most %d (the logical CPUs this machine has), got %d",
                        MachineThreads(), requested));
  }
  return requested;
}

std::string WithRunSettings(const std::string& run_fingerprint, const config::Experiment& e, int i,
                            int threads, const std::string& library_build) {
  std::string input =
      absl::StrCat(run_fingerprint, "\n", Deterministic(SharedSettings(e, threads)), "\n");
  // The company: a lockstep batch sums in another order than a cache run alone.
  for (const std::vector<int>& batch : LockstepBatches(e.caches_size(), e.batch_caches())) {
    if (std::find(batch.begin(), batch.end(), i) == batch.end()) continue;
    for (const int k : batch) {
      config::CacheConfig companion = e.caches(k);
      companion.clear_name();
      absl::StrAppend(&input, k == i ? "this " : "with ", Deterministic(companion), "\n");
    }
  }
  absl::StrAppend(&input, library_build);
  const XXH128_hash_t hash = XXH3_128bits(input.data(), input.size());
  return absl::StrFormat("%016x%016x", hash.high64, hash.low64);
}

}  // namespace kvlab::experiments
