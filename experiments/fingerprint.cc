#include "experiments/fingerprint.h"

#include <xxhash.h>

#include <fstream>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "experiments/protocols/protocol.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace kvlab::experiments {

namespace {

// Bumped when results change meaning, so old runs are not reused.
constexpr char kResultsVersion[] = "kvlab-results-1";

std::string Hex(const XXH128_hash_t& hash) {
  return absl::StrFormat("%016x%016x", hash.high64, hash.low64);
}

std::string Deterministic(const google::protobuf::Message& message) {
  std::string bytes;
  google::protobuf::io::StringOutputStream stream(&bytes);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  message.SerializeToCodedStream(&coded);
  coded.Trim();
  return bytes;
}

// Policies whose computation changed, with their revision (see MethodRevision).
struct Revision {
  const char* policy;
  int revision;
};
constexpr Revision kMethodRevisions[] = {{"snapkv", 2}, {"knorm", 2}, {"random", 2}, {"lagkv", 2}};

}  // namespace

int MethodRevision(const config::CacheConfig& cache) {
  if (!cache.has_eviction()) return 1;
  for (const Revision& r : kMethodRevisions) {
    if (cache.eviction().policy() == r.policy) return r.revision;
  }
  return 1;
}

absl::StatusOr<std::string> HashFile(const std::string& path) {
  // Streamed: a checkpoint of several GiB is never held in memory at once. XXH3's
  // streaming digest equals its one-shot digest of the same bytes.
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrFormat("%s: cannot open to hash", path));
  std::unique_ptr<XXH3_state_t, decltype(&XXH3_freeState)> state(XXH3_createState(),
                                                                 &XXH3_freeState);
  XXH3_128bits_reset(state.get());
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    XXH3_128bits_update(state.get(), buffer.data(), static_cast<size_t>(in.gcount()));
  }
  if (in.bad()) return absl::DataLossError(absl::StrFormat("%s: read error while hashing", path));
  return Hex(XXH3_128bits_digest(state.get()));
}

absl::StatusOr<std::string> HashFiles(const std::vector<std::string>& paths) {
  if (paths.size() == 1) return HashFile(paths[0]);
  std::string listing;
  for (const std::string& path : paths) {
    KVLAB_ASSIGN_OR_RETURN(const std::string hash, HashFile(path));
    absl::StrAppend(&listing, path.substr(path.rfind('/') + 1), " ", hash, "\n");
  }
  return Hex(XXH3_128bits(listing.data(), listing.size()));
}

std::string RunFingerprint(const config::Experiment& experiment, const config::CacheConfig& cache,
                           const std::string& model_hash, const std::string& text_hash) {
  config::Experiment protocol;
  // What the protocol's settings contribute (Protocol::AddToFingerprint). The loader
  // has found the protocol of every experiment that runs.
  if (const absl::StatusOr<std::unique_ptr<Protocol>> found = FindProtocol(experiment);
      found.ok()) {
    (*found)->AddToFingerprint(experiment, protocol);
  }
  protocol.set_device(experiment.device());
  // Set only when on, so results from before the comparison existed stay reusable.
  if (experiment.compare_to_dense()) protocol.set_compare_to_dense(true);
  // A run without the record does not stand in for one with it.
  if (experiment.record_evictions()) protocol.set_record_evictions(true);
  // Nor does one without its per-token NLLs.
  if (experiment.keep_token_nlls()) protocol.set_keep_token_nlls(true);
  // fp32 weights leave the fingerprint as it was before the weights' dtype was a
  // setting, so fp32 results stay reusable; any other dtype changes it.
  if (experiment.weights_dtype() != config::FP32) {
    protocol.set_weights_dtype(experiment.weights_dtype());
  }
  std::string input = absl::StrCat(kResultsVersion, "\n", model_hash, "\n", text_hash, "\n",
                                   Deterministic(protocol), "\n", Deterministic(cache));
  // Revision 1 leaves the fingerprint as it was, so unchanged methods' runs stay reusable.
  if (const int revision = MethodRevision(cache); revision > 1) {
    absl::StrAppend(&input, "\nmethod-revision-", revision);
  }
  return Hex(XXH3_128bits(input.data(), input.size()));
}

}  // namespace kvlab::experiments
