#include "core/channel_pruned_key_store.h"

#include <ATen/ATen.h>

#include <utility>

#include "absl/strings/str_format.h"
#include "base/status_macros.h"

namespace kvlab {

ChannelPrunedKeyStore::ChannelPrunedKeyStore(int64_t kv_heads, int64_t head_dim,
                                             std::unique_ptr<TensorStore> full,
                                             KeyStoreMaker make_pruned)
    : kv_heads_(kv_heads),
      head_dim_(head_dim),
      full_(std::move(full)),
      make_pruned_(std::move(make_pruned)) {}

absl::Status ChannelPrunedKeyStore::PruneOldest(int64_t tokens, const at::Tensor& kept) {
  if (pruned_ != nullptr) {
    return absl::FailedPreconditionError("key channels are pruned once per store");
  }
  if (!kept.defined() || kept.dim() != 2 || kept.size(0) != kv_heads_ || kept.size(1) < 1 ||
      kept.size(1) >= head_dim_ || kept.scalar_type() != at::kLong) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "kept key channels must be int64 [%d, d_kept] with 0 < d_kept < %d, got %s", kv_heads_,
        head_dim_, kept.defined() ? c10::str(kept.sizes()) : "undefined"));
  }
  if (tokens < 0 || tokens > full_->length()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "cannot prune the key channels of %d tokens of %d held", tokens, full_->length()));
  }
  const int64_t d_kept = kept.size(1);
  KVLAB_ASSIGN_OR_RETURN(pruned_, make_pruned_(d_kept));
  kept_ = kept.contiguous();
  if (tokens == 0) return absl::OkStatus();
  const at::Tensor oldest = full_->Materialize().narrow(1, 0, tokens);
  KVLAB_RETURN_IF_ERROR(
      pruned_->Append(oldest.gather(2, kept_.unsqueeze(1).expand({kv_heads_, tokens, d_kept}))));
  const int64_t rest = full_->length() - tokens;
  return full_->Retain(at::arange(tokens, tokens + rest, kept_.options())
                           .unsqueeze(0)
                           .expand({kv_heads_, rest})
                           .contiguous());
}

absl::StatusOr<at::Tensor> ChannelPrunedKeyStore::MultiplyTransposed(
    const at::Tensor& queries) const {
  if (queries.dim() != 3 || queries.size(0) != kv_heads_ || queries.size(2) != head_dim_) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "queries must be [%d, m, %d], got %s", kv_heads_, head_dim_, c10::str(queries.sizes())));
  }
  if (pruned_length() == 0) return full_->MultiplyTransposed(queries);
  // Only the kept channels of each head's queries meet the pruned tokens.
  const at::Tensor narrowed = queries.gather(
      2, kept_.unsqueeze(1).expand({kv_heads_, queries.size(1), kept_.size(1)}));
  KVLAB_ASSIGN_OR_RETURN(const at::Tensor pruned_scores, pruned_->MultiplyTransposed(narrowed));
  if (full_->length() == 0) return pruned_scores;
  KVLAB_ASSIGN_OR_RETURN(const at::Tensor full_scores, full_->MultiplyTransposed(queries));
  return at::cat({pruned_scores, full_scores}, 2);
}

at::Tensor ChannelPrunedKeyStore::Widened(const at::Tensor& x) const {
  at::Tensor wide = at::zeros({kv_heads_, x.size(1), head_dim_}, x.options());
  wide.scatter_(2, kept_.unsqueeze(1).expand({kv_heads_, x.size(1), kept_.size(1)}), x);
  return wide;
}

absl::StatusOr<at::Tensor> ChannelPrunedKeyStore::Multiply(const at::Tensor& weights) const {
  if (weights.dim() != 3 || weights.size(0) != kv_heads_ || weights.size(2) != length()) {
    return absl::InvalidArgumentError(absl::StrFormat("weights must be [%d, m, %d], got %s",
                                                      kv_heads_, length(),
                                                      c10::str(weights.sizes())));
  }
  const int64_t pruned = pruned_length();
  if (pruned == 0) return full_->Multiply(weights);
  KVLAB_ASSIGN_OR_RETURN(const at::Tensor narrow_out,
                         pruned_->Multiply(weights.narrow(2, 0, pruned).contiguous()));
  at::Tensor out = Widened(narrow_out);
  if (full_->length() == 0) return out;
  KVLAB_ASSIGN_OR_RETURN(const at::Tensor full_out,
                         full_->Multiply(weights.narrow(2, pruned, full_->length()).contiguous()));
  return out.add_(full_out);
}

at::Tensor ChannelPrunedKeyStore::Materialize() const {
  if (pruned_length() == 0) return full_->Materialize();
  const at::Tensor pruned = Widened(pruned_->Materialize());
  if (full_->length() == 0) return pruned;
  return at::cat({pruned, full_->Materialize()}, 1);
}

absl::Status ChannelPrunedKeyStore::Retain(const at::Tensor& keep) {
  const int64_t pruned = pruned_length();
  if (pruned == 0) return full_->Retain(keep);
  if (keep.dim() != 2 || keep.size(0) != kv_heads_) {
    return absl::InvalidArgumentError(absl::StrFormat("keep must be [%d, m], got %s", kv_heads_,
                                                      c10::str(keep.sizes())));
  }
  // Indices ascend per row, so each row's pruned tokens are a prefix of it.
  const at::Tensor counts = (keep < pruned).sum(1);
  const int64_t kept_pruned = counts.min().item<int64_t>();
  if (kept_pruned != counts.max().item<int64_t>()) {
    return absl::FailedPreconditionError(
        "a key store with pruned channels keeps the same number of pruned tokens in every "
        "KV head; this retain keeps different numbers");
  }
  const int64_t m = keep.size(1);
  KVLAB_RETURN_IF_ERROR(pruned_->Retain(keep.narrow(1, 0, kept_pruned).contiguous()));
  return full_->Retain((keep.narrow(1, kept_pruned, m - kept_pruned) - pruned).contiguous());
}

int64_t ChannelPrunedKeyStore::index_bytes() const {
  return kept_.defined() ? kept_.numel() * kept_.element_size() : 0;
}

int64_t ChannelPrunedKeyStore::held_bytes() const {
  return full_->held_bytes() + (pruned_ ? pruned_->held_bytes() : 0) + index_bytes();
}

int64_t ChannelPrunedKeyStore::allocated_bytes() const {
  return full_->allocated_bytes() + (pruned_ ? pruned_->allocated_bytes() : 0) + index_bytes();
}

int64_t ChannelPrunedKeyStore::metadata_bytes() const {
  return full_->metadata_bytes() + (pruned_ ? pruned_->metadata_bytes() : 0);
}

std::string ChannelPrunedKeyStore::Describe() const {
  if (pruned_ == nullptr) return full_->Describe();
  return absl::StrFormat("%s, %d of %d key channels for %d tokens", full_->Describe(),
                         kept_.size(1), head_dim_, pruned_length());
}

}  // namespace kvlab
