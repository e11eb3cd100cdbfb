// LlamaModel: the forward pass of a Llama-family decoder, in LibTorch.
//
// Loads weights from a GGUF file (dequantized to fp32, bf16 or fp16 on a device) and runs
// RMSNorm -> attention -> residual -> RMSNorm -> SwiGLU MLP -> residual per layer, with
// grouped-query attention and a tied or separate output projection. Attention goes
// through KvCache::Attend() only: the model never holds keys or values itself.
//
//   KVLAB_ASSIGN_OR_RETURN(auto model, LlamaModel::Load(*file, {}));
//   KVLAB_ASSIGN_OR_RETURN(auto cache, model->NewDenseCache());
//   KVLAB_ASSIGN_OR_RETURN(at::Tensor hidden, model->Forward(tokens, 0, {cache.get()}));
//   at::Tensor logits = model->Logits(hidden);
//
// Forward() is thread-compatible; the weights are immutable after Load().
#ifndef KVLAB_EVAL_MODEL_LLAMA_MODEL_H_
#define KVLAB_EVAL_MODEL_LLAMA_MODEL_H_

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/kv_cache.h"
#include "core/rotary_embedding.h"
#include "eval/gguf/gguf_file.h"
#include "eval/model/llama_config.h"

namespace kvlab::model {

struct LoadOptions {
  c10::Device device = c10::kCPU;
  // Dtype the projection and embedding matrices are kept in: at::kFloat (default),
  // at::kBFloat16 or at::kHalf. Norm weights, the residual stream and everything
  // handed to the caches stay fp32; each matmul rounds its input to this dtype and
  // widens its output back to fp32.
  at::ScalarType weight_dtype = at::kFloat;
};

class LlamaModel {
 public:
  static absl::StatusOr<std::unique_ptr<LlamaModel>> Load(const gguf::GgufFile& file,
                                                          const LoadOptions& options);

  const LlamaConfig& config() const { return config_; }
  const RotaryEmbedding& rope() const { return rope_; }
  c10::Device device() const { return options_.device; }
  at::ScalarType weight_dtype() const { return options_.weight_dtype; }
  // Bytes of every weight tensor the model holds (a tied output projection counted once).
  int64_t WeightBytes() const;

  // Fails with InvalidArgument unless `tokens` is int64 with every id in [0, vocab).
  // Reads the ids on the host: a device tensor costs a round trip.
  absl::Status CheckTokens(const at::Tensor& tokens) const;

  // Runs tokens [batch, n] (int64) at positions first_position.. through the model, with
  // caches[b] holding row b's context. Returns the final normalised hidden states
  // [batch, n, hidden] fp32. Tokens on the CPU are checked with CheckTokens(); tokens
  // already on the model's device are not (no host round trip per step): the caller
  // checks them once, before moving them there.
  absl::StatusOr<at::Tensor> Forward(const at::Tensor& tokens, int64_t first_position,
                                     absl::Span<KvCache* const> caches) const;

  // Output projection: hidden [..., hidden] -> logits [..., vocab] fp32.
  at::Tensor Logits(const at::Tensor& hidden) const;

  // A dense fp32 cache for this model on its device (the baseline; experiments build
  // others from their configs).
  absl::StatusOr<std::unique_ptr<KvCache>> NewDenseCache() const;

 private:
  struct Layer {
    at::Tensor attn_norm;  // [hidden]
    at::Tensor qkv;        // [(q_heads + 2 kv_heads) * head_dim, hidden]
    at::Tensor output;     // [hidden, q_heads * head_dim]
    at::Tensor ffn_norm;   // [hidden]
    at::Tensor gate_up;    // [2 ffn, hidden]
    at::Tensor down;       // [hidden, ffn]
  };

  LlamaModel(LlamaConfig config, RotaryEmbedding rope, LoadOptions options)
      : config_(std::move(config)), rope_(std::move(rope)), options_(options) {}
  absl::StatusOr<at::Tensor> ForwardUnchecked(const at::Tensor& tokens, int64_t first_position,
                                              absl::Span<KvCache* const> caches) const;
  at::Tensor RmsNorm(const at::Tensor& x, const at::Tensor& weight) const;

  LlamaConfig config_;
  RotaryEmbedding rope_;
  LoadOptions options_;
  at::Tensor token_embedding_;  // [vocab, hidden]
  at::Tensor output_norm_;      // [hidden]
  at::Tensor output_;           // [vocab, hidden]; the embedding when tied.
  std::vector<Layer> layers_;
};

}  // namespace kvlab::model

#endif  // KVLAB_EVAL_MODEL_LLAMA_MODEL_H_
