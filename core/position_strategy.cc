#include "core/position_strategy.h"

#include <ATen/ATen.h>

namespace kvlab {

namespace {

class OriginalPositions : public PositionStrategy {
 public:
  at::Tensor KeysToStore(const RotaryEmbedding& rope, const at::Tensor& keys,
                         const at::Tensor& positions) const override {
    return rope.Apply(keys, positions);
  }
  at::Tensor RotateQueries(const RotaryEmbedding& rope, const at::Tensor& queries,
                           const at::Tensor& positions, int64_t /*held*/) const override {
    return rope.Apply(queries, positions);
  }
  at::Tensor KeysAtOriginalPositions(const RotaryEmbedding& /*rope*/,
                                     const at::Tensor& stored_keys,
                                     const at::Tensor& /*held_positions*/) const override {
    return stored_keys;  // Stored rotated already.
  }
  BlockScores ScoreBlocks(const RotaryEmbedding& /*rope*/, const TensorStore& keys) const override {
    return [&keys](const at::Tensor& block, int64_t begin, int64_t end) {
      return keys.MultiplyTransposedRange(block, begin, end);
    };
  }
  bool StoresKeysRotated() const override { return true; }
};

class CacheSlotPositions : public PositionStrategy {
 public:
  at::Tensor KeysToStore(const RotaryEmbedding& /*rope*/, const at::Tensor& keys,
                         const at::Tensor& /*positions*/) const override {
    // Rotated when read, by slots that change as tokens are evicted.
    return keys;
  }
  at::Tensor RotateQueries(const RotaryEmbedding& rope, const at::Tensor& queries,
                           const at::Tensor& positions, int64_t held) const override {
    // The step's queries sit in the last slots, after the tokens held before it.
    return rope.Apply(queries, at::arange(held - queries.size(1), held, positions.options()));
  }
  at::Tensor KeysAtOriginalPositions(const RotaryEmbedding& rope, const at::Tensor& stored_keys,
                                     const at::Tensor& held_positions) const override {
    return rope.Apply(stored_keys, held_positions);
  }
  BlockScores ScoreBlocks(const RotaryEmbedding& rope, const TensorStore& keys) const override {
    // Every held key rotated by its slot, once per step: the stores' products cannot
    // rotate, so the blocks multiply this copy.
    const at::Tensor stored = keys.Materialize();
    const at::Tensor slot_rotated = rope.Apply(
        stored, at::arange(0, keys.length(),
                           at::TensorOptions().dtype(at::kLong).device(stored.device())));
    return [slot_rotated](const at::Tensor& block, int64_t begin,
                          int64_t end) -> absl::StatusOr<at::Tensor> {
      return at::matmul(block, slot_rotated.narrow(1, begin, end - begin).transpose(1, 2));
    };
  }
  bool StoresKeysRotated() const override { return false; }
};

}  // namespace

std::unique_ptr<PositionStrategy> MakePositionStrategy(PositionMode mode) {
  if (mode == PositionMode::kCacheSlot) return std::make_unique<CacheSlotPositions>();
  return std::make_unique<OriginalPositions>();
}

}  // namespace kvlab
