// KeyFiniteWatch: a KvCache that hands everything to the cache it wraps and notes, per
// layer, whether the keys of the latest Attend() were all finite.
//
// A NaN or Inf born anywhere before layer L reaches L's keys (they are computed from
// the hidden states entering L), so once the model's output shows one, the first layer
// whose keys were not finite says where it arose: in the layer before it or in its
// own key projection. The flags are 0-dim tensors on the keys' device: watching costs
// one reduction over each layer's new keys and no host read.
#ifndef KVLAB_EVAL_PERPLEXITY_KEY_FINITE_WATCH_H_
#define KVLAB_EVAL_PERPLEXITY_KEY_FINITE_WATCH_H_

#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <vector>

#include "core/forwarding_kv_cache.h"
#include "core/kv_cache.h"

namespace kvlab::eval {

class KeyFiniteWatch : public ForwardingKvCache {
 public:
  explicit KeyFiniteWatch(std::unique_ptr<KvCache> inner);

  absl::StatusOr<AttentionResult> Attend(int layer, const AttentionInputs& inputs) override;

  // [num_layers()] bool: whether each layer's keys in its latest Attend() were all
  // finite (true for a layer not attended yet).
  at::Tensor KeysFinite() const;

 private:
  std::vector<at::Tensor> keys_finite_;  // Per layer; undefined until attended.
};

// Where a NaN or Inf in the model's output arose, from KeyFiniteWatch::KeysFinite()
// [layers] of the cache that saw it (on the host): "it first reached layer 7's keys
// (it arose in layer 6 or in layer 7's key projection)", or, with every layer's keys
// finite, "every layer's keys were finite (it arose in the last layer, 29, after its
// keys, or in the final norm)".
std::string DescribeFirstNonFiniteLayer(const at::Tensor& keys_finite);

}  // namespace kvlab::eval

#endif  // KVLAB_EVAL_PERPLEXITY_KEY_FINITE_WATCH_H_
