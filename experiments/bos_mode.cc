#include "experiments/bos_mode.h"

#include <memory>

#include "absl/strings/str_format.h"
#include "experiments/protocols/protocol.h"

namespace kvlab::experiments {

config::BosMode ProtocolBos(const config::Experiment& e) {
  const absl::StatusOr<std::unique_ptr<Protocol>> protocol = FindProtocol(e);
  return protocol.ok() ? (*protocol)->Bos(e) : config::BOS_AUTO;
}

absl::StatusOr<bool> UseBos(const config::Experiment& e, bool model_adds_bos, int32_t bos_id) {
  const config::BosMode mode = ProtocolBos(e);
  const bool bos = mode == config::BOS_ALWAYS || (mode == config::BOS_AUTO && model_adds_bos);
  if (bos && bos_id < 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s.bos is %s but the model has no BOS token (tokenizer.ggml.bos_token_id)",
        ProtocolName(e), config::BosMode_Name(mode)));
  }
  return bos;
}

}  // namespace kvlab::experiments
