// ChannelPrunedKeyStore: a key store whose oldest tokens may keep only some channels.
//
// ThinK (core/key_channel_scores.h) drops, per KV head, the key channels that matter
// least to the observation window's queries. This store holds the keys in two runs, in
// token order: the pruned tokens, [kv_heads, pruned, d_kept] in a store of d_kept
// channels plus the kept channels' indices [kv_heads, d_kept], then the tokens with all
// their channels (what arrives after pruning, and a recent window left whole) in the
// store it wraps. Both runs are stores of the cache's key format, made by the same
// maker: a dense key store keeps its dtype, a quantized one re-quantizes the pruned
// tokens (dequantized, their kept channels gathered) at the narrower width.
//
// Attention reads exactly what is held: a query meets a pruned token only on the
// token's kept channels (the query's other channels are never multiplied), which
// equals attending keys whose pruned channels are zero, as kvpress's ThinKPress
// stores them. held_bytes() counts both runs and the channel indices.
//
// DecodeRuns() stays nullopt (the decode kernel's runs have one width), so decode
// steps take the two products. Retain() keeps tokens of either run; it needs every KV
// head to keep as many pruned tokens as the others (a window dropping the oldest
// tokens does; an eviction that picks different pruned tokens per head does not,
// FailedPrecondition).
#ifndef KVLAB_CORE_CHANNEL_PRUNED_KEY_STORE_H_
#define KVLAB_CORE_CHANNEL_PRUNED_KEY_STORE_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "core/tensor_store.h"

namespace kvlab {

// Makes an empty key store of `head_dim` channels in the cache's key format.
using KeyStoreMaker = std::function<absl::StatusOr<std::unique_ptr<TensorStore>>(int64_t head_dim)>;

class ChannelPrunedKeyStore : public TensorStore {
 public:
  // `full`: the store of the tokens with all channels (empty, [kv_heads, 0, head_dim]);
  // `make_pruned`: makes the store of the pruned tokens, at their kept width.
  ChannelPrunedKeyStore(int64_t kv_heads, int64_t head_dim, std::unique_ptr<TensorStore> full,
                        KeyStoreMaker make_pruned);

  // Moves the oldest `tokens` held tokens to the pruned run, keeping of each KV head
  // only the channels `kept` [kv_heads, d_kept] int64 (ascending per row, 0 < d_kept <
  // head_dim). Once per store: FailedPrecondition on a second call; InvalidArgument
  // for a wrong shape or more tokens than held.
  absl::Status PruneOldest(int64_t tokens, const at::Tensor& kept);

  absl::Status Append(const at::Tensor& tokens) override { return full_->Append(tokens); }
  absl::StatusOr<at::Tensor> MultiplyTransposed(const at::Tensor& queries) const override;
  absl::StatusOr<at::Tensor> Multiply(const at::Tensor& weights) const override;
  // The pruned tokens' dropped channels read as zero.
  at::Tensor Materialize() const override;
  absl::Status Retain(const at::Tensor& keep) override;
  int64_t length() const override { return pruned_length() + full_->length(); }
  int64_t held_bytes() const override;
  int64_t allocated_bytes() const override;
  int64_t metadata_bytes() const override;
  std::string Describe() const override;

  int64_t pruned_length() const { return pruned_ ? pruned_->length() : 0; }
  // [kv_heads, d_kept] int64, or undefined before PruneOldest.
  const at::Tensor& kept_channels() const { return kept_; }
  // Bytes of the kept channels' indices (counted in held_bytes).
  int64_t index_bytes() const;

 private:
  // `x` [kv_heads, m, d_kept] scattered to its kept channels of [kv_heads, m, head_dim].
  at::Tensor Widened(const at::Tensor& x) const;

  int64_t kv_heads_;
  int64_t head_dim_;
  std::unique_ptr<TensorStore> full_;
  KeyStoreMaker make_pruned_;
  std::unique_ptr<TensorStore> pruned_;  // Null before PruneOldest.
  at::Tensor kept_;
};

}  // namespace kvlab

#endif  // KVLAB_CORE_CHANNEL_PRUNED_KEY_STORE_H_
