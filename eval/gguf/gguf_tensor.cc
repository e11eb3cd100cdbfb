#include "eval/gguf/gguf_tensor.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "eval/gguf/dequantize.h"

namespace kvlab::gguf {

absl::StatusOr<at::Tensor> LoadTensor(const GgufFile& file, const TensorInfo& tensor,
                                      at::ScalarType dtype) {
  if (dtype != at::kFloat && dtype != at::kBFloat16) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: tensor '%s' can load as float32 or bfloat16, not %s", file.path(), tensor.name,
        c10::toString(dtype)));
  }
  if (!IsDequantizable(tensor.type)) {
    return absl::UnimplementedError(absl::StrFormat(
        "%s: tensor '%s' has type %s, which kvlab cannot dequantize "
        "(supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1)",
        file.path(), tensor.name,
        GetTensorTypeTraits(static_cast<uint32_t>(tensor.type))->name));
  }
  const TensorTypeTraits traits = *GetTensorTypeTraits(static_cast<uint32_t>(tensor.type));
  const int64_t row_elements = tensor.dims[0];
  const int64_t row_bytes = row_elements / traits.block_elements * traits.block_bytes;
  const int64_t rows = tensor.NumElements() / row_elements;
  const absl::Span<const uint8_t> bytes = file.TensorBytes(tensor);

  at::Tensor out = at::empty(tensor.TorchShape(), at::TensorOptions().dtype(at::kFloat));
  float* out_data = out.data_ptr<float>();
  // Rows are independent; the first error (there can be none after the checks above,
  // but DequantizeToFloat validates sizes again) is kept.
  std::atomic<bool> failed{false};
  at::parallel_for(0, rows, /*grain_size=*/64, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const absl::Status s = DequantizeToFloat(
          tensor.type, bytes.subspan(r * row_bytes, row_bytes),
          absl::Span<float>(out_data + r * row_elements, row_elements));
      if (!s.ok()) failed = true;
    }
  });
  if (failed) {
    return absl::InternalError(
        absl::StrFormat("%s: dequantizing tensor '%s' failed", file.path(), tensor.name));
  }
  if (dtype != at::kFloat) out = out.to(dtype);
  return out;
}

absl::StatusOr<at::Tensor> LoadTensor(const GgufFile& file, absl::string_view name,
                                      const std::vector<int64_t>& expected_shape,
                                      at::ScalarType dtype) {
  KVLAB_ASSIGN_OR_RETURN(const TensorInfo* tensor, file.FindTensor(name));
  if (tensor->TorchShape() != expected_shape) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: tensor '%s' has shape [%s], expected [%s]", file.path(), name,
        absl::StrJoin(tensor->TorchShape(), ", "), absl::StrJoin(expected_shape, ", ")));
  }
  return LoadTensor(file, *tensor, dtype);
}

}  // namespace kvlab::gguf
