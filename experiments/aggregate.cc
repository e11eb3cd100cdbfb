#include "experiments/aggregate.h"

#include <memory>

#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "experiments/plots.h"
#include "experiments/protocols/protocol.h"

namespace kvlab::experiments {

absl::Status WriteAggregates(const config::Experiment& e, const std::string& model_name,
                             const std::vector<RunRecord>& records, const std::string& output_dir) {
  KVLAB_ASSIGN_OR_RETURN(const std::unique_ptr<Protocol> protocol, FindProtocol(e));
  const int baseline = FindBaseline(records, e.baseline());
  const std::string title = absl::StrFormat("%s: %s, %s", e.name(), ProtocolName(e), model_name);
  KVLAB_RETURN_IF_ERROR(WriteResults(output_dir, records, baseline, title));
  // The plots draw perplexity, which a protocol that scores answers does not measure.
  if (!protocol->ScoresPredictions()) return absl::OkStatus();
  return WritePlots(output_dir, records, e.name(),
                    absl::StrFormat("%s protocol, %s", ProtocolName(e), model_name));
}

}  // namespace kvlab::experiments
