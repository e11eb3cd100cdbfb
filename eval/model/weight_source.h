// WeightSource: where a model's weights come from, named as the model names them.
//
// Every architecture names its tensors once, as GGUF files do (token_embd.weight,
// output_norm.weight, output.weight, blk.<i>.attn_q.weight, blk.<i>.attn_q.bias,
// blk.<i>.ffn_gate.weight, ...), and asks a WeightSource for them with the shape
// its forward pass expects. A GGUF file serves those names as they are
// (gguf_weight_source.h); a Hugging Face checkpoint translates each to its own name
// and convention (hf_weight_source.h). So there is one forward pass per architecture,
// whatever the format.
//
// Implementations are immutable after construction and safe to read from several
// threads; they refer to the files they read, which must outlive them.
#ifndef KVLAB_EVAL_MODEL_WEIGHT_SOURCE_H_
#define KVLAB_EVAL_MODEL_WEIGHT_SOURCE_H_

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "eval/model/ggml_matrix.h"

namespace kvlab::model {

class WeightSource {
 public:
  virtual ~WeightSource() = default;

  // The file or directory the weights come from, for messages.
  virtual const std::string& name() const = 0;
  // The tensor the model calls `tensor`, as a new CPU tensor of `dtype` (at::kFloat,
  // at::kBFloat16 or at::kHalf) and PyTorch shape `shape` ([out, in] for a
  // projection). NotFound naming the file and tensor if absent, InvalidArgument if its
  // shape differs, Unimplemented for a stored type kvlab cannot read.
  virtual absl::StatusOr<at::Tensor> Load(const std::string& tensor,
                                          const std::vector<int64_t>& shape,
                                          at::ScalarType dtype) const = 0;
  // The tensor `tensor` of PyTorch shape `shape` ([out, in]) in its stored block
  // format, referring to the source's own bytes (native weights, projection.h).
  // Unimplemented unless the source can (a GGUF file can).
  virtual absl::StatusOr<GgmlMatrix> LoadNative(const std::string& tensor,
                                                const std::vector<int64_t>& shape) const {
    return absl::UnimplementedError(absl::StrFormat(
        "%s: native weights need a GGUF file (tensor '%s')", name(), tensor));
  }
};

}  // namespace kvlab::model

#endif  // KVLAB_EVAL_MODEL_WEIGHT_SOURCE_H_
