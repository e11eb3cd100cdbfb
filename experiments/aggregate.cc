#include "experiments/aggregate.h"

#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "experiments/plots.h"
#include "experiments/protocol.h"

namespace kvlab::experiments {

absl::Status WriteAggregates(const config::Experiment& e, const std::string& model_name,
                             const std::vector<RunRecord>& records, const std::string& output_dir) {
  const int baseline = FindBaseline(records, e.baseline());
  const std::string title = absl::StrFormat("%s: %s, %s", e.name(), ProtocolName(e), model_name);
  KVLAB_RETURN_IF_ERROR(WriteResults(output_dir, records, baseline, title));
  // The plots draw perplexity, which retrieval does not measure.
  if (e.has_retrieval()) return absl::OkStatus();
  return WritePlots(output_dir, records, e.name(),
                    absl::StrFormat("%s protocol, %s", ProtocolName(e), model_name));
}

}  // namespace kvlab::experiments
