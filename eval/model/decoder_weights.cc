#include "eval/model/decoder_weights.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"

namespace kvlab::model {

namespace {

int64_t Bytes(const at::Tensor& t) { return t.defined() ? static_cast<int64_t>(t.nbytes()) : 0; }

}  // namespace

int64_t DecoderWeights::ByteSize() const {
  int64_t total = token_embedding.ByteSize() + Bytes(output_norm);
  if (!output.SharesWith(token_embedding)) total += output.ByteSize();
  for (const DecoderLayerWeights& l : layers) {
    for (const at::Tensor* t : {&l.attn_norm, &l.qkv_bias, &l.q_norm, &l.k_norm,
                                &l.post_attn_norm, &l.ffn_norm, &l.post_ffn_norm}) {
      total += Bytes(*t);
    }
    for (const Projection* p : {&l.qkv, &l.output, &l.gate_up, &l.down}) total += p->ByteSize();
  }
  return total;
}

absl::StatusOr<DecoderWeights> LoadDecoderWeights(const DecoderWeightsLayout& layout,
                                                  const WeightSource& source,
                                                  const LoadOptions& options) {
  const DecoderSizes& s = layout.sizes;
  const int64_t h = s.hidden, d = s.head_dim;
  const ModelWeights weights(source, options);
  const auto load = [&](const std::string& name, std::vector<int64_t> shape) {
    return weights.LoadProjection({{name, std::move(shape)}});
  };
  c10::InferenceMode inference;
  DecoderWeights w;
  KVLAB_ASSIGN_OR_RETURN(w.token_embedding, load("token_embd.weight", {s.vocab, h}));
  KVLAB_ASSIGN_OR_RETURN(w.output_norm, weights.Vector("output_norm.weight", h));
  if (layout.tied_embeddings) {
    w.output = w.token_embedding;
  } else {
    KVLAB_ASSIGN_OR_RETURN(w.output, load("output.weight", {s.vocab, h}));
  }
  for (int i = 0; i < s.num_layers; ++i) {
    const std::string prefix = absl::StrFormat("blk.%d.", i);
    DecoderLayerWeights layer;
    KVLAB_ASSIGN_OR_RETURN(layer.attn_norm, weights.Vector(prefix + "attn_norm.weight", h));
    KVLAB_ASSIGN_OR_RETURN(layer.qkv,
                           weights.LoadProjection({{prefix + "attn_q.weight", {s.q_heads * d, h}},
                                                   {prefix + "attn_k.weight", {s.kv_heads * d, h}},
                                                   {prefix + "attn_v.weight", {s.kv_heads * d, h}}}));
    if (layout.qkv_bias) {
      KVLAB_ASSIGN_OR_RETURN(at::Tensor q_bias,
                             weights.Vector(prefix + "attn_q.bias", s.q_heads * d));
      KVLAB_ASSIGN_OR_RETURN(at::Tensor k_bias,
                             weights.Vector(prefix + "attn_k.bias", s.kv_heads * d));
      KVLAB_ASSIGN_OR_RETURN(at::Tensor v_bias,
                             weights.Vector(prefix + "attn_v.bias", s.kv_heads * d));
      layer.qkv_bias = at::cat({q_bias, k_bias, v_bias}, 0);
    }
    if (layout.qk_norm) {
      KVLAB_ASSIGN_OR_RETURN(layer.q_norm, weights.Vector(prefix + "attn_q_norm.weight", d));
      KVLAB_ASSIGN_OR_RETURN(layer.k_norm, weights.Vector(prefix + "attn_k_norm.weight", d));
    }
    KVLAB_ASSIGN_OR_RETURN(layer.output,
                           load(prefix + "attn_output.weight", {h, s.q_heads * d}));
    if (layout.post_norms) {
      KVLAB_ASSIGN_OR_RETURN(layer.post_attn_norm,
                             weights.Vector(prefix + "post_attention_norm.weight", h));
    }
    KVLAB_ASSIGN_OR_RETURN(layer.ffn_norm, weights.Vector(prefix + "ffn_norm.weight", h));
    KVLAB_ASSIGN_OR_RETURN(layer.gate_up,
                           weights.LoadProjection({{prefix + "ffn_gate.weight", {s.ffn, h}},
                                                   {prefix + "ffn_up.weight", {s.ffn, h}}}));
    KVLAB_ASSIGN_OR_RETURN(layer.down, load(prefix + "ffn_down.weight", {h, s.ffn}));
    if (layout.post_norms) {
      KVLAB_ASSIGN_OR_RETURN(layer.post_ffn_norm,
                             weights.Vector(prefix + "post_ffw_norm.weight", h));
    }
    w.layers.push_back(std::move(layer));
  }
  return w;
}

std::set<std::string> DecoderTensorNames(const DecoderWeightsLayout& layout) {
  std::set<std::string> names = {"token_embd.weight", "output_norm.weight", "output.weight"};
  std::vector<std::string> per_layer = {"attn_norm", "attn_q",   "attn_k", "attn_v",  "attn_output",
                                        "ffn_norm",  "ffn_gate", "ffn_up", "ffn_down"};
  if (layout.qk_norm) {
    per_layer.push_back("attn_q_norm");
    per_layer.push_back("attn_k_norm");
  }
  if (layout.post_norms) {
    per_layer.push_back("post_attention_norm");
    per_layer.push_back("post_ffw_norm");
  }
  for (int i = 0; i < layout.sizes.num_layers; ++i) {
    for (const std::string& tensor : per_layer) {
      names.insert(absl::StrCat("blk.", i, ".", tensor, ".weight"));
    }
    if (layout.qkv_bias) {
      for (const char* bias : {"attn_q", "attn_k", "attn_v"}) {
        names.insert(absl::StrCat("blk.", i, ".", bias, ".bias"));
      }
    }
  }
  return names;
}

}  // namespace kvlab::model
