// The Hugging Face checkpoint layout of each architecture: tensor names, and the
// conventions in which a checkpoint differs from the models' (GGUF's), as llama.cpp's
// convert_hf_to_gguf.py converts them.
//
//   llama:  model.layers.<i>.self_attn.q_proj.weight ... as GGUF's blk.<i>.attn_q.weight
//           ...; the rows of each Q and K head permuted from rotate-half order to the
//           interleaved pairs the model rotates (the converter's LlamaModel.permute).
//   qwen2:  llama's names plus the Q, K and V biases; no permutation (it rotates halves).
//   gemma3: also q_norm, k_norm, pre/post-feedforward and post-attention norms; every
//           norm weight w stored as Gemma's RMSNorm uses it, (1 + w), so the model
//           multiplies by it as it does a GGUF's.
#ifndef KVLAB_EVAL_MODEL_HF_TENSOR_LAYOUT_H_
#define KVLAB_EVAL_MODEL_HF_TENSOR_LAYOUT_H_

#include <ATen/core/Tensor.h>

#include "eval/model/gemma3_config.h"
#include "eval/model/hf_weight_source.h"
#include "eval/model/llama_config.h"

namespace kvlab::model {

// For config.architecture "llama" or "qwen2".
HfTensorLayout LlamaHfLayout(const LlamaConfig& config);
HfTensorLayout Gemma3HfLayout(const Gemma3Config& config);

// The rows of `weight` ([heads * head_dim, ...], a Q or K projection or its bias)
// reordered within each head from rotate-half order (dims j and j + d/2 form a pair)
// to interleaved order (dims 2j and 2j + 1): row 2j + s of a head is row s * d/2 + j.
at::Tensor PermuteToInterleavedRope(const at::Tensor& weight, int64_t heads);
// The inverse: interleaved order back to rotate-half order.
at::Tensor PermuteToHalfRope(const at::Tensor& weight, int64_t heads);

}  // namespace kvlab::model

#endif  // KVLAB_EVAL_MODEL_HF_TENSOR_LAYOUT_H_
