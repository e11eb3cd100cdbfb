// LlamaModel: the forward pass of a Llama-family decoder, in LibTorch (a DecoderModel).
//
// Loads weights from a GGUF file (dequantized to fp32, bf16 or fp16 on a device) or a
// Hugging Face checkpoint (weight_source.h) and runs RMSNorm -> attention -> residual ->
// RMSNorm -> SwiGLU MLP -> residual per layer, with grouped-query attention, a tied or
// separate output projection and, for qwen2, biases on the Q, K and V projections. Attention goes
// through KvCache::Attend() only: the model never holds keys or values itself.
//
//   KVLAB_ASSIGN_OR_RETURN(auto model, LlamaModel::Load(*file, {}));
//   KVLAB_ASSIGN_OR_RETURN(auto cache, model->NewDenseCache());
//   KVLAB_ASSIGN_OR_RETURN(at::Tensor hidden, model->Forward(tokens, 0, {cache.get()}));
//   at::Tensor logits = model->Logits(hidden);
//
// Forward() is thread-compatible; the weights are immutable after Load().
#ifndef KVLAB_EVAL_MODEL_LLAMA_MODEL_H_
#define KVLAB_EVAL_MODEL_LLAMA_MODEL_H_

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/kv_cache.h"
#include "core/rotary_embedding.h"
#include "eval/gguf/gguf_file.h"
#include "eval/model/decoder_model.h"
#include "eval/model/decoder_weights.h"
#include "eval/model/llama_config.h"
#include "eval/model/projection.h"
#include "eval/model/weight_source.h"

namespace kvlab::model {

class LlamaModel : public DecoderModel {
 public:
  static absl::StatusOr<std::unique_ptr<LlamaModel>> Load(const gguf::GgufFile& file,
                                                          const LoadOptions& options);
  // The model `config` describes, its weights from `weights` (GGUF names).
  static absl::StatusOr<std::unique_ptr<LlamaModel>> Load(const LlamaConfig& config,
                                                          const WeightSource& weights,
                                                          const LoadOptions& options);

  const LlamaConfig& config() const { return config_; }
  const RotaryEmbedding& rope() const { return rope_; }

  // DecoderModel (decoder_model.h says what each does).
  ModelInfo info() const override {
    return {config_.architecture, config_.name, config_.attention_shape(), config_.vocab,
            config_.context_length};
  }
  LayerRopes ropes() const override { return rope_; }
  c10::Device device() const override { return options_.device; }
  at::ScalarType weight_dtype() const override { return options_.weight_dtype; }
  bool OutputDependsOnRowCount() const override {
    return model::OutputDependsOnRowCount(options_);
  }
  int64_t WeightBytes() const override { return weight_bytes_; }
  absl::Status CheckTokens(const at::Tensor& tokens) const override;
  absl::StatusOr<at::Tensor> Forward(const at::Tensor& tokens, int64_t first_position,
                                     absl::Span<KvCache* const> caches) const override;
  at::Tensor Logits(const at::Tensor& hidden) const override;
  absl::StatusOr<std::unique_ptr<KvCache>> NewDenseCache() const override;

 private:
  using Layer = DecoderLayerWeights;

  LlamaModel(LlamaConfig config, RotaryEmbedding rope, LoadOptions options)
      : config_(std::move(config)), rope_(std::move(rope)), options_(options) {}
  absl::StatusOr<at::Tensor> ForwardUnchecked(const at::Tensor& tokens, int64_t first_position,
                                              absl::Span<KvCache* const> caches) const;
  at::Tensor RmsNorm(const at::Tensor& x, const at::Tensor& weight) const {
    return model::RmsNorm(x, weight, config_.rms_eps);
  }

  LlamaConfig config_;
  RotaryEmbedding rope_;
  LoadOptions options_;
  Projection token_embedding_;  // [vocab, hidden]
  at::Tensor output_norm_;      // [hidden]
  Projection output_;           // [vocab, hidden]; the embedding when tied.
  std::vector<Layer> layers_;
  int64_t weight_bytes_ = 0;
};

}  // namespace kvlab::model

#endif  // KVLAB_EVAL_MODEL_LLAMA_MODEL_H_
