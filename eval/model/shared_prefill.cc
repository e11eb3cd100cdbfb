#include "eval/model/shared_prefill.h"

#include <memory>
#include <vector>

#include "absl/strings/str_format.h"
#include "base/annotate.h"
#include "base/status_macros.h"

namespace kvlab::model {

namespace {

// A KvCache that serves the forward from `primary` (dense) and hands every layer's
// inputs to each target as well, which computes no output, only its statistics.
class FanOutCache : public KvCache {
 public:
  FanOutCache(KvCache& primary, absl::Span<KvCache* const> targets)
      : primary_(primary), targets_(targets) {}

  absl::StatusOr<AttentionResult> Attend(int layer, const AttentionInputs& inputs) override {
    AttentionInputs handed_over = inputs;
    handed_over.output_wanted = false;
    for (size_t i = 0; i < targets_.size(); ++i) {
      absl::StatusOr<AttentionResult> ignored = targets_[i]->Attend(layer, handed_over);
      if (!ignored.ok()) return Annotate(ignored.status(), absl::StrFormat("cache %d", i));
    }
    return primary_.Attend(layer, inputs);
  }
  absl::Status Retain(int, const at::Tensor&) override {
    return absl::FailedPreconditionError("a shared prefill evicts nothing itself");
  }
  int64_t Length(int layer) const override { return primary_.Length(layer); }
  at::Tensor Positions(int layer) const override { return primary_.Positions(layer); }
  CacheMemory Memory() const override { return primary_.Memory(); }
  int num_layers() const override { return primary_.num_layers(); }

 private:
  KvCache& primary_;
  const absl::Span<KvCache* const> targets_;
};

}  // namespace

absl::StatusOr<at::Tensor> PrefillShared(const DecoderModel& model, const at::Tensor& tokens,
                                         absl::Span<KvCache* const> caches) {
  if (tokens.dim() != 1 || tokens.size(0) < 1) {
    return absl::InvalidArgumentError("a shared prefill needs tokens [n], n >= 1");
  }
  const int layers = model.info().attention.num_layers;
  for (size_t i = 0; i < caches.size(); ++i) {
    if (caches[i] == nullptr || caches[i]->num_layers() != layers || caches[i]->Length(0) != 0) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "shared prefill: cache %d must be an empty cache of the model's %d layers", i, layers));
    }
  }
  KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<KvCache> dense, model.NewDenseCache());
  FanOutCache fan_out(*dense, caches);
  KvCache* row = &fan_out;
  return model.Forward(tokens.unsqueeze(0), 0, absl::MakeConstSpan(&row, 1));
}

}  // namespace kvlab::model
