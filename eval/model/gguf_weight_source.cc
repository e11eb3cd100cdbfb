#include "eval/model/gguf_weight_source.h"

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "eval/gguf/gguf_tensor.h"

namespace kvlab::model {

absl::StatusOr<at::Tensor> GgufWeightSource::Load(const std::string& tensor,
                                                  const std::vector<int64_t>& shape,
                                                  at::ScalarType dtype) const {
  return gguf::LoadTensor(file_, tensor, shape, dtype);
}

absl::StatusOr<GgmlMatrix> GgufWeightSource::LoadNative(const std::string& tensor,
                                                        const std::vector<int64_t>& shape) const {
  KVLAB_ASSIGN_OR_RETURN(const gguf::TensorInfo* info, file_.FindTensor(tensor));
  if (info->TorchShape() != shape) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: tensor '%s' has shape [%s], expected [%s]", file_.path(), tensor,
        absl::StrJoin(info->TorchShape(), ", "), absl::StrJoin(shape, ", ")));
  }
  return GgmlMatrix::Create(file_.path(), *info, file_.TensorBytes(*info));
}

}  // namespace kvlab::model
