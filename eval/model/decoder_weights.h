// DecoderWeights: the weights of a pre-norm decoder (an embedding, one attention and
// one gated MLP per layer, a final norm, an output projection), loaded once for every
// architecture that has them.
//
// Architectures differ in which optional tensors they carry (biases on Q, K and V for
// qwen2; per-head Q and K norms and norms after attention and MLP for Gemma 3), not in
// how a tensor is named or loaded, so each says which it has (DecoderWeightsLayout) and
// LoadDecoderWeights() reads them in GGUF's names:
//
//   token_embd.weight, output_norm.weight, output.weight (unless tied), and per layer
//   blk.<i>.attn_norm, attn_q, attn_k, attn_v (.bias too with qkv_bias), attn_q_norm and
//   attn_k_norm (qk_norm), attn_output, post_attention_norm (post_norms), ffn_norm,
//   ffn_gate, ffn_up, ffn_down, post_ffw_norm (post_norms), each .weight.
//
//   KVLAB_ASSIGN_OR_RETURN(DecoderWeights w, LoadDecoderWeights(layout, source, options));
#ifndef KVLAB_EVAL_MODEL_DECODER_WEIGHTS_H_
#define KVLAB_EVAL_MODEL_DECODER_WEIGHTS_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "eval/model/decoder_model.h"
#include "eval/model/decoder_sizes.h"
#include "eval/model/projection.h"
#include "eval/model/weight_source.h"

namespace kvlab::model {

// Which tensors a decoder has, and their sizes.
struct DecoderWeightsLayout {
  DecoderSizes sizes;
  bool tied_embeddings = false;  // output.weight absent: the output projection is the embedding.
  bool qkv_bias = false;         // Biases on the Q, K and V projections.
  bool qk_norm = false;          // RMSNorm weights per query and key head.
  bool post_norms = false;       // RMSNorm weights after attention and after the MLP.
};

// One layer's weights. Q, K and V are one projection (and gate and up another), which
// halves the matmul count. An optional tensor the layout does not have is undefined.
struct DecoderLayerWeights {
  at::Tensor attn_norm;       // [hidden]
  Projection qkv;             // [(q_heads + 2 kv_heads) * head_dim, hidden]
  at::Tensor qkv_bias;        // [(q_heads + 2 kv_heads) * head_dim] fp32 (qkv_bias)
  at::Tensor q_norm;          // [head_dim] (qk_norm)
  at::Tensor k_norm;          // [head_dim] (qk_norm)
  Projection output;          // [hidden, q_heads * head_dim]
  at::Tensor post_attn_norm;  // [hidden] (post_norms)
  at::Tensor ffn_norm;        // [hidden]
  Projection gate_up;         // [2 ffn, hidden]
  Projection down;            // [hidden, ffn]
  at::Tensor post_ffn_norm;   // [hidden] (post_norms)
};

struct DecoderWeights {
  Projection token_embedding;  // [vocab, hidden]
  at::Tensor output_norm;      // [hidden]
  Projection output;           // [vocab, hidden]; the embedding when tied.
  std::vector<DecoderLayerWeights> layers;

  // Bytes of every tensor held (a tied output projection counted once).
  int64_t ByteSize() const;
};

// Loads the tensors `layout` names from `source`: matrices as `options` asks, vectors
// (norm weights, biases) in fp32. Errors name the source and the tensor; the first
// missing tensor, in the order listed above, is the one reported.
absl::StatusOr<DecoderWeights> LoadDecoderWeights(const DecoderWeightsLayout& layout,
                                                  const WeightSource& source,
                                                  const LoadOptions& options);

// The GGUF names of the tensors LoadDecoderWeights() reads for `layout`, output.weight
// included even when tied (a checkpoint may still hold it).
std::set<std::string> DecoderTensorNames(const DecoderWeightsLayout& layout);

}  // namespace kvlab::model

#endif  // KVLAB_EVAL_MODEL_DECODER_WEIGHTS_H_
