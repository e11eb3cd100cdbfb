// Loading GGUF tensors into ATen tensors.
#ifndef KVLAB_EVAL_GGUF_GGUF_TENSOR_H_
#define KVLAB_EVAL_GGUF_GGUF_TENSOR_H_

#include <ATen/core/Tensor.h>

#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "eval/gguf/gguf_file.h"

namespace kvlab::gguf {

// Dequantizes `tensor` into a new CPU tensor of shape tensor.TorchShape() (row-major,
// dims reversed) and dtype `dtype` (at::kFloat or at::kBFloat16).
absl::StatusOr<at::Tensor> LoadTensor(const GgufFile& file, const TensorInfo& tensor,
                                      at::ScalarType dtype = at::kFloat);

// Loads the tensor `name`, failing with InvalidArgument naming the file and tensor if
// its PyTorch shape is not `expected_shape`.
absl::StatusOr<at::Tensor> LoadTensor(const GgufFile& file, absl::string_view name,
                                      const std::vector<int64_t>& expected_shape,
                                      at::ScalarType dtype = at::kFloat);

}  // namespace kvlab::gguf

#endif  // KVLAB_EVAL_GGUF_GGUF_TENSOR_H_
