// Loading GGUF tensors into ATen tensors, in the dtype a model keeps its weights in.
// Every weight a model reads from a GGUF file goes through LoadTensor(), whatever the
// architecture: it is the one place where ggml's block formats become a dtype.
#ifndef KVLAB_EVAL_GGUF_GGUF_TENSOR_H_
#define KVLAB_EVAL_GGUF_GGUF_TENSOR_H_

#include <ATen/core/Tensor.h>

#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "eval/gguf/gguf_file.h"

namespace kvlab::gguf {

// The dtypes LoadTensor() produces: at::kFloat, at::kBFloat16 and at::kHalf.
bool IsLoadableDtype(at::ScalarType dtype);

// Dequantizes `tensor` into a new CPU tensor of shape tensor.TorchShape() (row-major,
// dims reversed) and dtype `dtype` (IsLoadableDtype). Each element is dequantized in
// fp32 and rounded once to `dtype` (nearest even); no fp32 copy of the whole tensor is
// made. Fails with InvalidArgument naming the file and tensor for another dtype.
absl::StatusOr<at::Tensor> LoadTensor(const GgufFile& file, const TensorInfo& tensor,
                                      at::ScalarType dtype = at::kFloat);

// Loads the tensor `name`, failing with InvalidArgument naming the file and tensor if
// its PyTorch shape is not `expected_shape`.
absl::StatusOr<at::Tensor> LoadTensor(const GgufFile& file, absl::string_view name,
                                      const std::vector<int64_t>& expected_shape,
                                      at::ScalarType dtype = at::kFloat);

}  // namespace kvlab::gguf

#endif  // KVLAB_EVAL_GGUF_GGUF_TENSOR_H_
