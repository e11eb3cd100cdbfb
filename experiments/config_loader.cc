#include "experiments/config_loader.h"

#include <filesystem>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "base/files.h"
#include "base/status_macros.h"
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

  switch (e.protocol_case()) {
    case config::Experiment::kChunked: {
      config::ChunkedProtocol& c = *e.mutable_chunked();
      if (c.n_ctx() == 0) c.set_n_ctx(512);
      if (c.n_ctx() < 4) {
        return Invalid(path, absl::StrFormat("chunked.n_ctx must be >= 4, got %d", c.n_ctx()));
      }
      if (c.max_chunks() < 0) {
        return Invalid(path,
                       absl::StrFormat("chunked.max_chunks must be >= 0, got %d", c.max_chunks()));
      }
      break;
    }
    case config::Experiment::kStreaming: {
      config::StreamingProtocol& s = *e.mutable_streaming();
      if (s.bucket_size() == 0) s.set_bucket_size(256);
      if (s.bucket_size() < 1) {
        return Invalid(path, absl::StrFormat("streaming.bucket_size must be >= 1, got %d",
                                             s.bucket_size()));
      }
      if (s.max_tokens() < 0) {
        return Invalid(path, absl::StrFormat("streaming.max_tokens must be >= 0, got %d",
                                             s.max_tokens()));
      }
      break;
    }
    case config::Experiment::kPrefillCompress:
    case config::Experiment::kCompressOnce: {
      const bool once = e.has_compress_once();
      const char* field = once ? "compress_once" : "prefill_compress";
      config::PrefillCompressProtocol& p =
          once ? *e.mutable_compress_once() : *e.mutable_prefill_compress();
      if (p.context_tokens() < 1 || p.scored_tokens() < 1) {
        return Invalid(path, absl::StrFormat(
            "%s.context_tokens and scored_tokens must be >= 1, got %d and %d", field,
            p.context_tokens(), p.scored_tokens()));
      }
      if (!p.has_max_windows()) p.set_max_windows(1);
      if (p.max_windows() < 0) {
        return Invalid(path, absl::StrFormat("%s.max_windows must be >= 0, got %d", field,
                                             p.max_windows()));
      }
      break;
    }
    case config::Experiment::kRetrieval: {
      config::RetrievalProtocol& r = *e.mutable_retrieval();
      if (r.context_tokens().empty()) {
        return Invalid(path, "retrieval.context_tokens needs at least one prompt length");
      }
      for (int i = 0; i < r.context_tokens_size(); ++i) {
        if (r.context_tokens(i) < 64) {
          return Invalid(path, absl::StrFormat("retrieval.context_tokens[%d] must be >= 64, got %d",
                                               i, r.context_tokens(i)));
        }
      }
      if (r.depths().empty()) {
        for (double depth : {0.0, 0.25, 0.5, 0.75, 1.0}) r.add_depths(depth);
      }
      for (int i = 0; i < r.depths_size(); ++i) {
        if (!(r.depths(i) >= 0.0 && r.depths(i) <= 1.0)) {
          return Invalid(path, absl::StrFormat("retrieval.depths[%d] must be in [0, 1], got %g", i,
                                               r.depths(i)));
        }
      }
      if (!r.has_trials()) r.set_trials(5);
      if (!r.has_max_new_tokens()) r.set_max_new_tokens(8);
      if (r.trials() < 1 || r.max_new_tokens() < 1) {
        return Invalid(path, absl::StrFormat(
            "retrieval.trials and retrieval.max_new_tokens must be >= 1, got %d and %d",
            r.trials(), r.max_new_tokens()));
      }
      break;
    }
    case config::Experiment::PROTOCOL_NOT_SET:
      return Invalid(path, "a protocol is required: chunked, streaming, prefill_compress, "
                           "compress_once or retrieval");
  }

  if (e.record_evictions() && (e.has_chunked() || e.has_retrieval())) {
    return Invalid(path, "record_evictions: only streaming, prefill_compress and compress_once "
                         "record what evictions keep");
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
    // Prompts have several lengths: a fraction of which one would be ambiguous.
    if (e.has_retrieval() && e.caches(i).has_eviction() &&
        e.caches(i).eviction().budget().has_fraction()) {
      return Invalid(path, absl::StrFormat(
          "caches[%d] '%s': retrieval needs eviction.budget in tokens, not a fraction (its "
          "prompts have several lengths)",
          i, name));
    }
    // A chunk runs in one forward from an empty cache and is scored from that forward
    // alone: eviction after it would change nothing that is measured.
    if (e.has_chunked() && e.caches(i).has_eviction()) {
      return Invalid(path, absl::StrFormat(
          "caches[%d] '%s': eviction has no effect under chunked (each chunk is scored from "
          "one forward); use streaming, prefill_compress or compress_once, or remove "
          "caches[%d].eviction",
          i, name, i));
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
