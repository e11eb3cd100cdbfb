#include "core/per_head_kv_cache.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "base/torch_status.h"

namespace kvlab {

absl::StatusOr<std::unique_ptr<PerHeadKvCache>> PerHeadKvCache::Create(
    std::vector<std::unique_ptr<KvCache>> heads, int64_t q_heads) {
  const int64_t kv_heads = static_cast<int64_t>(heads.size());
  if (kv_heads == 0 || q_heads % kv_heads != 0 || q_heads < kv_heads) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "a per-head cache needs one cache per KV head and q_heads a positive multiple of "
        "them, got %d caches and q_heads=%d",
        kv_heads, q_heads));
  }
  for (const std::unique_ptr<KvCache>& head : heads) {
    if (head == nullptr || head->num_layers() != heads.front()->num_layers()) {
      return absl::InvalidArgumentError(
          "a per-head cache needs its head caches to have the same number of layers");
    }
  }
  return std::unique_ptr<PerHeadKvCache>(new PerHeadKvCache(std::move(heads), q_heads / kv_heads));
}

bool PerHeadKvCache::Rectangular(int layer) const {
  const int64_t first = heads_.front()->Length(layer);
  return std::all_of(heads_.begin(), heads_.end(),
                     [&](const auto& head) { return head->Length(layer) == first; });
}

absl::StatusOr<AttentionResult> PerHeadKvCache::Attend(int layer, const AttentionInputs& inputs) {
  if (layer < 0 || layer >= num_layers()) {
    return absl::InvalidArgumentError(absl::StrFormat("layer %d out of range", layer));
  }
  if (!inputs.queries.defined() || !inputs.keys.defined() || !inputs.values.defined() ||
      inputs.queries.dim() != 3 || inputs.keys.dim() != 3 || inputs.values.dim() != 3 ||
      inputs.queries.size(0) != kv_heads() * group_ || inputs.keys.size(0) != kv_heads() ||
      inputs.values.size(0) != kv_heads()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "a per-head cache of %d KV heads needs queries [%d, n, d] and keys and values "
        "[%d, n, d]",
        kv_heads(), kv_heads() * group_, kv_heads()));
  }
  const AttentionStatsRequest& request = inputs.stats_request;
  const bool wants_stats = request.any() || request.keys || request.values;
  if (wants_stats && !Rectangular(layer)) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "layer %d's KV heads hold different numbers of tokens: its attention statistics "
        "are not one tensor",
        layer));
  }
  std::vector<AttentionResult> parts;
  parts.reserve(heads_.size());
  for (int64_t h = 0; h < kv_heads(); ++h) {
    AttentionInputs head_inputs = inputs;
    head_inputs.queries = inputs.queries.narrow(0, h * group_, group_);
    head_inputs.keys = inputs.keys.narrow(0, h, 1);
    head_inputs.values = inputs.values.narrow(0, h, 1);
    absl::StatusOr<AttentionResult> part = heads_[h]->Attend(layer, head_inputs);
    if (!part.ok()) {
      return absl::Status(part.status().code(),
                          absl::StrFormat("KV head %d: %s", h, part.status().message()));
    }
    parts.push_back(*std::move(part));
  }
  AttentionResult result;
  KVLAB_RETURN_IF_ERROR(CatchTorchErrors(
      absl::StrFormat("per-head attention in layer %d", layer), [&]() -> absl::Status {
        // Joins the heads' tensors of one kind along the head dimension.
        const auto join = [&](at::Tensor AttentionResult::*field) {
          std::vector<at::Tensor> each;
          each.reserve(parts.size());
          for (AttentionResult& part : parts) each.push_back(part.*field);
          return at::cat(each, 0);
        };
        const auto join_stat = [&](at::Tensor AttentionStats::*field) {
          std::vector<at::Tensor> each;
          for (AttentionResult& part : parts) {
            if (!(part.stats.*field).defined()) return at::Tensor();
            each.push_back(part.stats.*field);
          }
          return at::cat(each, 0);
        };
        if (inputs.output_wanted) result.output = join(&AttentionResult::output);
        result.stats.column_sums = join_stat(&AttentionStats::column_sums);
        result.stats.recent = join_stat(&AttentionStats::recent);
        result.stats.recent_by_query_head = join_stat(&AttentionStats::recent_by_query_head);
        result.stats.keys = join_stat(&AttentionStats::keys);
        result.stats.values = join_stat(&AttentionStats::values);
        return absl::OkStatus();
      }));
  return result;
}

absl::Status PerHeadKvCache::Retain(int layer, const at::Tensor& keep) {
  if (keep.dim() != 2 || keep.size(0) != kv_heads()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "retain needs keep [%d, m], got %s", kv_heads(), c10::str(keep.sizes())));
  }
  std::vector<at::Tensor> rows;
  rows.reserve(heads_.size());
  for (int64_t h = 0; h < kv_heads(); ++h) rows.push_back(keep[h]);
  return RetainPerHead(layer, rows);
}

absl::Status PerHeadKvCache::RetainPerHead(int layer, absl::Span<const at::Tensor> keep) {
  if (static_cast<int64_t>(keep.size()) != kv_heads()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "per-head retain needs one keep per KV head (%d), got %d", kv_heads(), keep.size()));
  }
  for (int64_t h = 0; h < kv_heads(); ++h) {
    if (keep[h].dim() != 1) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "per-head retain of KV head %d needs keep [m], got %s", h, c10::str(keep[h].sizes())));
    }
    KVLAB_RETURN_IF_ERROR(heads_[h]->Retain(layer, keep[h].unsqueeze(0)));
  }
  return absl::OkStatus();
}

std::vector<int64_t> PerHeadKvCache::HeadLengths(int layer) const {
  std::vector<int64_t> lengths;
  lengths.reserve(heads_.size());
  for (const auto& head : heads_) lengths.push_back(head->Length(layer));
  return lengths;
}

int64_t PerHeadKvCache::Length(int layer) const {
  const std::vector<int64_t> lengths = HeadLengths(layer);
  return *std::max_element(lengths.begin(), lengths.end());
}

at::Tensor PerHeadKvCache::Positions(int layer) const {
  const int64_t length = Length(layer);
  std::vector<at::Tensor> rows;
  rows.reserve(heads_.size());
  for (const auto& head : heads_) {
    const at::Tensor row = head->Positions(layer);  // [1, length_h]
    rows.push_back(at::constant_pad_nd(row, {0, length - row.size(1)}, -1));
  }
  return at::cat(rows, 0);
}

CacheMemory PerHeadKvCache::Memory() const {
  CacheMemory memory;
  int64_t head_tokens = 0;
  for (const auto& head : heads_) {
    const CacheMemory part = head->Memory();
    memory.held_bytes += part.held_bytes;
    memory.allocated_bytes += part.allocated_bytes;
    memory.peak_held_bytes += part.peak_held_bytes;
    memory.metadata_bytes += part.metadata_bytes;
    head_tokens += part.held_tokens;
  }
  memory.held_tokens = head_tokens / kv_heads();
  return memory;
}

}  // namespace kvlab
