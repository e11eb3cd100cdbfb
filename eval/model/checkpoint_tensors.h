// Every tensor of a model's file is one the model reads, or an error: a checkpoint
// with tensors its metadata does not describe (config.json saying 29 layers for a
// 30-layer checkpoint) otherwise runs a truncated model and gives a perplexity.
//
// The tensors each architecture reads are its ModelConfig::TensorNames() (architecture.h),
// in GGUF's names (a Hugging Face checkpoint's through its layout); for the
// registered ones:
//   token_embd, output_norm, output (when not tied) and, for llama, rope_freqs;
//   per layer i < the layer count: attn_norm, attn_q, attn_k, attn_v, attn_output,
//   ffn_norm, ffn_gate, ffn_up, ffn_down (.weight); the Q, K and V biases for a
//   model whose layer 0 has them (config.json's qwen2 always); for gemma3 also attn_q_norm,
//   attn_k_norm, post_attention_norm and post_ffw_norm.
// Ignored, by rule, in a Hugging Face checkpoint: a multimodal model's vision tower and
// projector (names starting "vision_tower.", "vision_model.", "multi_modal_projector.",
// with or without "model."), transformers' saved rotary buffers ("...rotary_emb.inv_freq")
// and a tied model's lm_head.weight (transformers ties it to the embedding as well).
#ifndef KVLAB_EVAL_MODEL_CHECKPOINT_TENSORS_H_
#define KVLAB_EVAL_MODEL_CHECKPOINT_TENSORS_H_

#include "absl/status/status.h"
#include "eval/model/decoder_model.h"
#include "eval/model/load_model.h"

namespace kvlab::model {

// InvalidArgument naming the file, the first tensor the model would not read and, for
// a layer beyond the count, the key that gives the count. `info` is the model's
// description (ReadModelInfo).
absl::Status CheckEveryTensorIsRead(const ModelFiles& files, const ModelInfo& info);

}  // namespace kvlab::model

#endif  // KVLAB_EVAL_MODEL_CHECKPOINT_TENSORS_H_
