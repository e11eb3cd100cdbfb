// PerTokenQuantizedStore: each token's vector quantized on its own, in groups of
// channels, with the most recent tokens kept in full precision (FlexGen's group-wise
// cache quantization, https://arxiv.org/abs/2303.06865; KIVI's layout for values,
// https://arxiv.org/abs/2402.02750).
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
#include "kernels/integer_format.h"
#include "quant/quantized_store.h"

namespace kvlab::quant {

class PerTokenQuantizedStore : public QuantizedStore {
 public:
  // `group` channels per group; must divide spec.head_dim.
  static absl::StatusOr<std::unique_ptr<PerTokenQuantizedStore>> Create(
      const kernels::IntegerFormat& format, int64_t group, const StoreSpec& spec);

  absl::Status Retain(const at::Tensor& keep) override;

 private:
  PerTokenQuantizedStore(const kernels::IntegerFormat& format, int64_t group, const StoreSpec& spec);
  absl::Status AppendFinite(const at::Tensor& tokens) override;
  at::Tensor DequantizeQuantized() const override;
  QuantizedView View() const override;
  // Quantizes x [heads, n, head_dim] into levels, scales and zeros for the buffers.
  absl::StatusOr<kernels::QuantizedGroups> Quantize(const at::Tensor& x) const;
  absl::Status AppendQuantized(const kernels::QuantizedGroups& q);
  // Moves the oldest `n` residual tokens to quantized storage.
  absl::Status Flush(int64_t n);
};

}  // namespace kvlab::quant

#endif  // KVLAB_QUANT_PER_TOKEN_STORE_H_
