// BaseKvCache: the KvCache that holds tokens in per-layer TensorStores on one device.
//
// Each layer has a key store and a value store, made by factories so that keys and
// values may be stored differently (a dense store, or a quantizer's store), and the
// original position of every held token. Attend() rotates, stores, and attends, with
// the rotations of its PositionMode (kOriginal: at original positions, keys stored
// rotated; kCacheSlot: by slot in the cache, keys rotated when read), which a
// PositionStrategy made at creation carries out (core/position_strategy.h).
//
// Attention is causal over the held tokens, with grouped-query heads; queries are
// processed in blocks so that a long prefill does not materialise a full score matrix.
// A decode step (one query) may instead go through kernels::DecodeAttention, which
// reads the stores' buffers directly and computes scores, softmax, weighted values and
// the eviction statistics in one pass (see DecodeKernelUse).
//
// A sliding-window layer (AttentionShape::sliding_window, Gemma 3's local layers) lets
// a query at position p see only keys at positions p - window + 1 .. p. After each
// step it drops the tokens no later query can see, so it holds at most window - 1
// tokens between steps (window - 1 + n during a step of n): the dropped tokens leave
// storage and Memory() falls with them. Eviction and quantization apply on top.
#ifndef KVLAB_CORE_BASE_KV_CACHE_H_
#define KVLAB_CORE_BASE_KV_CACHE_H_

#include <c10/core/Device.h>

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/kv_cache.h"
#include "core/position_strategy.h"
#include "core/rotary_embedding.h"
#include "core/tensor_store.h"
#include "core/token_buffer.h"
#include "kernels/decode_attention.h"

namespace kvlab {

// The attention geometry of a model, which every cache of it shares.
struct AttentionShape {
  int num_layers = 0;
  int64_t q_heads = 0;
  int64_t kv_heads = 0;
  int64_t head_dim = 0;
  // Per layer: how many positions a query sees, itself included (a local layer), or
  // 0 for the whole context. Empty: every layer sees the whole context.
  std::vector<int64_t> sliding_window;

  int64_t window(int layer) const {
    return sliding_window.empty() ? 0 : sliding_window[layer];
  }
};

// When a one-query step of a full-context layer with original positions goes through
// kernels::DecodeAttention instead of the stores' two products.
enum class DecodeKernelUse {
  // Where the fused CUDA kernel takes it. On the CPU the two products are already
  // fused per store, so CPU numbers stay those of the products.
  kWhenFused,
  // Always, where both stores expose DecodeRuns (on the CPU: the kernel's composed
  // path; tests use it to check the segment wiring against the products).
  kAlways,
  kNever,
};

// Makes the store for one layer's keys or values.
using TensorStoreFactory =
    std::function<absl::StatusOr<std::unique_ptr<TensorStore>>(int layer)>;

class BaseKvCache : public KvCache {
 public:
  // Fails with InvalidArgument if the shape is inconsistent (q_heads not a multiple of
  // kv_heads, rope head_dim different, ropes or windows not one per layer, a negative
  // window) and with the factories' errors.
  static absl::StatusOr<std::unique_ptr<BaseKvCache>> Create(
      const AttentionShape& shape, const LayerRopes& ropes, PositionMode mode,
      c10::Device device, const TensorStoreFactory& make_key_store,
      const TensorStoreFactory& make_value_store);

  absl::StatusOr<AttentionResult> Attend(int layer, const AttentionInputs& inputs) override;
  absl::Status Retain(int layer, const at::Tensor& keep) override;
  int64_t Length(int layer) const override;
  at::Tensor Positions(int layer) const override;
  CacheMemory Memory() const override;
  int num_layers() const override { return shape_.num_layers; }

  void set_decode_kernel_use(DecodeKernelUse use) { decode_kernel_ = use; }

  const TensorStore& key_store(int layer) const { return *layers_[layer].keys; }
  const TensorStore& value_store(int layer) const { return *layers_[layer].values; }

  // Queries per attention block; bounds scores memory to
  // q_heads * kQueryBlock * length floats.
  static constexpr int64_t kQueryBlock = 512;

 private:
  struct Layer {
    std::unique_ptr<TensorStore> keys;
    std::unique_ptr<TensorStore> values;
    std::unique_ptr<TokenBuffer> positions;  // [kv_heads, length] int64
    // Whether every head holds the positions first_held, first_held + 1, ... (nothing
    // retained from outside): then what a window drops is known without reading the
    // positions back from the device.
    bool consecutive = true;
    int64_t first_held = 0;
  };

  BaseKvCache(const AttentionShape& shape, const LayerRopes& ropes, PositionMode mode)
      : shape_(shape), ropes_(ropes), positions_(MakePositionStrategy(mode)) {}
  absl::Status CheckInputs(int layer, const AttentionInputs& inputs) const;
  // Attend() after its checks: store the step, attend, drop what a window hides.
  absl::StatusOr<AttentionResult> AttendUnchecked(int layer, const AttentionInputs& inputs);
  // Appends the step's keys (rotated, with original positions), values and positions.
  absl::Status StoreNewTokens(int layer, const AttentionInputs& inputs,
                              const at::Tensor& new_positions);
  // The step's queries rotated to match how keys are read; call after StoreNewTokens.
  at::Tensor RotatedQueries(int layer, const at::Tensor& queries,
                            const at::Tensor& new_positions) const;
  // A step through the decode kernel: the held tokens as its segments, and the fused
  // kernels' form of them when those take the step (described once, used once).
  struct DecodeStep {
    std::vector<kernels::DecodeSegment> segments;
    std::optional<kernels::FusedDecodeStep> fused;
  };
  // The decode step, when this step takes the decode kernel (see DecodeKernelUse);
  // nullopt otherwise. InvalidArgument if the key and value stores disagree on how many
  // tokens they hold.
  absl::StatusOr<std::optional<DecodeStep>> PlanDecodeStep(int layer,
                                                           const at::Tensor& queries) const;
  absl::StatusOr<AttentionResult> AttendOneQuery(int layer, const at::Tensor& queries,
                                                 const DecodeStep& step,
                                                 const AttentionStatsRequest& request) const;
  // Any step: causal (and window) masks, kQueryBlock queries at a time, scored as the
  // position strategy says. Without output_wanted no values are read, and unless the
  // column sums are asked for, only the recent queries are scored.
  absl::StatusOr<AttentionResult> AttendInBlocks(int layer, const at::Tensor& queries,
                                                 const AttentionInputs& inputs) const;
  // [q_heads, n, d] -> [kv_heads, group, n, d].
  at::Tensor GroupedByKvHead(const at::Tensor& queries) const;
  double ScoreScale() const;
  // Drops the oldest tokens of a sliding-window layer that no query after
  // `next_position` - 1 can see (as many as every KV head can drop).
  absl::Status DropOutsideWindow(int layer, int64_t next_position);

  AttentionShape shape_;
  LayerRopes ropes_;
  std::unique_ptr<const PositionStrategy> positions_;
  DecodeKernelUse decode_kernel_ = DecodeKernelUse::kWhenFused;
  std::vector<Layer> layers_;
  int64_t peak_held_bytes_ = 0;
};

}  // namespace kvlab

#endif  // KVLAB_CORE_BASE_KV_CACHE_H_
