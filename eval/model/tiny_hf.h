// Writes tiny random models as Hugging Face directories (config.json + safetensors, HF
// tensor names, HF weight order) and the same weights as llama.cpp's converter would
// write them to GGUF, so tests can check that both loaders give one model.
//
// The GGUF conversion here is written out independently of the loader's
// (hf_tensor_layout.h): llama's Q and K rows permuted head by head from rotate-half to
// interleaved order, Gemma's norm weights stored as 1 + w, names mapped one by one.
#ifndef KVLAB_EVAL_MODEL_TINY_HF_H_
#define KVLAB_EVAL_MODEL_TINY_HF_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"

namespace kvlab::model {

struct TinyHfOptions {
  std::string architecture = "llama";  // "llama", "qwen2" or "gemma3"
  int layers = 3;
  int64_t hidden = 32;
  int64_t q_heads = 4;
  int64_t kv_heads = 2;
  int64_t head_dim = 8;
  int64_t ffn = 48;
  int64_t vocab = 96;
  bool tied_embeddings = true;
  double rope_base = 10000.0;
  // Frequency scaling of the (global) layers: "" (none), "llama3" (all four below) or
  // another type with rope_factor ("linear"; others to test their errors). config.json
  // gets rope_scaling; the GGUF what llama.cpp's converter writes: the tensor
  // rope_freqs.weight (one divisor per rotated pair) for llama3, <arch>.rope.scaling.type
  // and .factor for the others.
  std::string rope_scaling;
  double rope_factor = 8.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  int64_t original_context = 128;
  // gemma3 only.
  double local_rope_base = 100.0;
  int64_t sliding_window = 6;
  int pattern = 3;  // Every third layer global.
  double query_pre_attn_scalar = 0.0;  // 0: head_dim.
  // The safetensors dtype: "F32", "BF16" or "F16". The GGUF holds the same values
  // (each rounded to this dtype) as F32.
  std::string dtype = "F32";
  bool sharded = false;  // Two shards and an index instead of model.safetensors.
  uint32_t seed = 1;
};

// Creates `dir` if needed and writes config.json and the checkpoint into it.
absl::Status WriteTinyHfModel(const std::string& dir, const TinyHfOptions& options);
// Writes the same model to `path` as GGUF (F32 tensors).
absl::Status WriteTinyHfModelAsGguf(const std::string& path, const TinyHfOptions& options);

}  // namespace kvlab::model

#endif  // KVLAB_EVAL_MODEL_TINY_HF_H_
