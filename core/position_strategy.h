// PositionStrategy: where a BaseKvCache's rotary embedding puts each token, one class
// per PositionMode, chosen when the cache is created (MakePositionStrategy).
//
//   PositionMode::kOriginal   keys are rotated at their original positions when
//                             written and stored rotated (the usual cache); queries
//                             are rotated at their own positions.
//   PositionMode::kCacheSlot  keys are stored unrotated and rotated at read time by
//                             their slot in the cache (0..length-1), the query by its
//                             own slot, as StreamingLLM does after eviction.
//
// A strategy holds no state: the cache passes each layer's rope, tensors and stores.
// Every tensor is on the cache's device; keys and queries are fp32
// [heads, n, head_dim], positions int64.
#ifndef KVLAB_CORE_POSITION_STRATEGY_H_
#define KVLAB_CORE_POSITION_STRATEGY_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "core/rotary_embedding.h"
#include "core/tensor_store.h"

namespace kvlab {

enum class PositionMode { kOriginal, kCacheSlot };

// Scores of one block of queries [kv_heads, rows, head_dim] against the keys a layer
// holds at [begin, end): [kv_heads, rows, end - begin], unscaled.
using BlockScores = std::function<absl::StatusOr<at::Tensor>(const at::Tensor& block,
                                                             int64_t begin, int64_t end)>;

class PositionStrategy {
 public:
  virtual ~PositionStrategy() = default;

  // A step's keys [kv_heads, n, d] at original `positions` [n], as the key store is to
  // keep them.
  virtual at::Tensor KeysToStore(const RotaryEmbedding& rope, const at::Tensor& keys,
                                 const at::Tensor& positions) const = 0;
  // A step's queries [q_heads, n, d] at original `positions` [n], rotated to match how
  // keys are read. `held`: tokens the layer holds, the step's n (stored last) included.
  virtual at::Tensor RotateQueries(const RotaryEmbedding& rope, const at::Tensor& queries,
                                   const at::Tensor& positions, int64_t held) const = 0;
  // The stored keys [kv_heads, length, d] (materialized) rotated at their original
  // positions `held_positions` [kv_heads, length], as attention statistics report them.
  virtual at::Tensor KeysAtOriginalPositions(const RotaryEmbedding& rope,
                                             const at::Tensor& stored_keys,
                                             const at::Tensor& held_positions) const = 0;
  // Prepares scoring a step's query blocks against the key store; the result may
  // refer to `keys` and lives for the step.
  virtual BlockScores ScoreBlocks(const RotaryEmbedding& rope, const TensorStore& keys) const = 0;
  // Whether the key store holds keys rotated as attention reads them, so that a kernel
  // may attend over its buffers directly (kernels::DecodeAttention).
  virtual bool StoresKeysRotated() const = 0;
};

std::unique_ptr<PositionStrategy> MakePositionStrategy(PositionMode mode);

}  // namespace kvlab

#endif  // KVLAB_CORE_POSITION_STRATEGY_H_
