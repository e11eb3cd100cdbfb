// HfWeightSource: a model's weights from a Hugging Face safetensors checkpoint, each
// asked for by the model's own (GGUF) name and translated by the architecture's
// HfTensorLayout (hf_tensor_layout.h) into the checkpoint's name and convention.
//
//   const HfWeightSource source(*checkpoint, LlamaHfLayout(config), dir);
//   KVLAB_ASSIGN_OR_RETURN(auto model, LlamaModel::Load(config, source, options));
#ifndef KVLAB_EVAL_MODEL_HF_WEIGHT_SOURCE_H_
#define KVLAB_EVAL_MODEL_HF_WEIGHT_SOURCE_H_

#include <ATen/core/Tensor.h>

#include <functional>
#include <string>

#include "eval/model/weight_source.h"
#include "eval/safetensors/safetensors_checkpoint.h"

namespace kvlab::model {

// How one architecture's Hugging Face checkpoints differ from the model's names and
// conventions.
struct HfTensorLayout {
  // The checkpoint's name for the model's tensor `tensor`, or "" if it has none.
  std::function<std::string(const std::string& tensor)> hf_name;
  // Turns a tensor as stored (already in the asked dtype and in its PyTorch shape) into
  // the model's convention; null when every tensor is used as stored.
  std::function<at::Tensor(const std::string& tensor, at::Tensor stored)> convert;
};

class HfWeightSource : public WeightSource {
 public:
  // `checkpoint` must outlive the source; `name` (the model directory) names it in
  // messages.
  HfWeightSource(const safetensors::SafetensorsCheckpoint& checkpoint, HfTensorLayout layout,
                 std::string name)
      : checkpoint_(checkpoint), layout_(std::move(layout)), name_(std::move(name)) {}

  const std::string& name() const override { return name_; }
  absl::StatusOr<at::Tensor> Load(const std::string& tensor, const std::vector<int64_t>& shape,
                                  at::ScalarType dtype) const override;

 private:
  const safetensors::SafetensorsCheckpoint& checkpoint_;
  HfTensorLayout layout_;
  std::string name_;
};

}  // namespace kvlab::model

#endif  // KVLAB_EVAL_MODEL_HF_WEIGHT_SOURCE_H_
