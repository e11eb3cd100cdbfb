#include "eval/model/llama_model.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include "base/device.h"
#include "base/status_macros.h"
#include "base/torch_status.h"
#include "eval/model/gguf_weight_source.h"

namespace kvlab::model {

absl::StatusOr<std::unique_ptr<LlamaModel>> LlamaModel::Load(const gguf::GgufFile& file,
                                                            const LoadOptions& options) {
  KVLAB_ASSIGN_OR_RETURN(const LlamaConfig config, LlamaConfig::FromGguf(file));
  return Load(config, GgufWeightSource(file), options);
}

absl::StatusOr<std::unique_ptr<LlamaModel>> LlamaModel::Load(const LlamaConfig& config,
                                                            const WeightSource& source,
                                                            const LoadOptions& options) {
  KVLAB_RETURN_IF_ERROR(CheckLoadOptions(options));
  KVLAB_ASSIGN_OR_RETURN(
      std::vector<double> frequencies,
      RopeInverseFrequencies(config.rope_base, config.rope_dim, config.rope_scaling));
  KVLAB_ASSIGN_OR_RETURN(RotaryEmbedding rope,
                         RotaryEmbedding::WithFrequencies(config.head_dim, std::move(frequencies),
                                                          config.rope_style));
  std::unique_ptr<LlamaModel> model(new LlamaModel(config, std::move(rope), options));
  KVLAB_ASSIGN_OR_RETURN(DecoderWeights weights,
                         LoadDecoderWeights(config.weights_layout(), source, options));
  model->weight_bytes_ = weights.ByteSize();
  model->token_embedding_ = std::move(weights.token_embedding);
  model->output_norm_ = std::move(weights.output_norm);
  model->output_ = std::move(weights.output);
  model->layers_ = std::move(weights.layers);
  return model;
}

absl::Status LlamaModel::CheckTokens(const at::Tensor& tokens) const {
  return CheckTokenIds(tokens, config_.vocab);
}

absl::StatusOr<at::Tensor> LlamaModel::Forward(const at::Tensor& tokens, int64_t first_position,
                                               absl::Span<KvCache* const> caches) const {
  KVLAB_RETURN_IF_ERROR(CheckForwardArguments(tokens, caches, config_.num_layers, config_.vocab,
                                              options_.device));
  c10::InferenceMode inference;
  return CatchTorchErrors("model forward", [&] {
    return ForwardUnchecked(tokens.to(options_.device), first_position, caches);
  });
}

absl::StatusOr<at::Tensor> LlamaModel::ForwardUnchecked(const at::Tensor& tokens,
                                                        int64_t first_position,
                                                        absl::Span<KvCache* const> caches) const {
  const int64_t batch = tokens.size(0), n = tokens.size(1);
  const int64_t d = config_.head_dim, hq = config_.q_heads, hkv = config_.kv_heads;
  at::Tensor x = token_embedding_.Rows(tokens);  // [batch, n, hidden]
  for (int i = 0; i < config_.num_layers; ++i) {
    const Layer& layer = layers_[i];
    // [batch, n, heads * d] -> [batch, heads, n, d]
    const at::Tensor qkv = Linear(RmsNorm(x, layer.attn_norm), layer.qkv, layer.qkv_bias);
    const auto heads = [&](int64_t offset, int64_t count) {
      return qkv.narrow(-1, offset * d, count * d).view({batch, n, count, d}).transpose(1, 2);
    };
    const at::Tensor q = heads(0, hq), k = heads(hq, hkv), v = heads(hq + hkv, hkv);
    KVLAB_ASSIGN_OR_RETURN(const at::Tensor attention,
                           AttendPerRow(i, q, k, v, first_position, caches));
    // The residual stream is updated in place (x is this function's own tensor from
    // the embedding on).
    x.add_(Linear(attention, layer.output));
    const at::Tensor gate_up = Linear(RmsNorm(x, layer.ffn_norm), layer.gate_up);
    const at::Tensor gate = gate_up.narrow(-1, 0, config_.ffn);
    const at::Tensor up = gate_up.narrow(-1, config_.ffn, config_.ffn);
    x.add_(Linear(at::silu(gate).mul_(up), layer.down));
  }
  return RmsNorm(x, output_norm_);
}

at::Tensor LlamaModel::Logits(const at::Tensor& hidden) const {
  c10::InferenceMode inference;
  return Linear(hidden, output_);
}

absl::StatusOr<std::unique_ptr<KvCache>> LlamaModel::NewDenseCache() const {
  return NewDenseCacheFor(config_.attention_shape(), rope_, options_.device);
}

}  // namespace kvlab::model
