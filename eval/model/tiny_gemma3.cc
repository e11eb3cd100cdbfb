#include "eval/model/tiny_gemma3.h"

#include <cmath>
#include <vector>

#include "absl/strings/str_format.h"
#include "eval/gguf/gguf_writer.h"
#include "eval/model/tiny_weights.h"

namespace kvlab::model {

absl::Status WriteTinyGemma3(const std::string& path, const TinyGemma3Options& o) {
  using gguf::TensorType;
  TinyWeights weights(o.seed);
  const auto random = [&](int64_t count, float scale) { return weights.Random(count, scale); };
  // Stored norm weights already include Gemma's + 1, as llama.cpp's converter writes them.
  const auto near_one = [&](int64_t count) { return weights.NearOne(count); };

  gguf::GgufWriter w;
  const auto add_uint = [&](const std::string& key, uint32_t value) {
    if (key != o.omit_key) w.AddUint32(key, value);
  };
  const auto add_float = [&](const std::string& key, float value) {
    if (key != o.omit_key) w.AddFloat32(key, value);
  };
  const std::string a = o.architecture;
  w.AddString("general.architecture", a);
  w.AddString("general.name", "tiny-random-gemma3");
  add_uint(a + ".block_count", o.layers);
  add_uint(a + ".embedding_length", o.hidden);
  add_uint(a + ".feed_forward_length", o.ffn);
  add_uint(a + ".attention.head_count", o.q_heads);
  add_uint(a + ".attention.head_count_kv", o.kv_heads);
  add_uint(a + ".attention.key_length", o.head_dim);
  add_uint(a + ".attention.value_length", o.head_dim);
  add_uint(a + ".attention.sliding_window", o.sliding_window);
  if (o.pattern_per_layer.empty()) {
    add_uint(a + ".attention.sliding_window_pattern", o.pattern);
  } else {
    gguf::GgufValue::Array local;
    for (bool is_local : o.pattern_per_layer) local.push_back(gguf::GgufValue::Bool(is_local));
    w.AddMetadata(a + ".attention.sliding_window_pattern",
                  gguf::GgufValue::MakeArray(gguf::ValueType::kBool, std::move(local)));
  }
  add_float(a + ".rope.freq_base", o.rope_base);
  add_float(a + ".rope.freq_base_swa", o.local_rope_base);
  add_float(a + ".attention.layer_norm_rms_epsilon", 1e-6f);
  add_uint(a + ".context_length", 4096);
  if (o.final_logit_softcap > 0) add_float(a + ".final_logit_softcapping", o.final_logit_softcap);

  const int64_t h = o.hidden, d = o.head_dim, qd = o.q_heads * d, kvd = o.kv_heads * d;
  const float proj = 1.0f / std::sqrt(static_cast<float>(h));
  w.AddTensor("token_embd.weight", {h, o.vocab}, TensorType::kF32, random(o.vocab * h, proj));
  w.AddTensor("output_norm.weight", {h}, TensorType::kF32, near_one(h));
  for (int i = 0; i < o.layers; ++i) {
    const std::string p = absl::StrFormat("blk.%d.", i);
    w.AddTensor(p + "attn_norm.weight", {h}, TensorType::kF32, near_one(h));
    w.AddTensor(p + "attn_q.weight", {h, qd}, TensorType::kF32, random(h * qd, proj));
    w.AddTensor(p + "attn_k.weight", {h, kvd}, TensorType::kF32, random(h * kvd, proj));
    w.AddTensor(p + "attn_v.weight", {h, kvd}, TensorType::kF32, random(h * kvd, proj));
    w.AddTensor(p + "attn_q_norm.weight", {d}, TensorType::kF32, near_one(d));
    w.AddTensor(p + "attn_k_norm.weight", {d}, TensorType::kF32, near_one(d));
    w.AddTensor(p + "attn_output.weight", {qd, h}, TensorType::kF32,
                random(h * qd, 1.0f / std::sqrt(static_cast<float>(qd))));
    w.AddTensor(p + "post_attention_norm.weight", {h}, TensorType::kF32, near_one(h));
    w.AddTensor(p + "ffn_norm.weight", {h}, TensorType::kF32, near_one(h));
    w.AddTensor(p + "ffn_gate.weight", {h, o.ffn}, TensorType::kF32, random(h * o.ffn, proj));
    w.AddTensor(p + "ffn_up.weight", {h, o.ffn}, TensorType::kF32, random(h * o.ffn, proj));
    w.AddTensor(p + "ffn_down.weight", {o.ffn, h}, TensorType::kF32,
                random(h * o.ffn, 1.0f / std::sqrt(static_cast<float>(o.ffn))));
    w.AddTensor(p + "post_ffw_norm.weight", {h}, TensorType::kF32, near_one(h));
  }
  return w.WriteFile(path);
}

}  // namespace kvlab::model
