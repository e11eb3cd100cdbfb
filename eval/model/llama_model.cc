#include "eval/model/llama_model.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include "absl/strings/str_format.h"
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
  const int64_t h = config.hidden, d = config.head_dim;
  const ModelWeights weights(source, options);
  const auto load = [&](const std::string& name, std::vector<int64_t> shape) {
    return weights.LoadProjection({{name, std::move(shape)}});
  };
  const auto load_norm = [&](const std::string& name) { return weights.Vector(name, h); };
  c10::InferenceMode inference;
  KVLAB_ASSIGN_OR_RETURN(model->token_embedding_, load("token_embd.weight", {config.vocab, h}));
  KVLAB_ASSIGN_OR_RETURN(model->output_norm_, load_norm("output_norm.weight"));
  if (config.tied_embeddings) {
    model->output_ = model->token_embedding_;
  } else {
    KVLAB_ASSIGN_OR_RETURN(model->output_, load("output.weight", {config.vocab, h}));
  }
  for (int i = 0; i < config.num_layers; ++i) {
    const std::string prefix = absl::StrFormat("blk.%d.", i);
    Layer layer;
    KVLAB_ASSIGN_OR_RETURN(layer.attn_norm, load_norm(prefix + "attn_norm.weight"));
    // One projection for Q, K and V (and one for gate and up) halves the matmul count.
    KVLAB_ASSIGN_OR_RETURN(layer.qkv,
                           weights.LoadProjection({{prefix + "attn_q.weight", {config.q_heads * d, h}},
                                                   {prefix + "attn_k.weight", {config.kv_heads * d, h}},
                                                   {prefix + "attn_v.weight", {config.kv_heads * d, h}}}));
    if (config.qkv_bias) {
      KVLAB_ASSIGN_OR_RETURN(at::Tensor q_bias,
                             weights.Vector(prefix + "attn_q.bias", config.q_heads * d));
      KVLAB_ASSIGN_OR_RETURN(at::Tensor k_bias,
                             weights.Vector(prefix + "attn_k.bias", config.kv_heads * d));
      KVLAB_ASSIGN_OR_RETURN(at::Tensor v_bias,
                             weights.Vector(prefix + "attn_v.bias", config.kv_heads * d));
      layer.qkv_bias = at::cat({q_bias, k_bias, v_bias}, 0);
    }
    KVLAB_ASSIGN_OR_RETURN(layer.output,
                           load(prefix + "attn_output.weight", {h, config.q_heads * d}));
    KVLAB_ASSIGN_OR_RETURN(layer.ffn_norm, load_norm(prefix + "ffn_norm.weight"));
    KVLAB_ASSIGN_OR_RETURN(layer.gate_up,
                           weights.LoadProjection({{prefix + "ffn_gate.weight", {config.ffn, h}},
                                                   {prefix + "ffn_up.weight", {config.ffn, h}}}));
    KVLAB_ASSIGN_OR_RETURN(layer.down, load(prefix + "ffn_down.weight", {h, config.ffn}));
    model->layers_.push_back(std::move(layer));
  }
  return model;
}

int64_t LlamaModel::WeightBytes() const {
  const auto bytes = [](const at::Tensor& t) { return static_cast<int64_t>(t.nbytes()); };
  int64_t total = token_embedding_.ByteSize() + bytes(output_norm_);
  if (!output_.SharesWith(token_embedding_)) total += output_.ByteSize();
  for (const Layer& l : layers_) {
    if (l.qkv_bias.defined()) total += bytes(l.qkv_bias);
    total += bytes(l.attn_norm) + l.qkv.ByteSize() + l.output.ByteSize() + bytes(l.ffn_norm) +
             l.gate_up.ByteSize() + l.down.ByteSize();
  }
  return total;
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
