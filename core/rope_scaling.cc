#include "core/rope_scaling.h"

#include <cmath>

#include "absl/strings/str_format.h"

namespace kvlab {

namespace {

bool Positive(double x) { return std::isfinite(x) && x > 0.0; }

absl::Status CheckParameters(const RopeScaling& s) {
  if (s.type == RopeScaling::Type::kNone) return absl::OkStatus();
  const std::string type = RopeScalingTypeName(s.type);
  if (!Positive(s.factor)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("rope scaling '%s': factor must be > 0, got %g", type, s.factor));
  }
  if (s.type != RopeScaling::Type::kLlama3) return absl::OkStatus();
  if (!Positive(s.low_freq_factor) || !Positive(s.high_freq_factor) ||
      !(s.high_freq_factor > s.low_freq_factor) || !Positive(s.original_context)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "rope scaling 'llama3': needs 0 < low_freq_factor < high_freq_factor and "
        "original_max_position_embeddings > 0, got %g, %g and %g",
        s.low_freq_factor, s.high_freq_factor, s.original_context));
  }
  return absl::OkStatus();
}

// transformers' _compute_llama3_parameters, one frequency at a time.
double Llama3Frequency(double f, const RopeScaling& s) {
  const double wavelength = 2.0 * M_PI / f;
  const double low_freq_wavelength = s.original_context / s.low_freq_factor;
  const double high_freq_wavelength = s.original_context / s.high_freq_factor;
  if (wavelength < high_freq_wavelength) return f;
  if (wavelength > low_freq_wavelength) return f / s.factor;
  const double smooth = (s.original_context / wavelength - s.low_freq_factor) /
                        (s.high_freq_factor - s.low_freq_factor);
  return (1.0 - smooth) * f / s.factor + smooth * f;
}

}  // namespace

std::string RopeScalingTypeName(RopeScaling::Type type) {
  switch (type) {
    case RopeScaling::Type::kNone:
      return "default";
    case RopeScaling::Type::kLinear:
      return "linear";
    case RopeScaling::Type::kLlama3:
      return "llama3";
  }
  return "unknown";
}

absl::StatusOr<std::vector<double>> RopeInverseFrequencies(double base, int64_t rotary_dim,
                                                           const RopeScaling& scaling) {
  if (rotary_dim <= 0 || rotary_dim % 2 != 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("rope dimension must be even and > 0, got %d", rotary_dim));
  }
  if (!(base > 1.0) || !std::isfinite(base)) {
    return absl::InvalidArgumentError(absl::StrFormat("rope base must be > 1, got %g", base));
  }
  if (absl::Status status = CheckParameters(scaling); !status.ok()) return status;
  const int64_t pairs = rotary_dim / 2;
  const auto& divisors = scaling.frequency_divisors;
  if (!divisors.empty() && static_cast<int64_t>(divisors.size()) != pairs) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "rope frequency factors: %d given for %d rotated pairs", divisors.size(), pairs));
  }
  std::vector<double> frequencies(pairs);
  for (int64_t i = 0; i < pairs; ++i) {
    double f = std::pow(base, static_cast<double>(i) * (-2.0 / rotary_dim));
    switch (scaling.type) {
      case RopeScaling::Type::kNone:
        break;
      case RopeScaling::Type::kLinear:
        f /= scaling.factor;
        break;
      case RopeScaling::Type::kLlama3:
        f = Llama3Frequency(f, scaling);
        break;
    }
    if (!divisors.empty()) {
      if (!Positive(divisors[i])) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "rope frequency factor %d must be finite and > 0, got %g", i, divisors[i]));
      }
      f /= divisors[i];
    }
    frequencies[i] = f;
  }
  return frequencies;
}

}  // namespace kvlab
