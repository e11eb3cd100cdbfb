// Per-token NLLs of a run (Experiment.keep_token_nlls), kept beside its run file so that
// any two runs over the same tokens can be compared pairwise:
//
//   <output_dir>/runs/<name>.nll   float32, little-endian, one per scored token in
//                                  scoring order
//
// A paired interval is far narrower than two separate ones: both runs saw the same
// tokens, so the text's own variation cancels in the per-token differences.
#ifndef KVLAB_EXPERIMENTS_TOKEN_NLLS_H_
#define KVLAB_EXPERIMENTS_TOKEN_NLLS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "base/statistics.h"

namespace kvlab::experiments {

std::string TokenNllsFile(const std::string& output_dir, const std::string& name);

// The bytes runs/<name>.nll holds for `nlls`.
std::string TokenNllsBytes(absl::Span<const float> nlls);

// The NLLs in `path`. NotFound when there is no such file; DataLoss, naming the file,
// when its size is not a whole number of float32s.
absl::StatusOr<std::vector<float>> ReadTokenNlls(const std::string& path);

// The 95% interval of the perplexity change from `a` to `b`, in percent, from the
// per-token differences b - a: 100 (exp(mean ± 1.96 standard error) - 1). Both must
// hold the same number (>= 2) of tokens; the error names `a_name` and `b_name`.
absl::StatusOr<Interval> PairedChangePercent(absl::Span<const float> a,
                                             absl::Span<const float> b,
                                             const std::string& a_name,
                                             const std::string& b_name);

}  // namespace kvlab::experiments

#endif  // KVLAB_EXPERIMENTS_TOKEN_NLLS_H_
