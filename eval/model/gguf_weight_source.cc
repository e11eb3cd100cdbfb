#include "eval/model/gguf_weight_source.h"

#include "eval/gguf/gguf_tensor.h"

namespace kvlab::model {

absl::StatusOr<at::Tensor> GgufWeightSource::Load(const std::string& tensor,
                                                  const std::vector<int64_t>& shape,
                                                  at::ScalarType dtype) const {
  return gguf::LoadTensor(file_, tensor, shape, dtype);
}

}  // namespace kvlab::model
