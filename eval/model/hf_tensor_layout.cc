#include "eval/model/hf_tensor_layout.h"

#include <ATen/ATen.h>

#include <map>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace kvlab::model {

namespace {

// GGUF's per-layer names (after "blk.<i>.") -> transformers' (after "model.layers.<i>.").
using NameMap = std::map<std::string, std::string>;

NameMap LlamaLayerNames() {
  return {
      {"attn_norm.weight", "input_layernorm.weight"},
      {"attn_q.weight", "self_attn.q_proj.weight"},
      {"attn_k.weight", "self_attn.k_proj.weight"},
      {"attn_v.weight", "self_attn.v_proj.weight"},
      {"attn_q.bias", "self_attn.q_proj.bias"},
      {"attn_k.bias", "self_attn.k_proj.bias"},
      {"attn_v.bias", "self_attn.v_proj.bias"},
      {"attn_output.weight", "self_attn.o_proj.weight"},
      {"ffn_norm.weight", "post_attention_layernorm.weight"},
      {"ffn_gate.weight", "mlp.gate_proj.weight"},
      {"ffn_up.weight", "mlp.up_proj.weight"},
      {"ffn_down.weight", "mlp.down_proj.weight"},
  };
}

NameMap Gemma3LayerNames() {
  NameMap names = LlamaLayerNames();
  // Gemma 3 normalises before and after both attention and MLP: GGUF's ffn_norm is
  // the pre-feedforward norm, and transformers' post_attention_layernorm is GGUF's
  // post_attention_norm, not ffn_norm as in Llama.
  names["ffn_norm.weight"] = "pre_feedforward_layernorm.weight";
  names["post_attention_norm.weight"] = "post_attention_layernorm.weight";
  names["post_ffw_norm.weight"] = "post_feedforward_layernorm.weight";
  names["attn_q_norm.weight"] = "self_attn.q_norm.weight";
  names["attn_k_norm.weight"] = "self_attn.k_norm.weight";
  return names;
}

// "blk.<i>.<rest>": i and rest; false for any other name.
bool SplitLayerName(const std::string& name, int& layer, std::string& rest) {
  if (!absl::StartsWith(name, "blk.")) return false;
  const size_t dot = name.find('.', 4);
  if (dot == std::string::npos) return false;
  rest = name.substr(dot + 1);
  return absl::SimpleAtoi(name.substr(4, dot - 4), &layer);
}

std::function<std::string(const std::string&)> Translator(NameMap layer_names) {
  return [layer_names = std::move(layer_names)](const std::string& name) -> std::string {
    if (name == "token_embd.weight") return "model.embed_tokens.weight";
    if (name == "output_norm.weight") return "model.norm.weight";
    if (name == "output.weight") return "lm_head.weight";
    int layer = 0;
    std::string rest;
    if (!SplitLayerName(name, layer, rest)) return "";
    const auto it = layer_names.find(rest);
    if (it == layer_names.end()) return "";
    return absl::StrCat("model.layers.", layer, ".", it->second);
  };
}

}  // namespace

at::Tensor PermuteToInterleavedRope(const at::Tensor& weight, int64_t heads) {
  std::vector<int64_t> split = {heads, 2, weight.size(0) / heads / 2};
  for (int64_t i = 1; i < weight.dim(); ++i) split.push_back(weight.size(i));
  return weight.reshape(split).transpose(1, 2).reshape(weight.sizes()).contiguous();
}

at::Tensor PermuteToHalfRope(const at::Tensor& weight, int64_t heads) {
  std::vector<int64_t> split = {heads, weight.size(0) / heads / 2, 2};
  for (int64_t i = 1; i < weight.dim(); ++i) split.push_back(weight.size(i));
  return weight.reshape(split).transpose(1, 2).reshape(weight.sizes()).contiguous();
}

HfTensorLayout LlamaHfLayout(const LlamaConfig& config) {
  HfTensorLayout layout;
  layout.hf_name = Translator(LlamaLayerNames());
  if (config.rope_style == RopeStyle::kInterleaved) {
    const int64_t q_heads = config.q_heads, kv_heads = config.kv_heads;
    layout.convert = [q_heads, kv_heads](const std::string& name, at::Tensor t) {
      int layer = 0;
      std::string rest;
      if (!SplitLayerName(name, layer, rest)) return t;
      if (rest == "attn_q.weight" || rest == "attn_q.bias") {
        return PermuteToInterleavedRope(t, q_heads);
      }
      if (rest == "attn_k.weight" || rest == "attn_k.bias") {
        return PermuteToInterleavedRope(t, kv_heads);
      }
      return t;
    };
  }
  return layout;
}

HfTensorLayout Gemma3HfLayout(const Gemma3Config&) {
  HfTensorLayout layout;
  layout.hf_name = Translator(Gemma3LayerNames());
  layout.convert = [](const std::string& name, at::Tensor t) {
    // Every Gemma 3 RMSNorm scales by (1 + w), in fp32 (transformers' Gemma3RMSNorm).
    return absl::EndsWith(name, "norm.weight") ? t.to(at::kFloat).add_(1.0) : t;
  };
  return layout;
}

}  // namespace kvlab::model
