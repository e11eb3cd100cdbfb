// ForwardingKvCache: the base of a KvCache decorator. It owns the cache it wraps and
// hands it every call; a decorator overrides only what it changes (EvictingKvCache
// evicts after Attend(), KeyChannelPruningKvCache prunes after it, the perplexity
// protocol's KeyFiniteWatch watches the keys passing through).
#ifndef KVLAB_CORE_FORWARDING_KV_CACHE_H_
#define KVLAB_CORE_FORWARDING_KV_CACHE_H_

#include <memory>
#include <utility>

#include "core/kv_cache.h"

namespace kvlab {

class ForwardingKvCache : public KvCache {
 public:
  explicit ForwardingKvCache(std::unique_ptr<KvCache> inner) : inner_(std::move(inner)) {}

  absl::StatusOr<AttentionResult> Attend(int layer, const AttentionInputs& inputs) override {
    return inner_->Attend(layer, inputs);
  }
  absl::Status Retain(int layer, const at::Tensor& keep) override {
    return inner_->Retain(layer, keep);
  }
  absl::Status RetainPerHead(int layer, absl::Span<const at::Tensor> keep) override {
    return inner_->RetainPerHead(layer, keep);
  }
  int64_t Length(int layer) const override { return inner_->Length(layer); }
  at::Tensor Positions(int layer) const override { return inner_->Positions(layer); }
  CacheMemory Memory() const override { return inner_->Memory(); }
  int num_layers() const override { return inner_->num_layers(); }

  KvCache& inner() { return *inner_; }
  const KvCache& inner() const { return *inner_; }

 private:
  std::unique_ptr<KvCache> inner_;
};

}  // namespace kvlab

#endif  // KVLAB_CORE_FORWARDING_KV_CACHE_H_
