#include "experiments/aggregate.h"

#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "experiments/plots.h"

namespace kvlab::experiments {

std::string ProtocolName(const config::Experiment& e) {
  switch (e.protocol_case()) {
    case config::Experiment::kChunked: return "chunked";
    case config::Experiment::kStreaming: return "streaming";
    case config::Experiment::kPrefillCompress: return "prefill_compress";
    case config::Experiment::kCompressOnce: return "compress_once";
    default: return "none";
  }
}

const config::PrefillCompressProtocol* PrefillWindows(const config::Experiment& e) {
  if (e.has_prefill_compress()) return &e.prefill_compress();
  if (e.has_compress_once()) return &e.compress_once();
  return nullptr;
}

absl::Status WriteAggregates(const config::Experiment& e, const std::string& model_name,
                             const std::vector<RunRecord>& records, const std::string& output_dir) {
  const int baseline = FindBaseline(records, e.baseline());
  const std::string title = absl::StrFormat("%s: %s, %s", e.name(), ProtocolName(e), model_name);
  KVLAB_RETURN_IF_ERROR(WriteResults(output_dir, records, baseline, title));
  return WritePlots(output_dir, records, e.name(),
                    absl::StrFormat("%s protocol, %s", ProtocolName(e), model_name));
}

}  // namespace kvlab::experiments
