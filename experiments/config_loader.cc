#include "experiments/config_loader.h"

#include <filesystem>
#include <memory>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "experiments/protocols/protocol.h"
#include "experiments/sweep.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"

namespace kvlab::experiments {

namespace {

// Keeps the first error protobuf's text parser reports (its line is 0-based).
class FirstErrorCollector : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (message_.empty()) message_ = absl::StrFormat("%d:%d: %s", line + 1, column + 1, message);
  }
  const std::string& message() const { return message_; }

 private:
  std::string message_;
};

bool IsPlainName(const std::string& name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      return false;
    }
  }
  return true;
}

absl::Status Invalid(const std::string& path, const std::string& message) {
  return absl::InvalidArgumentError(absl::StrFormat("%s: %s", path, message));
}

absl::Status FillDefaultsAndValidate(config::Experiment& e, const std::string& path) {
  if (e.name().empty()) e.set_name(std::filesystem::path(path).stem().string());
  if (!IsPlainName(e.name())) {
    return Invalid(path, absl::StrFormat(
        "name '%s' may only use letters, digits, '-', '_' and '.'", e.name()));
  }
  if (e.model_path().empty()) e.set_model_path(kDefaultModelPath);
  if (e.text_path().empty()) return Invalid(path, "text_path is required");
  if (e.output_dir().empty()) e.set_output_dir("results/" + e.name());
  if (e.threads() < 0) {
    return Invalid(path, absl::StrFormat("threads must be >= 0, got %d", e.threads()));
  }
  if (e.device().empty()) e.set_device("cpu");
  if (e.weights_dtype() == config::WEIGHTS_DTYPE_DEFAULT) {
    e.set_weights_dtype(absl::StartsWith(e.device(), "cuda") ? config::BF16 : config::FP32);
  }
  if (e.batch_caches() == 0) e.set_batch_caches(1);
  if (e.batch_caches() < 0) {
    return Invalid(path, absl::StrFormat("batch_caches must be >= 1, got %d", e.batch_caches()));
  }
  if (!e.has_min_scored_tokens()) e.set_min_scored_tokens(kDefaultMinScoredTokens);
  if (e.min_scored_tokens() < 0) {
    return Invalid(path, absl::StrFormat("min_scored_tokens must be >= 0, got %d",
                                         e.min_scored_tokens()));
  }

  // The protocol's own message: its defaults and checks.
  absl::StatusOr<std::unique_ptr<Protocol>> found = FindProtocol(e);
  if (!found.ok()) return Invalid(path, std::string(found.status().message()));
  const Protocol& protocol = **found;
  if (absl::Status status = protocol.FillDefaultsAndValidate(e); !status.ok()) {
    return Invalid(path, std::string(status.message()));
  }

  if (e.record_evictions() && !protocol.RecordsEvictions()) {
    return Invalid(path, absl::StrFormat(
        "record_evictions: only %s record what evictions keep",
        JoinNames(ProtocolNames([](const Protocol& p) { return p.RecordsEvictions(); }),
                  "and")));
  }
  for (int i = 0; i < e.sweeps_size(); ++i) {
    absl::StatusOr<std::vector<config::CacheConfig>> expanded = ExpandSweep(e.sweeps(i));
    if (!expanded.ok()) {
      return Invalid(path, absl::StrFormat("sweeps[%d]: %s", i, expanded.status().message()));
    }
    for (config::CacheConfig& cache : *expanded) *e.add_caches() = std::move(cache);
  }
  e.clear_sweeps();  // Expanded into caches.
  if (e.caches().empty()) {
    return Invalid(path, "at least one caches { ... } or sweeps { ... } entry is required");
  }
  absl::flat_hash_set<std::string> names;
  for (int i = 0; i < e.caches_size(); ++i) {
    const std::string& name = e.caches(i).name();
    if (!IsPlainName(name)) {
      return Invalid(path, absl::StrFormat(
          "caches[%d].name '%s' must be non-empty and use only letters, digits, '-', '_', '.'",
          i, name));
    }
    if (!names.insert(name).second) {
      return Invalid(path, absl::StrFormat("caches[%d].name '%s' is used twice", i, name));
    }
    if (absl::Status status = protocol.ValidateCache(e, i); !status.ok()) {
      return Invalid(path, std::string(status.message()));
    }
  }
  if (!e.baseline().empty() && !names.contains(e.baseline())) {
    return Invalid(path, absl::StrFormat("baseline '%s' names no cache", e.baseline()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<config::Experiment> ParseExperiment(absl::string_view text,
                                                   const std::string& path) {
  config::Experiment experiment;
  google::protobuf::TextFormat::Parser parser;
  FirstErrorCollector errors;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(std::string(text), &experiment)) {
    return absl::InvalidArgumentError(absl::StrFormat("%s:%s", path, errors.message()));
  }
  KVLAB_RETURN_IF_ERROR(FillDefaultsAndValidate(experiment, path));
  return experiment;
}

absl::StatusOr<config::Experiment> LoadExperiment(const std::string& path) {
  KVLAB_ASSIGN_OR_RETURN(const std::string text, ReadFileToString(path));
  return ParseExperiment(text, path);
}

}  // namespace kvlab::experiments
