#include "core/layer_budgets.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_format.h"
#include "base/status_macros.h"

namespace kvlab {
namespace {

// KVCache-Factory's PyramidKV schedule (see LayerAllocation.PYRAMIDKV), in its integer
// arithmetic (pyramidkv/pyramidkv_utils.py:360-375).
absl::StatusOr<std::vector<int64_t>> PyramidKvBudgets(const config::Budget& budget,
                                                      int64_t capacity, int num_layers,
                                                      int64_t reference_tokens,
                                                      int64_t observation_window) {
  const int64_t beta = budget.has_pyramidkv_beta() ? budget.pyramidkv_beta() : 20;
  // The window every layer keeps is the one the scoring policy keeps; a policy with
  // none falls back to SnapKV's default, 32.
  const int64_t window = budget.has_pyramidkv_window() ? budget.pyramidkv_window()
                         : observation_window > 0      ? observation_window
                                                       : 32;
  if (observation_window > 0 && window != observation_window) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "budget.pyramidkv_window is %d but the policy's observation window is %d; leave it "
        "unset to take the policy's",
        window, observation_window));
  }
  if (beta < 1) {
    return absl::InvalidArgumentError(
        absl::StrFormat("budget.pyramidkv_beta must be >= 1, got %d", beta));
  }
  if (window < 1 || window >= capacity) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "budget.pyramidkv_window must be >= 1 and below the budget (%d), got %d", capacity,
        window));
  }
  std::vector<int64_t> budgets(num_layers, capacity);
  const int64_t prefix = capacity - window;
  // Short contexts, and a single layer, keep the uniform budget.
  if (num_layers < 2 || reference_tokens < 2 * prefix) return budgets;
  int64_t min_prefix = prefix / beta;
  int64_t max_prefix = 2 * prefix - min_prefix;
  if (max_prefix >= reference_tokens - window) {
    max_prefix = reference_tokens - window;
    min_prefix = 2 * prefix - max_prefix;
  }
  const int64_t step = (max_prefix - min_prefix) / (num_layers - 1);
  for (int layer = 0; layer < num_layers; ++layer) {
    budgets[layer] = max_prefix - layer * step + window;
  }
  return budgets;
}

}  // namespace

absl::StatusOr<SeenFraction> SeenFractionOf(const config::Budget& budget) {
  if (budget.size_case() != config::Budget::kFractionOfSeen) {
    if (budget.has_compression_interval()) {
      return absl::InvalidArgumentError(
          "budget.compression_interval applies only with budget.fraction_of_seen");
    }
    return SeenFraction{};
  }
  const int64_t interval = budget.has_compression_interval() ? budget.compression_interval() : 1;
  if (interval < 1) {
    return absl::InvalidArgumentError(
        absl::StrFormat("budget.compression_interval must be >= 1, got %d", interval));
  }
  return SeenFraction{budget.fraction_of_seen(), interval};
}

absl::StatusOr<std::vector<int64_t>> LayerBudgets(const config::Budget& budget, int num_layers,
                                                  int64_t reference_tokens,
                                                  int64_t observation_window) {
  double tokens = 0;
  switch (budget.size_case()) {
    case config::Budget::kTokens:
      if (budget.tokens() < 1) {
        return absl::InvalidArgumentError(
            absl::StrFormat("budget.tokens must be >= 1, got %d", budget.tokens()));
      }
      tokens = static_cast<double>(budget.tokens());
      break;
    case config::Budget::kFraction:
      if (!(budget.fraction() > 0.0 && budget.fraction() <= 1.0)) {
        return absl::InvalidArgumentError(
            absl::StrFormat("budget.fraction must be in (0, 1], got %g", budget.fraction()));
      }
      if (reference_tokens < 1) {
        return absl::InvalidArgumentError(
            "budget.fraction needs a protocol with a known context length");
      }
      tokens = std::ceil(budget.fraction() * static_cast<double>(reference_tokens));
      break;
    case config::Budget::kFractionOfSeen: {
      if (!(budget.fraction_of_seen() > 0.0 && budget.fraction_of_seen() < 1.0)) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "budget.fraction_of_seen must be in (0, 1), got %g", budget.fraction_of_seen()));
      }
      if (budget.allocation() != config::UNIFORM) {
        return absl::InvalidArgumentError(
            "budget.fraction_of_seen spreads the budget uniformly: leave budget.allocation "
            "unset (UNIFORM)");
      }
      if (reference_tokens < 1) {
        return absl::InvalidArgumentError(
            "budget.fraction_of_seen needs a protocol with a known context length");
      }
      KVLAB_ASSIGN_OR_RETURN(const SeenFraction seen, SeenFractionOf(budget));
      // The most a layer holds between steps over the reference context: its share at
      // the end plus what it gathers between two compressions.
      const int64_t share = std::max<int64_t>(
          1, static_cast<int64_t>(std::floor(seen.fraction * static_cast<double>(reference_tokens))));
      return std::vector<int64_t>(num_layers,
                                  std::min(reference_tokens, share + seen.interval - 1));
    }
    case config::Budget::SIZE_NOT_SET:
      return absl::InvalidArgumentError("budget needs tokens, fraction or fraction_of_seen");
  }
  std::vector<int64_t> budgets(num_layers, static_cast<int64_t>(tokens));
  if (budget.allocation() == config::PYRAMIDKV) {
    return PyramidKvBudgets(budget, static_cast<int64_t>(tokens), num_layers, reference_tokens,
                            observation_window);
  }
  if (budget.allocation() == config::PYRAMID && num_layers > 1) {
    const double ratio = budget.pyramid_top_ratio() == 0.0 ? 0.25 : budget.pyramid_top_ratio();
    if (!(ratio > 0.0 && ratio <= 1.0)) {
      return absl::InvalidArgumentError(
          absl::StrFormat("budget.pyramid_top_ratio must be in (0, 1], got %g", ratio));
    }
    // b_i = b_0 (1 - (1 - r) i / (L - 1)); the mean of b_i is b_0 (1 + r) / 2 = tokens.
    const double first = 2.0 * tokens / (1.0 + ratio);
    for (int i = 0; i < num_layers; ++i) {
      const double b = first * (1.0 - (1.0 - ratio) * i / (num_layers - 1));
      budgets[i] = std::max<int64_t>(1, std::llround(b));
    }
  }
  return budgets;
}

std::vector<int64_t> PreferenceShares(absl::Span<const double> preferences, int64_t total,
                                      absl::Span<const int64_t> caps) {
  const int64_t count = static_cast<int64_t>(preferences.size());
  double sum = 0.0;
  for (double p : preferences) sum += p;
  std::vector<int64_t> shares(count);
  for (int64_t i = 0; i < count; ++i) {
    // In the reference's order of operations, truncated toward zero as numpy's
    // astype(int).
    shares[i] = sum > 0.0 ? static_cast<int64_t>(preferences[i] / sum * static_cast<double>(total))
                          : total / count;
  }
  // Adds `amount` (either sign) over the layers `eligible` picks: the same to each, the
  // first |amount| mod n of them one more.
  const auto spread = [&](int64_t amount, const std::vector<bool>& eligible) {
    std::vector<int64_t> picked;
    for (int64_t i = 0; i < count; ++i) {
      if (eligible[i]) picked.push_back(i);
    }
    if (picked.empty()) return;
    const int64_t n = static_cast<int64_t>(picked.size());
    const int64_t sign = amount < 0 ? -1 : 1;
    const int64_t each = std::abs(amount) / n;
    const int64_t remainder = std::abs(amount) % n;
    for (int64_t k = 0; k < n; ++k) shares[picked[k]] += sign * (each + (k < remainder ? 1 : 0));
  };
  int64_t excess = 0;
  for (int64_t i = 0; i < count; ++i) {
    if (shares[i] > caps[i]) {
      excess += shares[i] - caps[i];
      shares[i] = caps[i];
    }
  }
  std::vector<bool> eligible(count);
  if (excess > 0) {
    for (int64_t i = 0; i < count; ++i) eligible[i] = shares[i] < caps[i];
    spread(excess, eligible);
  }
  int64_t held = 0;
  for (int64_t share : shares) held += share;
  if (const int64_t difference = total - held; difference != 0) {
    for (int64_t i = 0; i < count; ++i) {
      eligible[i] = difference > 0 ? shares[i] < caps[i] : shares[i] > 1;
    }
    spread(difference, eligible);
  }
  return shares;
}

}  // namespace kvlab
