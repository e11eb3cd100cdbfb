#include "eval/perplexity/key_finite_watch.h"

#include <ATen/ATen.h>

#include "absl/strings/str_format.h"

namespace kvlab::eval {

KeyFiniteWatch::KeyFiniteWatch(std::unique_ptr<KvCache> inner)
    : ForwardingKvCache(std::move(inner)), keys_finite_(this->inner().num_layers()) {}

absl::StatusOr<AttentionResult> KeyFiniteWatch::Attend(int layer, const AttentionInputs& inputs) {
  if (layer >= 0 && layer < static_cast<int>(keys_finite_.size())) {
    keys_finite_[layer] = at::isfinite(inputs.keys).all();
  }
  return ForwardingKvCache::Attend(layer, inputs);
}

at::Tensor KeyFiniteWatch::KeysFinite() const {
  c10::Device device = at::kCPU;
  for (const at::Tensor& flag : keys_finite_) {
    if (flag.defined()) device = flag.device();
  }
  std::vector<at::Tensor> flags;
  for (const at::Tensor& flag : keys_finite_) {
    flags.push_back(flag.defined() ? flag
                                   : at::ones({}, at::TensorOptions(device).dtype(at::kBool)));
  }
  if (flags.empty()) return at::ones({0}, at::kBool);
  return at::stack(flags);
}

std::string DescribeFirstNonFiniteLayer(const at::Tensor& keys_finite) {
  const at::Tensor flags = keys_finite.to(at::kCPU).to(at::kBool).contiguous();
  const int64_t layers = flags.numel();
  for (int64_t layer = 0; layer < layers; ++layer) {
    if (flags[layer].item<bool>()) continue;
    if (layer == 0) {
      return "it first reached layer 0's keys (it arose in the embedding or in layer 0's key "
             "projection)";
    }
    return absl::StrFormat(
        "it first reached layer %d's keys (it arose in layer %d or in layer %d's key projection)",
        layer, layer - 1, layer);
  }
  return absl::StrFormat(
      "every layer's keys were finite (it arose in the last layer, %d, after its keys, or in "
      "the final norm)",
      layers - 1);
}

}  // namespace kvlab::eval
