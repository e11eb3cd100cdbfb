#include "experiments/token_nlls.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_format.h"
#include "base/files.h"
#include "base/status_macros.h"

namespace kvlab::experiments {

static_assert(sizeof(float) == 4, "runs/<name>.nll holds float32");

std::string TokenNllsFile(const std::string& output_dir, const std::string& name) {
  return absl::StrFormat("%s/runs/%s.nll", output_dir, name);
}

// The project builds for x86-64 only (little-endian), so a float's bytes are written as
// they are in memory.
std::string TokenNllsBytes(absl::Span<const float> nlls) {
  return std::string(reinterpret_cast<const char*>(nlls.data()), nlls.size() * sizeof(float));
}

absl::StatusOr<std::vector<float>> ReadTokenNlls(const std::string& path) {
  if (!std::filesystem::exists(path)) {
    return absl::NotFoundError(absl::StrFormat(
        "%s: no per-token NLLs (run the experiment with keep_token_nlls: true)", path));
  }
  KVLAB_ASSIGN_OR_RETURN(const std::string bytes, ReadFileToString(path));
  if (bytes.size() % sizeof(float) != 0) {
    return absl::DataLossError(absl::StrFormat(
        "%s: %d bytes is not a whole number of float32 NLLs", path, bytes.size()));
  }
  std::vector<float> nlls(bytes.size() / sizeof(float));
  std::memcpy(nlls.data(), bytes.data(), bytes.size());
  return nlls;
}

absl::StatusOr<Interval> PairedChangePercent(absl::Span<const float> a,
                                             absl::Span<const float> b,
                                             const std::string& a_name,
                                             const std::string& b_name) {
  if (a.size() != b.size()) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s scored %d tokens and %s %d: a paired interval needs the same tokens", a_name,
        a.size(), b_name, b.size()));
  }
  double sum = 0.0, squared_sum = 0.0;
  for (size_t t = 0; t < a.size(); ++t) {
    const double difference = static_cast<double>(b[t]) - static_cast<double>(a[t]);
    sum += difference;
    squared_sum += difference * difference;
  }
  const Interval nats = MeanInterval(sum, squared_sum, static_cast<int64_t>(a.size()));
  if (!std::isfinite(nats.low)) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s and %s scored %d tokens: a paired interval needs at least 2", a_name, b_name,
        a.size()));
  }
  return Interval{100.0 * std::expm1(nats.low), 100.0 * std::expm1(nats.high)};
}

}  // namespace kvlab::experiments
