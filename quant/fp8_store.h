// Fp8Store: keys or values as 8-bit floats with one fp32 scale per token and KV head.
//
// A token's vector x is stored as fp8(x / s) with s = max|x| / F (F the format's
// largest finite value; s = 1 for an all-zero vector) and read back as
// fp8 value * s. Quantized when appended, before the step that wrote it attends to
// it; no full-precision copy is kept. The products dequantize into a temporary per
// call (no fused kernel). Bytes: head_dim one-byte values plus a 4-byte scale per
// token and head, all counted in held_bytes().
#ifndef KVLAB_QUANT_FP8_STORE_H_
#define KVLAB_QUANT_FP8_STORE_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "core/quantizer.h"
#include "core/tensor_store.h"
#include "core/token_buffer.h"

namespace kvlab::quant {

class Fp8Store : public TensorStore {
 public:
  // `format`: at::kFloat8_e4m3fn or at::kFloat8_e5m2. spec.residual_tokens must be 0.
  static absl::StatusOr<std::unique_ptr<Fp8Store>> Create(at::ScalarType format,
                                                          const StoreSpec& spec);

  absl::Status Append(const at::Tensor& tokens) override;
  absl::StatusOr<at::Tensor> MultiplyTransposed(const at::Tensor& queries) const override;
  absl::StatusOr<at::Tensor> Multiply(const at::Tensor& weights) const override;
  at::Tensor Materialize() const override;
  absl::Status Retain(const at::Tensor& keep) override;
  int64_t length() const override { return values_.length(); }
  int64_t held_bytes() const override { return values_.held_bytes() + scales_.held_bytes(); }
  int64_t allocated_bytes() const override {
    return values_.allocated_bytes() + scales_.allocated_bytes();
  }
  // "fp8-e4m3 per-token" or "fp8-e5m2 per-token".
  std::string Describe() const override;

  // The format's largest finite value: 448 (E4M3) or 57344 (E5M2).
  static float LargestFinite(at::ScalarType format);

 private:
  Fp8Store(at::ScalarType format, const StoreSpec& spec);

  const at::ScalarType format_;
  const StoreSpec spec_;
  TokenBuffer values_;  // [heads, tokens, head_dim] uint8: the fp8 bits
  TokenBuffer scales_;  // [heads, tokens, 1] fp32
};

}  // namespace kvlab::quant

#endif  // KVLAB_QUANT_FP8_STORE_H_
