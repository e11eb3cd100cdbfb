// Loading safetensors tensors into ATen tensors, in the dtype a model keeps its weights
// in: the one place where the format's element types become ATen's.
#ifndef KVLAB_EVAL_SAFETENSORS_SAFETENSORS_TENSOR_H_
#define KVLAB_EVAL_SAFETENSORS_SAFETENSORS_TENSOR_H_

#include <ATen/core/Tensor.h>

#include "absl/status/statusor.h"
#include "eval/safetensors/safetensors_file.h"

namespace kvlab::safetensors {

// Copies `tensor` out of the file's mapping into a new CPU tensor of its shape, converted
// to `dtype` (at::kFloat, at::kBFloat16 or at::kHalf; narrowing rounds to nearest even).
// The stored dtype must be F32, F16 or BF16: any other is Unimplemented naming the
// file, the tensor and its dtype.
absl::StatusOr<at::Tensor> LoadTensor(const SafetensorsFile& file,
                                      const SafetensorsTensor& tensor, at::ScalarType dtype);

}  // namespace kvlab::safetensors

#endif  // KVLAB_EVAL_SAFETENSORS_SAFETENSORS_TENSOR_H_
