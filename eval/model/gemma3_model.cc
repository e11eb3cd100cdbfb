#include "eval/model/gemma3_model.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <cmath>

#include "base/device.h"
#include "base/status_macros.h"
#include "base/torch_status.h"
#include "eval/model/gguf_weight_source.h"

namespace kvlab::model {

absl::StatusOr<std::unique_ptr<Gemma3Model>> Gemma3Model::Load(const gguf::GgufFile& file,
                                                              const LoadOptions& options) {
  KVLAB_ASSIGN_OR_RETURN(const Gemma3Config config, Gemma3Config::FromGguf(file));
  return Load(config, GgufWeightSource(file), options);
}

absl::StatusOr<std::unique_ptr<Gemma3Model>> Gemma3Model::Load(const Gemma3Config& config,
                                                              const WeightSource& source,
                                                              const LoadOptions& options) {
  KVLAB_RETURN_IF_ERROR(CheckLoadOptions(options));
  // Local and global layers rotate with different bases.
  KVLAB_ASSIGN_OR_RETURN(
      std::vector<double> global_frequencies,
      RopeInverseFrequencies(config.rope_base, config.rope_dim, config.rope_scaling));
  KVLAB_ASSIGN_OR_RETURN(std::vector<double> local_frequencies,
                         RopeInverseFrequencies(config.local_rope_base, config.rope_dim,
                                                config.local_rope_scaling));
  KVLAB_ASSIGN_OR_RETURN(RotaryEmbedding global_rope,
                         RotaryEmbedding::WithFrequencies(
                             config.head_dim, std::move(global_frequencies), RopeStyle::kHalf));
  KVLAB_ASSIGN_OR_RETURN(RotaryEmbedding local_rope,
                         RotaryEmbedding::WithFrequencies(
                             config.head_dim, std::move(local_frequencies), RopeStyle::kHalf));
  std::vector<RotaryEmbedding> per_layer;
  for (int i = 0; i < config.num_layers; ++i) {
    per_layer.push_back(config.local_layers[i] ? local_rope : global_rope);
  }
  KVLAB_ASSIGN_OR_RETURN(LayerRopes ropes, LayerRopes::PerLayer(std::move(per_layer)));
  std::unique_ptr<Gemma3Model> model(new Gemma3Model(config, std::move(ropes), options));

  KVLAB_ASSIGN_OR_RETURN(DecoderWeights weights,
                         LoadDecoderWeights(config.weights_layout(), source, options));
  model->weight_bytes_ = weights.ByteSize();
  model->token_embedding_ = std::move(weights.token_embedding);
  model->output_norm_ = std::move(weights.output_norm);
  model->output_ = std::move(weights.output);
  model->layers_ = std::move(weights.layers);
  return model;
}

absl::StatusOr<at::Tensor> Gemma3Model::Forward(const at::Tensor& tokens, int64_t first_position,
                                                absl::Span<KvCache* const> caches) const {
  KVLAB_RETURN_IF_ERROR(CheckForwardArguments(tokens, caches, config_.num_layers, config_.vocab,
                                              options_.device));
  c10::InferenceMode inference;
  return CatchTorchErrors("model forward", [&] {
    return ForwardUnchecked(tokens.to(options_.device), first_position, caches);
  });
}

absl::StatusOr<at::Tensor> Gemma3Model::ForwardUnchecked(const at::Tensor& tokens,
                                                         int64_t first_position,
                                                         absl::Span<KvCache* const> caches) const {
  const int64_t batch = tokens.size(0), n = tokens.size(1);
  const int64_t d = config_.head_dim, hq = config_.q_heads, hkv = config_.kv_heads;
  // The cache scales q·k by 1/sqrt(head_dim); a model that wants another scale gets it
  // by scaling its queries first (RoPE is linear, so before or after is the same).
  const double query_factor = config_.query_scale * std::sqrt(static_cast<double>(d));
  const bool rescale_queries = std::abs(query_factor - 1.0) > 1e-12;
  at::Tensor x = token_embedding_.Rows(tokens) *
                 std::sqrt(static_cast<double>(config_.hidden));  // [batch, n, hidden]
  for (int i = 0; i < config_.num_layers; ++i) {
    const Layer& layer = layers_[i];
    const at::Tensor qkv = Linear(RmsNorm(x, layer.attn_norm), layer.qkv);
    // [batch, n, heads * d] -> [batch, heads, n, d], each head RMS-normalised when asked.
    const auto heads = [&](int64_t offset, int64_t count, const at::Tensor* norm) {
      at::Tensor t = qkv.narrow(-1, offset * d, count * d).view({batch, n, count, d});
      if (norm != nullptr) t = RmsNorm(t, *norm);
      return t.transpose(1, 2);
    };
    at::Tensor q = heads(0, hq, &layer.q_norm);
    if (rescale_queries) q = q * query_factor;
    const at::Tensor k = heads(hq, hkv, &layer.k_norm), v = heads(hq + hkv, hkv, nullptr);
    KVLAB_ASSIGN_OR_RETURN(const at::Tensor attention,
                           AttendPerRow(i, q, k, v, first_position, caches));
    x = x + RmsNorm(Linear(attention, layer.output), layer.post_attn_norm);
    const at::Tensor gate_up = Linear(RmsNorm(x, layer.ffn_norm), layer.gate_up);
    const at::Tensor gate = gate_up.narrow(-1, 0, config_.ffn);
    const at::Tensor up = gate_up.narrow(-1, config_.ffn, config_.ffn);
    x = x + RmsNorm(Linear(at::gelu(gate, "tanh") * up, layer.down), layer.post_ffn_norm);
  }
  return RmsNorm(x, output_norm_);
}

at::Tensor Gemma3Model::Logits(const at::Tensor& hidden) const {
  c10::InferenceMode inference;
  at::Tensor logits = Linear(hidden, output_);
  if (config_.final_logit_softcap > 0.0) {
    logits = at::tanh(logits / config_.final_logit_softcap) * config_.final_logit_softcap;
  }
  return logits;
}

}  // namespace kvlab::model
