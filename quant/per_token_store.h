// PerTokenQuantizedStore: each token's vector quantized on its own, in groups of
// channels, with the most recent tokens kept in full precision.
//
// Layout, per KV head: packed levels [tokens, PackedBytes(head_dim)], scale and zero
// [tokens, head_dim / group] in the scale dtype, and a residual [r, head_dim] fp32 of
// the latest tokens. A token leaves the residual (is quantized) once `residual_tokens`
// newer ones have arrived; with no residual, it is quantized as it is appended, before
// the step that wrote it attends to it.
//
// Retain() keeps the chosen tokens per head. Heads may keep different numbers of
// residual tokens; every head then keeps the fewest any head keeps, and the others'
// oldest kept residual tokens are quantized early (never the reverse: no quantized
// token returns to full precision).
#ifndef KVLAB_QUANT_PER_TOKEN_STORE_H_
#define KVLAB_QUANT_PER_TOKEN_STORE_H_

#include <memory>

#include "absl/status/statusor.h"
#include "core/quantizer.h"
#include "core/token_buffer.h"
#include "kernels/cache_views.h"
#include "kernels/integer_format.h"

namespace kvlab::quant {

class PerTokenQuantizedStore : public TensorStore {
 public:
  // `group` channels per group; must divide spec.head_dim.
  static absl::StatusOr<std::unique_ptr<PerTokenQuantizedStore>> Create(
      const kernels::IntegerFormat& format, int64_t group, const StoreSpec& spec);

  absl::Status Append(const at::Tensor& tokens) override;
  absl::StatusOr<at::Tensor> MultiplyTransposed(const at::Tensor& queries) const override;
  absl::StatusOr<at::Tensor> Multiply(const at::Tensor& weights) const override;
  at::Tensor Materialize() const override;
  absl::Status Retain(const at::Tensor& keep) override;
  int64_t length() const override { return levels_.length() + residual_.length(); }
  int64_t held_bytes() const override;
  int64_t allocated_bytes() const override;
  std::string Describe() const override;

  int64_t quantized_length() const { return levels_.length(); }
  int64_t residual_length() const { return residual_.length(); }

 private:
  PerTokenQuantizedStore(const kernels::IntegerFormat& format, int64_t group, const StoreSpec& spec);
  // Quantizes x [heads, n, head_dim] into levels, scales and zeros for the buffers.
  absl::StatusOr<kernels::QuantizedGroups> Quantize(const at::Tensor& x) const;
  // The quantized tokens as the kernels read them.
  kernels::TokenGroupsView QuantizedView() const;
  absl::Status AppendQuantized(const kernels::QuantizedGroups& q);
  // Moves the oldest `n` residual tokens to quantized storage.
  absl::Status Flush(int64_t n);

  kernels::IntegerFormat format_;
  int64_t group_;
  StoreSpec spec_;
  TokenBuffer levels_;
  TokenBuffer scales_;
  TokenBuffer zeros_;
  TokenBuffer residual_;
};

}  // namespace kvlab::quant

#endif  // KVLAB_QUANT_PER_TOKEN_STORE_H_
