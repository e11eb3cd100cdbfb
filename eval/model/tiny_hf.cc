#include "eval/model/tiny_hf.h"

#include <c10/util/BFloat16.h>
#include <c10/util/Half.h>
#include <sys/stat.h>

#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "eval/gguf/gguf_writer.h"
#include "eval/safetensors/half_bytes.h"
#include "eval/safetensors/safetensors_writer.h"

namespace kvlab::model {

namespace {

struct Tensor {
  std::string name;             // transformers' name
  std::vector<int64_t> shape;   // PyTorch order
  std::vector<float> values;    // Already rounded to the options' dtype.
};

float RoundTo(const std::string& dtype, float v) {
  if (dtype == "BF16") return static_cast<float>(c10::BFloat16(v));
  if (dtype == "F16") return static_cast<float>(c10::Half(v));
  return v;
}

// The model's tensors in transformers' names and order, drawn from one seeded stream.
std::vector<Tensor> MakeTensors(const TinyHfOptions& o) {
  std::mt19937 rng(o.seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const bool gemma = o.architecture == "gemma3";
  std::vector<Tensor> tensors;
  const auto add = [&](const std::string& name, std::vector<int64_t> shape, float scale,
                       float offset) {
    int64_t count = 1;
    for (int64_t d : shape) count *= d;
    std::vector<float> values(count);
    for (float& v : values) v = RoundTo(o.dtype, offset + scale * normal(rng));
    tensors.push_back({name, std::move(shape), std::move(values)});
  };
  // Llama-family norms scale by w (near 1); Gemma's by 1 + w (w near 0).
  const float norm_offset = gemma ? 0.0f : 1.0f;
  const int64_t h = o.hidden, d = o.head_dim, qd = o.q_heads * d, kvd = o.kv_heads * d;
  const float proj = 1.0f / std::sqrt(static_cast<float>(h));
  add("model.embed_tokens.weight", {o.vocab, h}, gemma ? proj : 1.0f, 0.0f);
  for (int i = 0; i < o.layers; ++i) {
    const std::string p = absl::StrCat("model.layers.", i, ".");
    add(p + "input_layernorm.weight", {h}, 0.1f, norm_offset);
    add(p + "self_attn.q_proj.weight", {qd, h}, proj, 0.0f);
    add(p + "self_attn.k_proj.weight", {kvd, h}, proj, 0.0f);
    add(p + "self_attn.v_proj.weight", {kvd, h}, proj, 0.0f);
    if (o.architecture == "qwen2") {
      add(p + "self_attn.q_proj.bias", {qd}, 0.5f, 0.0f);
      add(p + "self_attn.k_proj.bias", {kvd}, 0.5f, 0.0f);
      add(p + "self_attn.v_proj.bias", {kvd}, 0.5f, 0.0f);
    }
    if (gemma) {
      add(p + "self_attn.q_norm.weight", {d}, 0.1f, norm_offset);
      add(p + "self_attn.k_norm.weight", {d}, 0.1f, norm_offset);
    }
    add(p + "self_attn.o_proj.weight", {h, qd}, 1.0f / std::sqrt(static_cast<float>(qd)), 0.0f);
    add(p + "post_attention_layernorm.weight", {h}, 0.1f, norm_offset);
    if (gemma) {
      add(p + "pre_feedforward_layernorm.weight", {h}, 0.1f, norm_offset);
      add(p + "post_feedforward_layernorm.weight", {h}, 0.1f, norm_offset);
    }
    add(p + "mlp.gate_proj.weight", {o.ffn, h}, proj, 0.0f);
    add(p + "mlp.up_proj.weight", {o.ffn, h}, proj, 0.0f);
    add(p + "mlp.down_proj.weight", {h, o.ffn}, 1.0f / std::sqrt(static_cast<float>(o.ffn)),
        0.0f);
  }
  add("model.norm.weight", {h}, 0.1f, norm_offset);
  if (!o.tied_embeddings) add("lm_head.weight", {o.vocab, h}, proj, 0.0f);
  return tensors;
}

std::string StoredBytes(const std::string& dtype, const std::vector<float>& values) {
  if (dtype == "BF16") return safetensors::BF16Bytes(values);
  if (dtype == "F16") return safetensors::F16Bytes(values);
  return safetensors::F32Bytes(values);
}

nlohmann::json ConfigJson(const TinyHfOptions& o) {
  nlohmann::json c = {
      {"hidden_size", o.hidden},
      {"intermediate_size", o.ffn},
      {"num_hidden_layers", o.layers},
      {"num_attention_heads", o.q_heads},
      {"num_key_value_heads", o.kv_heads},
      {"head_dim", o.head_dim},
      {"vocab_size", o.vocab},
      {"rope_theta", o.rope_base},
      {"tie_word_embeddings", o.tied_embeddings},
      {"max_position_embeddings", 4096},
      {"torch_dtype", o.dtype == "BF16" ? "bfloat16" : o.dtype == "F16" ? "float16" : "float32"},
  };
  if (o.rope_scaling == "llama3") {
    c["rope_scaling"] = {{"rope_type", "llama3"},
                         {"factor", o.rope_factor},
                         {"low_freq_factor", o.low_freq_factor},
                         {"high_freq_factor", o.high_freq_factor},
                         {"original_max_position_embeddings", o.original_context}};
  } else if (!o.rope_scaling.empty()) {
    c["rope_scaling"] = {{"rope_type", o.rope_scaling}, {"factor", o.rope_factor}};
  }
  if (o.architecture == "gemma3") {
    c["model_type"] = "gemma3_text";
    c["architectures"] = {"Gemma3ForCausalLM"};
    c["rms_norm_eps"] = 1e-6;
    c["hidden_activation"] = "gelu_pytorch_tanh";
    c["rope_local_base_freq"] = o.local_rope_base;
    c["sliding_window"] = o.sliding_window;
    std::vector<std::string> types;
    for (int i = 0; i < o.layers; ++i) {
      types.push_back((i + 1) % o.pattern != 0 ? "sliding_attention" : "full_attention");
    }
    c["layer_types"] = types;
    c["query_pre_attn_scalar"] =
        o.query_pre_attn_scalar > 0 ? o.query_pre_attn_scalar : static_cast<double>(o.head_dim);
    c["final_logit_softcapping"] = nullptr;
    c["attn_logit_softcapping"] = nullptr;
  } else {
    c["model_type"] = o.architecture;
    c["architectures"] = {o.architecture == "qwen2" ? "Qwen2ForCausalLM" : "LlamaForCausalLM"};
    c["rms_norm_eps"] = 1e-5;
    c["hidden_act"] = "silu";
  }
  return c;
}

absl::Status WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  if (!out) return absl::InternalError(absl::StrFormat("%s: cannot write", path));
  return absl::OkStatus();
}

// llama.cpp's converter (LlamaModel.permute): within each head, row s * d/2 + j of the
// rotate-half layout becomes row 2j + s of the interleaved one. `row_size` elements
// per row (1 for a bias).
std::vector<float> Permute(const std::vector<float>& in, int64_t heads, int64_t row_size) {
  const int64_t rows = static_cast<int64_t>(in.size()) / row_size, d = rows / heads;
  std::vector<float> out(in.size());
  for (int64_t head = 0; head < heads; ++head) {
    for (int64_t j = 0; j < d / 2; ++j) {
      for (int64_t s = 0; s < 2; ++s) {
        const int64_t from = head * d + s * (d / 2) + j, to = head * d + 2 * j + s;
        std::copy_n(in.begin() + from * row_size, row_size, out.begin() + to * row_size);
      }
    }
  }
  return out;
}

// transformers' name -> GGUF's, as convert_hf_to_gguf.py's tensor map has them.
std::string GgufName(const std::string& hf, bool gemma) {
  static const std::map<std::string, std::string> kLayer = {
      {"input_layernorm.weight", "attn_norm.weight"},
      {"self_attn.q_proj.weight", "attn_q.weight"},
      {"self_attn.k_proj.weight", "attn_k.weight"},
      {"self_attn.v_proj.weight", "attn_v.weight"},
      {"self_attn.q_proj.bias", "attn_q.bias"},
      {"self_attn.k_proj.bias", "attn_k.bias"},
      {"self_attn.v_proj.bias", "attn_v.bias"},
      {"self_attn.q_norm.weight", "attn_q_norm.weight"},
      {"self_attn.k_norm.weight", "attn_k_norm.weight"},
      {"self_attn.o_proj.weight", "attn_output.weight"},
      {"pre_feedforward_layernorm.weight", "ffn_norm.weight"},
      {"post_feedforward_layernorm.weight", "post_ffw_norm.weight"},
      {"mlp.gate_proj.weight", "ffn_gate.weight"},
      {"mlp.up_proj.weight", "ffn_up.weight"},
      {"mlp.down_proj.weight", "ffn_down.weight"},
  };
  if (hf == "model.embed_tokens.weight") return "token_embd.weight";
  if (hf == "model.norm.weight") return "output_norm.weight";
  if (hf == "lm_head.weight") return "output.weight";
  const std::vector<std::string> parts = absl::StrSplit(hf, absl::MaxSplits('.', 3));
  const std::string& rest = parts[3];
  std::string mapped;
  if (rest == "post_attention_layernorm.weight") {
    mapped = gemma ? "post_attention_norm.weight" : "ffn_norm.weight";
  } else {
    mapped = kLayer.at(rest);
  }
  return absl::StrCat("blk.", parts[2], ".", mapped);
}

}  // namespace

absl::Status WriteTinyHfModel(const std::string& dir, const TinyHfOptions& o) {
  ::mkdir(dir.c_str(), 0755);
  const absl::Status config = WriteText(dir + "/config.json", ConfigJson(o).dump(2));
  if (!config.ok()) return config;
  const std::vector<Tensor> tensors = MakeTensors(o);
  if (!o.sharded) {
    safetensors::SafetensorsWriter writer;
    writer.AddMetadata("format", "pt");
    for (const Tensor& t : tensors) {
      writer.AddTensor(t.name, o.dtype, t.shape, StoredBytes(o.dtype, t.values));
    }
    return writer.WriteFile(dir + "/model.safetensors");
  }
  // Two shards split mid-model, and the index mapping each tensor to its shard.
  safetensors::SafetensorsWriter shards[2];
  nlohmann::json index = {{"metadata", {{"total_size", 0}}}, {"weight_map", nlohmann::json::object()}};
  const std::string names[2] = {"model-00001-of-00002.safetensors",
                                "model-00002-of-00002.safetensors"};
  for (size_t i = 0; i < tensors.size(); ++i) {
    const int shard = i < tensors.size() / 2 ? 0 : 1;
    shards[shard].AddTensor(tensors[i].name, o.dtype, tensors[i].shape,
                            StoredBytes(o.dtype, tensors[i].values));
    index["weight_map"][tensors[i].name] = names[shard];
  }
  for (int s = 0; s < 2; ++s) {
    const absl::Status status = shards[s].WriteFile(dir + "/" + names[s]);
    if (!status.ok()) return status;
  }
  return WriteText(dir + "/model.safetensors.index.json", index.dump(2));
}

absl::Status WriteTinyHfModelAsGguf(const std::string& path, const TinyHfOptions& o) {
  const bool gemma = o.architecture == "gemma3";
  const std::string a = o.architecture;
  gguf::GgufWriter w;
  w.AddString("general.architecture", a);
  w.AddString("general.name", "tiny-random-" + a);
  w.AddUint32(a + ".block_count", o.layers);
  w.AddUint32(a + ".embedding_length", o.hidden);
  w.AddUint32(a + ".feed_forward_length", o.ffn);
  w.AddUint32(a + ".attention.head_count", o.q_heads);
  w.AddUint32(a + ".attention.head_count_kv", o.kv_heads);
  w.AddUint32(a + ".attention.key_length", o.head_dim);
  w.AddUint32(a + ".attention.value_length", o.head_dim);
  w.AddFloat32(a + ".rope.freq_base", o.rope_base);
  w.AddFloat32(a + ".attention.layer_norm_rms_epsilon", gemma ? 1e-6f : 1e-5f);
  w.AddUint32(a + ".context_length", 4096);
  if (gemma) {
    w.AddFloat32(a + ".rope.freq_base_swa", o.local_rope_base);
    w.AddUint32(a + ".attention.sliding_window", o.sliding_window);
    w.AddUint32(a + ".attention.sliding_window_pattern", o.pattern);
  }
  if (o.rope_scaling == "llama3") {
    // llama.cpp's converter: each pair's divisor from its unscaled wavelength (written
    // out here rather than taken from core/rope_scaling, so the test that compares the
    // two formats compares two derivations).
    std::vector<float> divisors;
    for (int64_t i = 0; i < o.head_dim / 2; ++i) {
      const double wavelength = 2 * M_PI * std::pow(o.rope_base, 2.0 * i / o.head_dim);
      const double short_wavelengths = o.original_context / o.high_freq_factor;
      const double long_wavelengths = o.original_context / o.low_freq_factor;
      if (wavelength < short_wavelengths) {
        divisors.push_back(1.0f);
      } else if (wavelength > long_wavelengths) {
        divisors.push_back(static_cast<float>(o.rope_factor));
      } else {
        const double smooth = (o.original_context / wavelength - o.low_freq_factor) /
                              (o.high_freq_factor - o.low_freq_factor);
        divisors.push_back(static_cast<float>(1.0 / ((1 - smooth) / o.rope_factor + smooth)));
      }
    }
    w.AddTensor("rope_freqs.weight", {o.head_dim / 2}, gguf::TensorType::kF32,
                gguf::FloatBytes(divisors));
  } else if (!o.rope_scaling.empty()) {
    w.AddString(a + ".rope.scaling.type", o.rope_scaling);
    w.AddFloat32(a + ".rope.scaling.factor", o.rope_factor);
  }
  for (const Tensor& t : MakeTensors(o)) {
    std::vector<float> values = t.values;
    const std::string name = GgufName(t.name, gemma);
    if (a == "llama" && (absl::StrContains(name, "attn_q.") || absl::StrContains(name, "attn_k."))) {
      const int64_t heads = absl::StrContains(name, "attn_q.") ? o.q_heads : o.kv_heads;
      values = Permute(values, heads, t.shape.size() == 2 ? t.shape[1] : 1);
    }
    if (gemma && absl::EndsWith(name, "norm.weight")) {
      for (float& v : values) v += 1.0f;
    }
    w.AddTensor(name, std::vector<int64_t>(t.shape.rbegin(), t.shape.rend()),
                gguf::TensorType::kF32, gguf::FloatBytes(values));
  }
  return w.WriteFile(path);
}

}  // namespace kvlab::model
