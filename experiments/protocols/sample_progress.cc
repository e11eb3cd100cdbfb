#include "experiments/protocols/sample_progress.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_format.h"
#include "base/status_macros.h"

namespace kvlab::experiments {
namespace {

using Json = nlohmann::ordered_json;

// The samples kept under `key` in the text of a progress file; none when its first line
// holds another key or is not a key line.
std::vector<Json> KeptSamples(const std::string& text, const std::string& key) {
  std::vector<Json> samples;
  std::istringstream lines(text);
  std::string line;
  if (!std::getline(lines, line)) return samples;
  const Json header = Json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!header.is_object() || !header.contains("key") || header["key"] != key) return samples;
  // Only whole lines count: the last may have been cut short by a crash mid-write.
  while (std::getline(lines, line)) {
    if (lines.eof() && !text.empty() && text.back() != '\n') break;
    Json sample = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (sample.is_discarded()) break;
    samples.push_back(std::move(sample));
  }
  return samples;
}

}  // namespace

absl::StatusOr<std::vector<Json>> SampleProgress::Read(const std::string& path,
                                                       const std::string& key) {
  if (!std::filesystem::exists(path)) return std::vector<Json>{};
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrFormat("%s: read error", path));
  return KeptSamples(text.str(), key);
}

absl::StatusOr<std::unique_ptr<SampleProgress>> SampleProgress::Open(const std::string& path,
                                                                     const std::string& key) {
  KVLAB_ASSIGN_OR_RETURN(std::vector<Json> samples, Read(path, key));
  // Rewritten with what is kept, so a discarded or cut-short tail is gone from the file.
  std::error_code ignored;  // A folder that cannot be made fails the open below.
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ignored);
  std::FILE* file = std::fopen(path.c_str(), "w");
  if (file == nullptr) {
    return absl::PermissionDeniedError(
        absl::StrFormat("%s: cannot write: %s", path, std::strerror(errno)));
  }
  std::unique_ptr<SampleProgress> progress(new SampleProgress(path, file, {}));
  absl::Status written = progress->Append(Json{{"key", key}});
  for (const Json& sample : samples) {
    if (written.ok()) written = progress->Append(sample);
  }
  if (!written.ok()) return written;
  return progress;
}

SampleProgress::~SampleProgress() { std::fclose(file_); }

absl::Status SampleProgress::Append(const Json& sample) {
  const std::string line = sample.dump() + "\n";
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() ||
      std::fflush(file_) != 0 || ::fsync(::fileno(file_)) != 0) {
    return absl::DataLossError(
        absl::StrFormat("%s: cannot write: %s", path_, std::strerror(errno)));
  }
  // The key line is not a sample.
  if (!sample.contains("key")) samples_.push_back(sample);
  return absl::OkStatus();
}

}  // namespace kvlab::experiments
