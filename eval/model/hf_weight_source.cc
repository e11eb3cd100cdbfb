#include "eval/model/hf_weight_source.h"

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "eval/safetensors/safetensors_tensor.h"

namespace kvlab::model {

absl::StatusOr<at::Tensor> HfWeightSource::Load(const std::string& tensor,
                                                const std::vector<int64_t>& shape,
                                                at::ScalarType dtype) const {
  const std::string hf = layout_.hf_name(tensor);
  if (hf.empty()) {
    return absl::NotFoundError(absl::StrFormat(
        "%s: a Hugging Face checkpoint of this architecture has no counterpart of '%s'", name_,
        tensor));
  }
  const safetensors::SafetensorsCheckpoint::Located* found = checkpoint_.Find(hf);
  if (found == nullptr) {
    return absl::NotFoundError(absl::StrFormat("%s: no tensor '%s' (the model's '%s')",
                                               checkpoint_.description(), hf, tensor));
  }
  if (found->tensor->shape != shape) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: tensor '%s' has shape [%s], expected [%s]", found->file->path(), hf,
        absl::StrJoin(found->tensor->shape, ", "), absl::StrJoin(shape, ", ")));
  }
  KVLAB_ASSIGN_OR_RETURN(at::Tensor stored,
                         safetensors::LoadTensor(*found->file, *found->tensor, dtype));
  if (!layout_.convert) return stored;
  return layout_.convert(tensor, std::move(stored));
}

}  // namespace kvlab::model
