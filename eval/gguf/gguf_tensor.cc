#include "eval/gguf/gguf_tensor.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <type_traits>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "eval/gguf/dequantize.h"

namespace kvlab::gguf {

namespace {

// Dequantizes rows [begin, end) of `tensor` into `out` (row-major, `row_elements` per
// row), through one fp32 row buffer when T is narrower than fp32.
template <typename T>
bool DequantizeRows(const TensorInfo& tensor, absl::Span<const uint8_t> bytes, int64_t row_bytes,
                    int64_t row_elements, int64_t begin, int64_t end, T* out) {
  std::vector<float> row(std::is_same_v<T, float> ? 0 : row_elements);
  for (int64_t r = begin; r < end; ++r) {
    float* dst = std::is_same_v<T, float> ? reinterpret_cast<float*>(out + r * row_elements)
                                          : row.data();
    if (!DequantizeToFloat(tensor.type, bytes.subspan(r * row_bytes, row_bytes),
                           absl::Span<float>(dst, row_elements))
             .ok()) {
      return false;
    }
    if constexpr (!std::is_same_v<T, float>) {
      std::copy(row.begin(), row.end(), out + r * row_elements);  // Rounds to nearest even.
    }
  }
  return true;
}

}  // namespace

bool IsLoadableDtype(at::ScalarType dtype) {
  return dtype == at::kFloat || dtype == at::kBFloat16 || dtype == at::kHalf;
}

absl::StatusOr<at::Tensor> LoadTensor(const GgufFile& file, const TensorInfo& tensor,
                                      at::ScalarType dtype) {
  if (!IsLoadableDtype(dtype)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: tensor '%s' can load as float32, bfloat16 or float16, not %s", file.path(),
        tensor.name, c10::toString(dtype)));
  }
  if (!IsDequantizable(tensor.type)) {
    return absl::UnimplementedError(absl::StrFormat(
        "%s: tensor '%s' has type %s, which kvlab cannot dequantize (supported: %s)",
        file.path(), tensor.name, GetTensorTypeTraits(static_cast<uint32_t>(tensor.type))->name,
        DequantizableTypeNames()));
  }
  const TensorTypeTraits traits = *GetTensorTypeTraits(static_cast<uint32_t>(tensor.type));
  const int64_t row_elements = tensor.dims[0];
  const int64_t row_bytes = row_elements / traits.block_elements * traits.block_bytes;
  const int64_t rows = tensor.NumElements() / row_elements;
  const absl::Span<const uint8_t> bytes = file.TensorBytes(tensor);

  // Straight into the asked dtype, row by row: no full-size fp32 copy on the way.
  at::Tensor out = at::empty(tensor.TorchShape(), at::TensorOptions().dtype(dtype));
  // Rows are independent; a failure (there can be none after the checks above, but
  // DequantizeToFloat validates sizes again) is kept.
  std::atomic<bool> failed{false};
  at::parallel_for(0, rows, /*grain_size=*/64, [&](int64_t begin, int64_t end) {
    bool ok = false;
    switch (dtype) {
      case at::kBFloat16:
        ok = DequantizeRows(tensor, bytes, row_bytes, row_elements, begin, end,
                            out.data_ptr<c10::BFloat16>());
        break;
      case at::kHalf:
        ok = DequantizeRows(tensor, bytes, row_bytes, row_elements, begin, end,
                            out.data_ptr<c10::Half>());
        break;
      default:
        ok = DequantizeRows(tensor, bytes, row_bytes, row_elements, begin, end,
                            out.data_ptr<float>());
        break;
    }
    if (!ok) failed = true;
  });
  if (failed) {
    return absl::InternalError(
        absl::StrFormat("%s: dequantizing tensor '%s' failed", file.path(), tensor.name));
  }
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
