// RotaryEmbedding: rotary position embedding (RoPE) of queries and keys.
//
// GGUF "llama" files store Q and K projections permuted so that RoPE rotates adjacent
// pairs (x[2i], x[2i+1]) ("interleaved", llama.cpp's LLAMA_ROPE_TYPE_NORM); Hugging Face
// checkpoints rotate (x[i], x[i + d/2]) ("half", NEOX). Pair i turns by
// position * inv_freq[i], where inv_freq[i] = base^(-2i / rotary_dim) unless the model
// scales its frequencies (rope_scaling.h: Llama 3's and linear scaling, GGUF's
// rope_freqs); dimensions past rotary_dim pass through. Every rotation of a model, the
// caches' re-rotation of keys at new positions included, goes through one
// RotaryEmbedding and so uses the model's frequencies.
//
// Rotations compose (R(a) R(b) = R(a + b)) and preserve norms, which lets caches
// re-position keys at read time.
#ifndef KVLAB_CORE_ROTARY_EMBEDDING_H_
#define KVLAB_CORE_ROTARY_EMBEDDING_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "core/rope_scaling.h"

namespace kvlab {

enum class RopeStyle { kInterleaved, kHalf };

class RotaryEmbedding {
 public:
  // Fails with InvalidArgument unless 0 < rotary_dim <= head_dim, rotary_dim is even
  // and base > 1. Angles for positions below `table_positions` are computed once (in
  // double precision) and looked up; later positions are computed per call.
  static absl::StatusOr<RotaryEmbedding> Create(int64_t head_dim, int64_t rotary_dim, double base,
                                                RopeStyle style, int64_t table_positions = 8192);
  // Pair i turns by position * inverse_frequencies[i]; rotary_dim is twice their
  // number. Fails with InvalidArgument unless 0 < rotary_dim <= head_dim and every
  // frequency is finite and > 0.
  static absl::StatusOr<RotaryEmbedding> WithFrequencies(int64_t head_dim,
                                                         std::vector<double> inverse_frequencies,
                                                         RopeStyle style,
                                                         int64_t table_positions = 8192);

  // Rotates x [heads, n, head_dim] (fp32). `positions` is [n] (shared by all heads) or
  // [heads, n], int64, on x's device. Returns a new tensor.
  at::Tensor Apply(const at::Tensor& x, const at::Tensor& positions) const;

  int64_t head_dim() const { return head_dim_; }
  int64_t rotary_dim() const { return rotary_dim_; }
  // [rotary_dim / 2] fp64, CPU: what pair i turns by per position.
  const at::Tensor& inverse_frequencies() const { return inverse_frequencies_; }
  RopeStyle style() const { return style_; }

 private:
  RotaryEmbedding(int64_t head_dim, int64_t rotary_dim, at::Tensor inverse_frequencies,
                  RopeStyle style)
      : head_dim_(head_dim),
        rotary_dim_(rotary_dim),
        inverse_frequencies_(std::move(inverse_frequencies)),
        style_(style) {}
  // cos and sin of position * inv_freq: [n, rotary_dim / 2] (with a leading head dim
  // if positions is [heads, n]), fp32 on the positions' device.
  std::pair<at::Tensor, at::Tensor> CosSin(const at::Tensor& positions) const;

  struct Table {
    at::Tensor cos;  // [table_positions, rotary_dim / 2] fp32, CPU
    at::Tensor sin;
  };

  int64_t head_dim_;
  int64_t rotary_dim_;
  at::Tensor inverse_frequencies_;  // Shared by copies, never modified.
  // The frequencies on the last non-CPU device asked for, so that rotating on a GPU
  // copies them there once rather than on every call. Shared by copies.
  struct DeviceCopy {
    std::mutex mutex;
    at::Tensor frequencies;  // Guarded by mutex.
  };
  std::shared_ptr<DeviceCopy> device_copy_ = std::make_shared<DeviceCopy>();
  at::Tensor FrequenciesOn(const c10::Device& device) const;
  RopeStyle style_;
  // Shared by copies: caches copy the model's embedding.
  std::shared_ptr<const Table> table_;
};

// The rotary embedding of each layer of a model: one shared by every layer (Llama), or
// one per layer (Gemma 3 rotates its sliding-window layers with another base than its
// global ones). Converts implicitly from one RotaryEmbedding, so a model with a single
// rope passes it wherever LayerRopes are expected.
class LayerRopes {
 public:
  LayerRopes(RotaryEmbedding shared)  // NOLINT(google-explicit-constructor)
      : ropes_{std::move(shared)} {}
  // Fails with InvalidArgument if `per_layer` is empty or its head dims differ.
  static absl::StatusOr<LayerRopes> PerLayer(std::vector<RotaryEmbedding> per_layer);

  const RotaryEmbedding& operator[](int layer) const {
    return ropes_.size() == 1 ? ropes_[0] : ropes_[layer];
  }
  // 1 when shared, else the number of layers.
  int size() const { return static_cast<int>(ropes_.size()); }
  int64_t head_dim() const { return ropes_[0].head_dim(); }

 private:
  explicit LayerRopes(std::vector<RotaryEmbedding> ropes) : ropes_(std::move(ropes)) {}
  std::vector<RotaryEmbedding> ropes_;
};

}  // namespace kvlab

#endif  // KVLAB_CORE_ROTARY_EMBEDDING_H_
