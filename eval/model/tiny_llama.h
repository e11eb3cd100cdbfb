// Writes a tiny Llama GGUF with random fp32 weights and a byte-level tokenizer, so that
// tests can run the whole pipeline in milliseconds.
#ifndef KVLAB_EVAL_MODEL_TINY_LLAMA_H_
#define KVLAB_EVAL_MODEL_TINY_LLAMA_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "eval/gguf/gguf_types.h"

namespace kvlab::model {

struct TinyLlamaOptions {
  int layers = 2;
  int64_t hidden = 32;
  int64_t q_heads = 4;
  int64_t kv_heads = 2;
  int64_t ffn = 64;
  double rope_base = 10000.0;
  bool tied_embeddings = true;
  uint32_t seed = 1;
  // The type the embedding and every projection are written in (the same random values,
  // quantized by ggml's reference quantizers); norms stay F32. Block formats need rows
  // of whole blocks: hidden, q_heads * head_dim and ffn multiples of 256 for the K types.
  gguf::TensorType matrix_type = gguf::TensorType::kF32;
};

// Writes the model to `path`. The vocabulary is the 256 GPT-2 byte symbols plus
// a few merges; BOS is token 256 ("<s>").
absl::Status WriteTinyLlama(const std::string& path, const TinyLlamaOptions& options = {});

}  // namespace kvlab::model

#endif  // KVLAB_EVAL_MODEL_TINY_LLAMA_H_
