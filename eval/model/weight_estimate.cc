#include "eval/model/weight_estimate.h"

#include <c10/core/ScalarType.h>

namespace kvlab::model {
namespace {

int64_t LoadedBytes(int64_t elements, bool matrix, const LoadOptions& options) {
  if (!matrix) return elements * 4;  // Norm weights and biases stay fp32.
  return elements * static_cast<int64_t>(c10::elementSize(options.weight_dtype));
}

}  // namespace

int64_t EstimateWeightBytes(const ModelFiles& files, const LoadOptions& options) {
  int64_t total = 0;
  if (const gguf::GgufFile* gguf = files.gguf()) {
    for (const gguf::TensorInfo& tensor : gguf->tensors()) {
      const bool matrix = tensor.dims.size() >= 2;
      total += matrix && options.native_weights
                   ? static_cast<int64_t>(tensor.byte_size)
                   : LoadedBytes(tensor.NumElements(), matrix, options);
    }
    return total;
  }
  for (const auto& file : files.hf()->checkpoint().files()) {
    for (const safetensors::SafetensorsTensor& tensor : file->tensors()) {
      total += LoadedBytes(tensor.NumElements(), tensor.shape.size() >= 2, options);
    }
  }
  return total;
}

}  // namespace kvlab::model
