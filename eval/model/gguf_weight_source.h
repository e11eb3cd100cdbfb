// GgufWeightSource: a model's weights from a GGUF file, whose tensor names are the
// models' own (weight_source.h). Quantized tensors are dequantized on load, or kept
// as the file holds them (LoadNative).
#ifndef KVLAB_EVAL_MODEL_GGUF_WEIGHT_SOURCE_H_
#define KVLAB_EVAL_MODEL_GGUF_WEIGHT_SOURCE_H_

#include "eval/gguf/gguf_file.h"
#include "eval/model/weight_source.h"

namespace kvlab::model {

class GgufWeightSource : public WeightSource {
 public:
  // `file` must outlive the source.
  explicit GgufWeightSource(const gguf::GgufFile& file) : file_(file) {}

  const std::string& name() const override { return file_.path(); }
  absl::StatusOr<at::Tensor> Load(const std::string& tensor, const std::vector<int64_t>& shape,
                                  at::ScalarType dtype) const override;
  absl::StatusOr<GgmlMatrix> LoadNative(const std::string& tensor,
                                        const std::vector<int64_t>& shape) const override;

 private:
  const gguf::GgufFile& file_;
};

}  // namespace kvlab::model

#endif  // KVLAB_EVAL_MODEL_GGUF_WEIGHT_SOURCE_H_
