// QuantizedStore: what the two quantized layouts share, in one place.
//
// Tokens are held as packed integer levels with scales and zero points
// (kernels::IntegerFormat), after a full-precision residual of the latest tokens.
// This class owns those buffers and everything that does not depend on how tokens
// are grouped for quantization: the one NaN/Inf check per append, the attention
// products (fused kernels over the quantized tokens, plain matmuls over the residual),
// the dequantized copy, and byte counting. PerTokenQuantizedStore and
// PerChannelQuantizedStore say how tokens are grouped, when they leave the residual,
// and how eviction keeps them.
//
// Bytes: held_bytes() and allocated_bytes() count levels, scales, zero points and the
// residual; per-token bookkeeping (a per-channel store's block indices) is
// metadata_bytes(), counted in neither, as the cache's own positions are not.
// A layout with such bookkeeping overrides metadata_bytes().
#ifndef KVLAB_QUANT_QUANTIZED_STORE_H_
#define KVLAB_QUANT_QUANTIZED_STORE_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <variant>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/quantizer.h"
#include "core/token_buffer.h"
#include "kernels/cache_views.h"
#include "kernels/integer_format.h"

namespace kvlab::quant {

class QuantizedStore : public TensorStore {
 public:
  // Refuses NaN or Inf (InvalidArgument), then hands the tokens to AppendFinite().
  absl::Status Append(const at::Tensor& tokens) final;
  absl::StatusOr<at::Tensor> MultiplyTransposed(const at::Tensor& queries) const final;
  absl::StatusOr<at::Tensor> Multiply(const at::Tensor& weights) const final;
  at::Tensor Materialize() const final;
  // The quantized tokens, then the residual.
  std::optional<std::vector<kernels::CacheRowsView>> DecodeRuns() const final;
  int64_t length() const final { return levels_.length() + residual_.length(); }
  int64_t held_bytes() const final;
  int64_t allocated_bytes() const final;
  // e.g. "int4-asym g32 per-channel Half-scales r128".
  std::string Describe() const final;

  int64_t quantized_length() const { return levels_.length(); }
  int64_t residual_length() const { return residual_.length(); }

 protected:
  // The quantized tokens as the kernels read them, in the layout's view.
  using QuantizedView = std::variant<kernels::TokenGroupsView, kernels::ChannelBlocksView>;

  // `scales_per_row`: scale (and zero point) values in one row of scales_ and zeros_;
  // `group` and `layout` ("per-token", "per-channel") name the layout in Describe().
  QuantizedStore(const kernels::IntegerFormat& format, const StoreSpec& spec,
                 int64_t scales_per_row, int64_t group, std::string layout);

  // Appends tokens [kv_heads, n, head_dim] already known to be finite.
  virtual absl::Status AppendFinite(const at::Tensor& tokens) = 0;
  // The quantized tokens (not the residual) read back: fp32 [kv_heads, quantized, d].
  virtual at::Tensor DequantizeQuantized() const = 0;
  virtual QuantizedView View() const = 0;

  // Channels per group (per token) or tokens per block (per channel).
  int64_t group() const { return group_; }

  const kernels::IntegerFormat format_;
  const StoreSpec spec_;
  TokenBuffer levels_;    // [heads, quantized, PackedBytes(head_dim)] uint8
  TokenBuffer scales_;    // [heads, rows, scales_per_row] in the scale dtype
  TokenBuffer zeros_;     // like scales_; empty when symmetric
  TokenBuffer residual_;  // [heads, r, head_dim] fp32, the latest tokens

 private:
  const int64_t group_;
  const std::string layout_;
};

}  // namespace kvlab::quant

#endif  // KVLAB_QUANT_QUANTIZED_STORE_H_
