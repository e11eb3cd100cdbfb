// Content fingerprints: what a run's result depends on, hashed, so that resuming an
// experiment reuses a finished run only if nothing it depends on has changed.
#ifndef KVLAB_EXPERIMENTS_FINGERPRINT_H_
#define KVLAB_EXPERIMENTS_FINGERPRINT_H_

#include <string>

#include "absl/status/statusor.h"
#include "experiments/experiment.pb.h"

namespace kvlab::experiments {

// XXH3-128 of a file's bytes, as 32 hex digits. NotFound names the file.
absl::StatusOr<std::string> HashFile(const std::string& path);

// The fingerprint of running `cache` under `experiment`'s protocol, device and weights'
// dtype on the model and text with the given content hashes (32 hex digits).
std::string RunFingerprint(const config::Experiment& experiment, const config::CacheConfig& cache,
                           const std::string& model_hash, const std::string& text_hash);

}  // namespace kvlab::experiments

#endif  // KVLAB_EXPERIMENTS_FINGERPRINT_H_
