#include "base/statistics.h"

#include <algorithm>
#include <cmath>

namespace kvlab {

Interval WilsonInterval(double p, int64_t trials, double z) {
  if (trials <= 0) return {std::nan(""), std::nan("")};
  const double n = static_cast<double>(trials);
  const double z2 = z * z;
  const double center = (p + z2 / (2 * n)) / (1 + z2 / n);
  const double half = z / (1 + z2 / n) * std::sqrt(p * (1 - p) / n + z2 / (4 * n * n));
  return {std::max(0.0, center - half), std::min(1.0, center + half)};
}

Interval MeanInterval(double sum, double squared_sum, int64_t n, double z) {
  if (n < 2) return {std::nan(""), std::nan("")};
  const double count = static_cast<double>(n);
  const double mean = sum / count;
  // Clamped: rounding can leave a tiny negative variance when every value is equal.
  const double variance = std::max(0.0, (squared_sum - count * mean * mean) / (count - 1));
  const double half = z * std::sqrt(variance / count);
  return {mean - half, mean + half};
}

}  // namespace kvlab
