#include "eval/model/tiny_llama.h"

#include <vector>

#include "absl/strings/str_format.h"
#include "eval/gguf/gguf_writer.h"
#include "eval/model/ggml_quantize.h"
#include "eval/model/tiny_weights.h"
#include "eval/tokenizer/unicode_text.h"

namespace kvlab::model {

namespace {

// GPT-2's byte alphabet, as the tokenizer expects to find it in the vocabulary.
std::vector<std::string> ByteSymbols() {
  std::vector<std::string> symbols(256);
  int next = 0;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
    tokenizer::AppendUtf8(printable ? b : 256 + next++, symbols[b]);
  }
  return symbols;
}

}  // namespace

absl::Status WriteTinyLlama(const std::string& path, const TinyLlamaOptions& o) {
  using gguf::TensorType;
  TinyWeights weights(o.seed);
  const auto random = [&](int64_t count, float scale) { return weights.Random(count, scale); };
  const auto near_one = [&](int64_t count) { return weights.NearOne(count); };
  gguf::GgufWriter w;
  absl::Status quantized = absl::OkStatus();
  // A matrix of GGUF dims {cols, rows}, in matrix_type.
  const auto add_matrix = [&](const std::string& name, int64_t cols, int64_t rows,
                              std::string float_bytes) {
    if (o.matrix_type == TensorType::kF32) {
      w.AddTensor(name, {cols, rows}, TensorType::kF32, std::move(float_bytes));
      return;
    }
    absl::StatusOr<std::string> bytes = QuantizeRows(o.matrix_type, float_bytes, rows, cols);
    if (!bytes.ok()) {
      quantized.Update(absl::InvalidArgumentError(
          absl::StrFormat("%s: %s", name, bytes.status().message())));
      return;
    }
    w.AddTensor(name, {cols, rows}, o.matrix_type, *std::move(bytes));
  };

  std::vector<std::string> tokens = ByteSymbols();
  const std::vector<std::string> merges = {"t h", "th e", "\xc4\xa0 th", "a n", "i n"};
  for (const char* merged : {"th", "the", "\xc4\xa0th", "an", "in"}) tokens.push_back(merged);
  tokens.push_back("<s>");
  std::vector<int32_t> types(tokens.size(), 1);
  types.back() = 3;
  const int64_t vocab = static_cast<int64_t>(tokens.size());
  const int64_t head_dim = o.hidden / o.q_heads;

  w.AddString("general.architecture", "llama");
  w.AddString("general.name", "tiny-random-llama");
  w.AddUint32("llama.block_count", o.layers);
  w.AddUint32("llama.embedding_length", o.hidden);
  w.AddUint32("llama.feed_forward_length", o.ffn);
  w.AddUint32("llama.attention.head_count", o.q_heads);
  w.AddUint32("llama.attention.head_count_kv", o.kv_heads);
  w.AddFloat32("llama.rope.freq_base", o.rope_base);
  w.AddFloat32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
  w.AddUint32("llama.context_length", 4096);
  w.AddString("tokenizer.ggml.model", "gpt2");
  w.AddString("tokenizer.ggml.pre", "smollm");
  w.AddStringArray("tokenizer.ggml.tokens", tokens);
  w.AddStringArray("tokenizer.ggml.merges", merges);
  w.AddInt32Array("tokenizer.ggml.token_type", types);
  w.AddUint32("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(vocab - 1));
  w.AddBool("tokenizer.ggml.add_bos_token", false);

  const float proj = 1.0f / std::sqrt(static_cast<float>(o.hidden));
  add_matrix("token_embd.weight", o.hidden, vocab, random(vocab * o.hidden, 1.0f));
  w.AddTensor("output_norm.weight", {o.hidden}, TensorType::kF32, near_one(o.hidden));
  if (!o.tied_embeddings) {
    add_matrix("output.weight", o.hidden, vocab, random(vocab * o.hidden, proj));
  }
  for (int i = 0; i < o.layers; ++i) {
    const std::string p = absl::StrFormat("blk.%d.", i);
    w.AddTensor(p + "attn_norm.weight", {o.hidden}, TensorType::kF32, near_one(o.hidden));
    add_matrix(p + "attn_q.weight", o.hidden, o.q_heads * head_dim,
               random(o.hidden * o.q_heads * head_dim, proj));
    add_matrix(p + "attn_k.weight", o.hidden, o.kv_heads * head_dim,
               random(o.hidden * o.kv_heads * head_dim, proj));
    add_matrix(p + "attn_v.weight", o.hidden, o.kv_heads * head_dim,
               random(o.hidden * o.kv_heads * head_dim, proj));
    add_matrix(p + "attn_output.weight", o.q_heads * head_dim, o.hidden,
               random(o.hidden * o.q_heads * head_dim, proj));
    w.AddTensor(p + "ffn_norm.weight", {o.hidden}, TensorType::kF32, near_one(o.hidden));
    add_matrix(p + "ffn_gate.weight", o.hidden, o.ffn, random(o.hidden * o.ffn, proj));
    add_matrix(p + "ffn_up.weight", o.hidden, o.ffn, random(o.hidden * o.ffn, proj));
    add_matrix(p + "ffn_down.weight", o.ffn, o.hidden,
               random(o.hidden * o.ffn, 1.0f / std::sqrt(static_cast<float>(o.ffn))));
  }
  if (!quantized.ok()) return quantized;
  return w.WriteFile(path);
}

}  // namespace kvlab::model
