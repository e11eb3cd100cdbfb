#include "core/kv_cache_test_util.h"

#include <ATen/ATen.h>

#include <utility>

#include "base/status_macros.h"
#include "core/dense_tensor_store.h"

namespace kvlab::testing {

Sequence RandomSequence(int64_t q_heads, int64_t kv_heads, int64_t n, int64_t head_dim) {
  // Braced initialisation evaluates left to right, so the draws come in q, k, v order.
  return {at::randn({q_heads, n, head_dim}), at::randn({kv_heads, n, head_dim}),
          at::randn({kv_heads, n, head_dim})};
}

AttentionInputs Slice(const Sequence& s, int64_t begin, int64_t n) {
  AttentionInputs in;
  in.queries = s.q.narrow(1, begin, n).contiguous();
  in.keys = s.k.narrow(1, begin, n).contiguous();
  in.values = s.v.narrow(1, begin, n).contiguous();
  in.first_position = begin;
  return in;
}

AttentionInputs WholeAt(const Sequence& s, int64_t first_position) {
  AttentionInputs in;
  in.queries = s.q;
  in.keys = s.k;
  in.values = s.v;
  in.first_position = first_position;
  return in;
}

TensorStoreFactory DenseStores(int64_t kv_heads, int64_t head_dim, at::ScalarType dtype) {
  return [=](int) -> absl::StatusOr<std::unique_ptr<TensorStore>> {
    KVLAB_ASSIGN_OR_RETURN(auto store,
                           DenseTensorStore::Create(kv_heads, head_dim, dtype, at::kCPU));
    return std::unique_ptr<TensorStore>(std::move(store));
  };
}

absl::StatusOr<std::unique_ptr<BaseKvCache>> DenseCache(const AttentionShape& shape,
                                                        const LayerRopes& ropes,
                                                        PositionMode mode) {
  const TensorStoreFactory stores = DenseStores(shape.kv_heads, shape.head_dim);
  return BaseKvCache::Create(shape, ropes, mode, at::kCPU, stores, stores);
}

}  // namespace kvlab::testing
