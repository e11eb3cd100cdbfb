#include "core/layer_budgets.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_format.h"

namespace kvlab {

absl::StatusOr<std::vector<int64_t>> LayerBudgets(const config::Budget& budget, int num_layers,
                                                  int64_t reference_tokens) {
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
    case config::Budget::SIZE_NOT_SET:
      return absl::InvalidArgumentError("budget needs tokens or fraction");
  }
  std::vector<int64_t> budgets(num_layers, static_cast<int64_t>(tokens));
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

}  // namespace kvlab
