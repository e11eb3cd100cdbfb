#include "experiments/aggregate.h"

#include <memory>
#include <vector>

#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "experiments/plots.h"
#include "experiments/protocols/protocol.h"
#include "experiments/ruler_plots.h"
#include "experiments/token_nlls.h"

namespace kvlab::experiments {
namespace {

// Each run's paired interval against the baseline run, from their runs/<name>.nll.
absl::Status PairWithBaseline(const std::string& output_dir, int baseline,
                              std::vector<RunRecord>& records) {
  const RunRecord& base = records[baseline];
  KVLAB_ASSIGN_OR_RETURN(const std::vector<float> base_nlls,
                         ReadTokenNlls(TokenNllsFile(output_dir, base.name)));
  for (RunRecord& r : records) {
    KVLAB_ASSIGN_OR_RETURN(const std::vector<float> nlls,
                           ReadTokenNlls(TokenNllsFile(output_dir, r.name)));
    KVLAB_ASSIGN_OR_RETURN(r.paired_change_ci95,
                           PairedChangePercent(base_nlls, nlls, base.name, r.name));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteAggregates(const config::Experiment& e, const std::string& model_name,
                             const std::vector<RunRecord>& records, const std::string& output_dir) {
  KVLAB_ASSIGN_OR_RETURN(const std::unique_ptr<Protocol> protocol, FindProtocol(e));
  const int baseline = FindBaseline(records, e.baseline());
  const std::string title = absl::StrFormat("%s: %s, %s", e.name(), ProtocolName(e), model_name);
  if (e.keep_token_nlls() && baseline >= 0 && protocol->ScoresPredictions()) {
    std::vector<RunRecord> paired = records;
    KVLAB_RETURN_IF_ERROR(PairWithBaseline(output_dir, baseline, paired));
    KVLAB_RETURN_IF_ERROR(WriteResults(output_dir, paired, baseline, title));
  } else {
    KVLAB_RETURN_IF_ERROR(WriteResults(output_dir, records, baseline, title));
  }
  const std::string subtitle = absl::StrFormat("%s protocol, %s", ProtocolName(e), model_name);
  // The perplexity plots draw what a protocol that scores answers does not measure;
  // RULER's scores have their own.
  if (!protocol->ScoresPredictions()) {
    return WriteRulerPlots(output_dir, records, e.name(), subtitle);
  }
  return WritePlots(output_dir, records, e.name(), subtitle);
}

}  // namespace kvlab::experiments
