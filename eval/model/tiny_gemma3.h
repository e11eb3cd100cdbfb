// Writes a tiny Gemma 3 GGUF with random fp32 weights, so that tests can run the
// architecture in milliseconds: sliding-window layers, one KV head, per-head Q/K norms.
#ifndef KVLAB_EVAL_MODEL_TINY_GEMMA3_H_
#define KVLAB_EVAL_MODEL_TINY_GEMMA3_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace kvlab::model {

struct TinyGemma3Options {
  int layers = 4;
  int64_t hidden = 32;
  int64_t q_heads = 2;
  int64_t kv_heads = 1;
  int64_t head_dim = 16;  // Not hidden / q_heads, as in Gemma 3 (640 / 4 heads of 256).
  int64_t ffn = 64;
  int64_t vocab = 300;
  int64_t sliding_window = 8;
  int pattern = 3;  // Every third layer global.
  // When not empty, written instead of `pattern`: one bool per layer (true: local).
  std::vector<bool> pattern_per_layer;
  double rope_base = 1e6;
  double local_rope_base = 1e4;
  double final_logit_softcap = 0.0;  // Written only when > 0.
  std::string architecture = "gemma3";
  std::string omit_key;  // A metadata key left out, to test its error.
  uint32_t seed = 1;
};

// Writes the model to `path`; tokens are plain ids (no tokenizer metadata).
absl::Status WriteTinyGemma3(const std::string& path, const TinyGemma3Options& options = {});

}  // namespace kvlab::model

#endif  // KVLAB_EVAL_MODEL_TINY_GEMMA3_H_
