#include "experiments/memory_check.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "absl/strings/str_format.h"

#include "base/available_memory.h"
#include "base/status_macros.h"
#include "eval/model/weight_estimate.h"
#include "experiments/protocols/protocol.h"

namespace kvlab::experiments {

absl::StatusOr<int64_t> EstimateCacheBytes(const config::Experiment& e,
                                           const model::ModelInfo& info, int64_t text_tokens) {
  KVLAB_ASSIGN_OR_RETURN(const std::unique_ptr<Protocol> protocol, FindProtocol(e));
  const ProtocolExtent extent = protocol->Extent(e, text_tokens);
  const int64_t reference_tokens = protocol->BudgetReferenceTokens(e, text_tokens);
  int64_t most_tokens = 0;
  for (const config::CacheConfig& c : e.caches()) {
    // An invalid budget is the cache factory's error to report, naming the cache; here
    // the cache counts as holding the whole window.
    const absl::StatusOr<int64_t> tokens = MostTokensHeld(
        *protocol, e, c, extent.window_tokens, info.attention.num_layers, reference_tokens);
    most_tokens = std::max(most_tokens, tokens.ok() ? *tokens : extent.window_tokens);
  }
  if (e.compare_to_dense()) most_tokens = std::max(most_tokens, extent.window_tokens);
  const int64_t at_once = std::min<int64_t>(std::max(e.batch_caches(), 1), e.caches_size()) +
                          (e.compare_to_dense() ? 1 : 0);
  return at_once * most_tokens * info.DenseCacheBytesPerToken(/*element_bytes=*/4);
}

absl::Status CheckModelFits(const config::Experiment& e, const model::ModelFiles& files,
                            const model::LoadOptions& options, int64_t text_tokens,
                            int64_t available_bytes) {
  KVLAB_ASSIGN_OR_RETURN(const model::ModelInfo info, model::ReadModelInfo(files));
  KVLAB_ASSIGN_OR_RETURN(const int64_t cache_bytes, EstimateCacheBytes(e, info, text_tokens));
  const absl::Status fits = CheckFitsInMemory(model::EstimateWeightBytes(files, options),
                                              cache_bytes, available_bytes);
  if (fits.ok() || options.native_weights || files.gguf() == nullptr) return fits;
  // A GGUF's own block formats usually hold a fraction of the dequantized bytes.
  model::LoadOptions native = options;
  native.native_weights = true;
  return absl::ResourceExhaustedError(absl::StrFormat(
      "%s; weights_dtype: NATIVE would hold the weights in %.2f GiB", fits.message(),
      model::EstimateWeightBytes(files, native) / (1024.0 * 1024.0 * 1024.0)));
}

}  // namespace kvlab::experiments
