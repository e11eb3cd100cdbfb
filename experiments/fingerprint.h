// Content fingerprints: what a run's result depends on, hashed, so that resuming an
// experiment reuses a finished run only if nothing it depends on has changed.
#ifndef KVLAB_EXPERIMENTS_FINGERPRINT_H_
#define KVLAB_EXPERIMENTS_FINGERPRINT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "experiments/experiment.pb.h"

namespace kvlab::experiments {

// XXH3-128 of a file's bytes, as 32 hex digits. NotFound names the file.
absl::StatusOr<std::string> HashFile(const std::string& path);

// The content hash of a model kept in several files (a Hugging Face directory's
// config.json, tokenizer and safetensors): XXH3-128 of each file's name and hash, in
// order. One file hashes as HashFile does.
absl::StatusOr<std::string> HashFiles(const std::vector<std::string>& paths);

// How many times the computation of `cache`'s eviction policy has changed since
// results were first fingerprinted: 1 for most; bumped for a policy whose scoring
// changed (snapkv: the window scores the prefix only, with the paper runs' pooling;
// knorm: layer 0 left uncompressed; random: each sequence after the first draws from
// a stream of its own; lagkv: a budget below its sinks and tail keeps the sinks, then
// the newest), so runs computed the old way are not reused.
int MethodRevision(const config::CacheConfig& cache);

// The fingerprint of running `cache` under `experiment`'s protocol, device and weights'
// dtype on the model and text with the given content hashes (32 hex digits).
std::string RunFingerprint(const config::Experiment& experiment, const config::CacheConfig& cache,
                           const std::string& model_hash, const std::string& text_hash);

}  // namespace kvlab::experiments

#endif  // KVLAB_EXPERIMENTS_FINGERPRINT_H_
