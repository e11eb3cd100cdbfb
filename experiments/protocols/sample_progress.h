// SampleProgress: the samples a lockstep batch has finished, kept on disk as they finish
// so that an interrupted batch resumes at the next sample instead of its first.
//
// The file is JSON lines: the first holds the batch's key (its runs' fingerprints), each
// next one sample's records for every cache of the batch, appended and flushed when the
// sample ends. A file whose key differs (the batch's caches, model, text or settings
// changed) is started afresh, so a resume never mixes runs made differently; a last
// line cut short by a crash is dropped, and its sample runs again. The runner removes
// the file once the batch's run files are written.
#ifndef KVLAB_EXPERIMENTS_PROTOCOLS_SAMPLE_PROGRESS_H_
#define KVLAB_EXPERIMENTS_PROTOCOLS_SAMPLE_PROGRESS_H_

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace kvlab::experiments {

class SampleProgress {
 public:
  // Opens `path` for `key`: the samples kept under that key are read back (samples()),
  // anything else in the file is discarded. Errors name the file.
  static absl::StatusOr<std::unique_ptr<SampleProgress>> Open(const std::string& path,
                                                              const std::string& key);
  // The samples kept under `key` in `path`, read only: none when the file is absent or
  // holds another key. For files that other processes wrote (a sharded run's).
  static absl::StatusOr<std::vector<nlohmann::ordered_json>> Read(const std::string& path,
                                                                 const std::string& key);
  ~SampleProgress();

  // One entry per finished sample, in the order they finished, as Append wrote it.
  const std::vector<nlohmann::ordered_json>& samples() const { return samples_; }

  // Keeps one more finished sample: one line, flushed to the file before returning.
  absl::Status Append(const nlohmann::ordered_json& sample);

 private:
  SampleProgress(std::string path, std::FILE* file, std::vector<nlohmann::ordered_json> samples)
      : path_(std::move(path)), file_(file), samples_(std::move(samples)) {}

  std::string path_;
  std::FILE* file_;
  std::vector<nlohmann::ordered_json> samples_;
};

}  // namespace kvlab::experiments

#endif  // KVLAB_EXPERIMENTS_PROTOCOLS_SAMPLE_PROGRESS_H_
