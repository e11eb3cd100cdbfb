// Gemma3Model: the forward pass of a Gemma 3 decoder, in LibTorch (a DecoderModel).
//
// Per layer, as llama.cpp computes it:
//   h = RMSNorm(x) -> Q, K, V projections -> per-head RMSNorm of Q and K
//     -> KvCache::Attend (RoPE of the layer's base, NEOX pairs; a local layer attends
//        its sliding window only) -> output projection -> RMSNorm -> x += that
//   h = RMSNorm(x) -> GELU(tanh)(gate) * up -> down -> RMSNorm -> x += that
// with the embeddings scaled by sqrt(hidden) on the way in, a final RMSNorm, the tied
// (or separate) output projection, and tanh soft-capping of the logits when the
// metadata asks for it.
//
// Gemma's RMSNorm multiplies by (1 + weight); llama.cpp's converter stores weight + 1
// in the GGUF (conversion/gemma.py, Gemma3Model.norm_shift), so the norms here
// multiply by the stored weight as they are (a Hugging Face checkpoint's norm weights
// get the + 1 on load, hf_tensor_layout.h).
#ifndef KVLAB_EVAL_MODEL_GEMMA3_MODEL_H_
#define KVLAB_EVAL_MODEL_GEMMA3_MODEL_H_

#include <ATen/core/Tensor.h>

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "eval/gguf/gguf_file.h"
#include "eval/model/decoder_model.h"
#include "eval/model/decoder_weights.h"
#include "eval/model/gemma3_config.h"
#include "eval/model/projection.h"
#include "eval/model/weight_source.h"

namespace kvlab::model {

class Gemma3Model : public DecoderModel {
 public:
  static absl::StatusOr<std::unique_ptr<Gemma3Model>> Load(const gguf::GgufFile& file,
                                                           const LoadOptions& options);
  // The model `config` describes, its weights from `weights` (GGUF names, norm weights
  // holding Gemma's + 1 as llama.cpp stores them).
  static absl::StatusOr<std::unique_ptr<Gemma3Model>> Load(const Gemma3Config& config,
                                                           const WeightSource& weights,
                                                           const LoadOptions& options);

  const Gemma3Config& config() const { return config_; }

  // DecoderModel (decoder_model.h says what each does).
  ModelInfo info() const override {
    return {"gemma3", config_.name, config_.attention_shape(), config_.vocab,
            config_.context_length};
  }
  LayerRopes ropes() const override { return ropes_; }
  c10::Device device() const override { return options_.device; }
  at::ScalarType weight_dtype() const override { return options_.weight_dtype; }
  bool OutputDependsOnRowCount() const override {
    return model::OutputDependsOnRowCount(options_);
  }
  int64_t WeightBytes() const override { return weight_bytes_; }
  absl::Status CheckTokens(const at::Tensor& tokens) const override {
    return CheckTokenIds(tokens, config_.vocab);
  }
  absl::StatusOr<at::Tensor> Forward(const at::Tensor& tokens, int64_t first_position,
                                     absl::Span<KvCache* const> caches) const override;
  at::Tensor Logits(const at::Tensor& hidden) const override;
  absl::StatusOr<std::unique_ptr<KvCache>> NewDenseCache() const override {
    return NewDenseCacheFor(config_.attention_shape(), ropes_, options_.device);
  }

 private:
  using Layer = DecoderLayerWeights;

  Gemma3Model(Gemma3Config config, LayerRopes ropes, LoadOptions options)
      : config_(std::move(config)), ropes_(std::move(ropes)), options_(options) {}
  absl::StatusOr<at::Tensor> ForwardUnchecked(const at::Tensor& tokens, int64_t first_position,
                                              absl::Span<KvCache* const> caches) const;
  at::Tensor RmsNorm(const at::Tensor& x, const at::Tensor& weight) const {
    return model::RmsNorm(x, weight, config_.rms_eps);
  }

  Gemma3Config config_;
  LayerRopes ropes_;
  LoadOptions options_;
  Projection token_embedding_;  // [vocab, hidden]
  at::Tensor output_norm_;      // [hidden]
  Projection output_;           // [vocab, hidden]; the embedding when tied.
  std::vector<Layer> layers_;
  int64_t weight_bytes_ = 0;
};

}  // namespace kvlab::model

#endif  // KVLAB_EVAL_MODEL_GEMMA3_MODEL_H_
