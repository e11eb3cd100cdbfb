// Confidence intervals shared by the harness's reports: a proportion's (Wilson's score
// interval) and a mean's (the normal approximation from sums).
#ifndef KVLAB_BASE_STATISTICS_H_
#define KVLAB_BASE_STATISTICS_H_

#include <cstdint>

namespace kvlab {

// z for a two-sided 95% interval.
inline constexpr double kZ95 = 1.959963984540054;

struct Interval {
  double low = 0.0;
  double high = 0.0;
};

// Wilson's score interval for a proportion `p` observed over `trials` (>= 1) trials:
// unlike the normal interval it stays inside [0, 1] and does not collapse to a point
// at 0 or 1. NaN bounds without trials.
Interval WilsonInterval(double p, int64_t trials, double z = kZ95);

// mean ± z standard errors of the mean, from the sum and the sum of squares of `n`
// values (sample variance, n - 1 degrees of freedom). NaN bounds below 2 values.
Interval MeanInterval(double sum, double squared_sum, int64_t n, double z = kZ95);

}  // namespace kvlab

#endif  // KVLAB_BASE_STATISTICS_H_
