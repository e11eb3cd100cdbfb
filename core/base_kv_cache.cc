#include "core/base_kv_cache.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <vector>

#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "base/torch_status.h"
#include "kernels/attention_stats.h"
#include "kernels/decode_attention.h"

namespace kvlab {

namespace {

// Sets to -inf, in the scores `probs` [kv_heads, group, rows, length] of a block of
// queries at slots first_slot.. and positions first_position.., what each query may
// not see: later slots (causality) and, in a local layer (window > 0), keys whose
// positions `key_positions` [kv_heads, 1, 1, length] are older than its window.
void MaskUnseen(at::Tensor& probs, int64_t first_slot, int64_t first_position, int64_t window,
                const at::Tensor& key_positions) {
  const int64_t rows = probs.size(2), length = probs.size(3);
  const auto index_options = at::TensorOptions().dtype(at::kLong).device(probs.device());
  // Query i sees tokens up to slot first_slot + i.
  if (first_slot + rows < length || rows > 1) {
    const at::Tensor query_slot = at::arange(first_slot, first_slot + rows, index_options);
    const at::Tensor future =
        at::arange(0, length, index_options).unsqueeze(0) > query_slot.unsqueeze(1);
    probs.masked_fill_(future, -std::numeric_limits<float>::infinity());
  }
  if (window > 0) {
    // Query at position p sees keys at positions > p - window (its own included, so
    // no row is ever wholly masked).
    const at::Tensor oldest_visible = at::arange(first_position - window + 1,
                                                 first_position + rows - window + 1, index_options);
    probs.masked_fill_(key_positions < oldest_visible.view({1, 1, rows, 1}),
                       -std::numeric_limits<float>::infinity());
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<BaseKvCache>> BaseKvCache::Create(
    const AttentionShape& shape, const LayerRopes& ropes, PositionMode mode,
    c10::Device device, const TensorStoreFactory& make_key_store,
    const TensorStoreFactory& make_value_store) {
  if (shape.num_layers <= 0 || shape.kv_heads <= 0 || shape.q_heads % shape.kv_heads != 0 ||
      shape.q_heads < shape.kv_heads) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "cache shape needs layers > 0 and q_heads a positive multiple of kv_heads, got "
        "layers=%d q_heads=%d kv_heads=%d",
        shape.num_layers, shape.q_heads, shape.kv_heads));
  }
  if (ropes.head_dim() != shape.head_dim) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "rope head_dim %d differs from cache head_dim %d", ropes.head_dim(), shape.head_dim));
  }
  if (ropes.size() != 1 && ropes.size() != shape.num_layers) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "cache has %d ropes for %d layers (expected 1 or one per layer)", ropes.size(),
        shape.num_layers));
  }
  if (!shape.sliding_window.empty()) {
    if (static_cast<int>(shape.sliding_window.size()) != shape.num_layers) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "cache has %d sliding windows for %d layers", shape.sliding_window.size(),
          shape.num_layers));
    }
    for (int64_t window : shape.sliding_window) {
      if (window < 0) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "sliding window must be >= 1 tokens, or 0 for none; got %d", window));
      }
    }
  }
  std::unique_ptr<BaseKvCache> cache(new BaseKvCache(shape, ropes, mode));
  cache->layers_.resize(shape.num_layers);
  for (int layer = 0; layer < shape.num_layers; ++layer) {
    Layer& l = cache->layers_[layer];
    KVLAB_ASSIGN_OR_RETURN(l.keys, make_key_store(layer));
    KVLAB_ASSIGN_OR_RETURN(l.values, make_value_store(layer));
    l.positions = std::make_unique<TokenBuffer>(
        shape.kv_heads, std::vector<int64_t>{}, at::TensorOptions().dtype(at::kLong).device(device));
  }
  return cache;
}

absl::Status BaseKvCache::CheckInputs(int layer, const AttentionInputs& inputs) const {
  if (layer < 0 || layer >= shape_.num_layers) {
    return absl::InvalidArgumentError(
        absl::StrFormat("layer %d out of range [0, %d)", layer, shape_.num_layers));
  }
  const auto check = [&](const at::Tensor& t, const char* name, int64_t heads) {
    if (!t.defined() || t.dim() != 3 || t.size(0) != heads || t.size(2) != shape_.head_dim ||
        t.size(1) != inputs.queries.size(1) || t.scalar_type() != at::kFloat) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "attention %s must be float32 [%d, n, %d] with the queries' n, got %s %s", name, heads,
          shape_.head_dim, t.defined() ? c10::str(t.sizes()) : "undefined",
          t.defined() ? c10::toString(t.scalar_type()) : ""));
    }
    return absl::OkStatus();
  };
  if (!inputs.queries.defined() || inputs.queries.dim() != 3) {
    return absl::InvalidArgumentError("attention queries must be [q_heads, n, head_dim]");
  }
  KVLAB_RETURN_IF_ERROR(check(inputs.queries, "queries", shape_.q_heads));
  KVLAB_RETURN_IF_ERROR(check(inputs.keys, "keys", shape_.kv_heads));
  KVLAB_RETURN_IF_ERROR(check(inputs.values, "values", shape_.kv_heads));
  if (inputs.first_position < 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("first_position must be >= 0, got %d", inputs.first_position));
  }
  return absl::OkStatus();
}

absl::StatusOr<AttentionResult> BaseKvCache::Attend(int layer, const AttentionInputs& inputs) {
  KVLAB_RETURN_IF_ERROR(CheckInputs(layer, inputs));
  return CatchTorchErrors(absl::StrFormat("attention in layer %d", layer),
                          [&] { return AttendUnchecked(layer, inputs); });
}

absl::StatusOr<AttentionResult> BaseKvCache::AttendUnchecked(int layer,
                                                             const AttentionInputs& inputs) {
  const int64_t n = inputs.queries.size(1);
  const at::Tensor new_positions = at::arange(
      inputs.first_position, inputs.first_position + n,
      at::TensorOptions().dtype(at::kLong).device(inputs.keys.device()));
  KVLAB_RETURN_IF_ERROR(StoreNewTokens(layer, inputs, new_positions));

  AttentionResult result;
  // A cache whose caller reads neither the output nor a statistic of the attention
  // (a shared prefill's target that gathers none) only stores.
  if (inputs.output_wanted || inputs.stats_request.any()) {
    const at::Tensor queries = RotatedQueries(layer, inputs.queries, new_positions);
    // The one-query path reports rows averaged over each group only.
    std::optional<DecodeStep> decode;
    if (!inputs.stats_request.recent_by_query_head) {
      KVLAB_ASSIGN_OR_RETURN(decode, PlanDecodeStep(layer, queries));
    }
    if (decode.has_value()) {
      KVLAB_ASSIGN_OR_RETURN(result,
                             AttendOneQuery(layer, queries, *decode, inputs.stats_request));
    } else {
      KVLAB_ASSIGN_OR_RETURN(result, AttendInBlocks(layer, queries, inputs));
    }
  }
  const Layer& l = layers_[layer];
  if (inputs.stats_request.keys) {
    result.stats.keys = positions_->KeysAtOriginalPositions(ropes_[layer], l.keys->Materialize(),
                                                            l.positions->View());
  }
  if (inputs.stats_request.values) result.stats.values = l.values->Materialize();
  if (shape_.window(layer) > 0) {
    KVLAB_RETURN_IF_ERROR(DropOutsideWindow(layer, inputs.first_position + n));
  }
  return result;
}

absl::Status BaseKvCache::StoreNewTokens(int layer, const AttentionInputs& inputs,
                                         const at::Tensor& new_positions) {
  Layer& l = layers_[layer];
  const int64_t n = new_positions.size(0);
  if (l.positions->length() == 0) {
    l.consecutive = true;
    l.first_held = inputs.first_position;
  } else if (l.first_held + l.positions->length() != inputs.first_position) {
    l.consecutive = false;
  }
  KVLAB_RETURN_IF_ERROR(
      l.keys->Append(positions_->KeysToStore(ropes_[layer], inputs.keys, new_positions)));
  KVLAB_RETURN_IF_ERROR(l.values->Append(inputs.values));
  KVLAB_RETURN_IF_ERROR(
      l.positions->Append(new_positions.unsqueeze(0).expand({shape_.kv_heads, n})));
  peak_held_bytes_ = std::max(peak_held_bytes_, Memory().held_bytes);
  return absl::OkStatus();
}

at::Tensor BaseKvCache::RotatedQueries(int layer, const at::Tensor& queries,
                                       const at::Tensor& new_positions) const {
  return positions_->RotateQueries(ropes_[layer], queries, new_positions, Length(layer));
}

absl::StatusOr<std::optional<BaseKvCache::DecodeStep>> BaseKvCache::PlanDecodeStep(
    int layer, const at::Tensor& queries) const {
  // One query of the usual cache: it sees every held token, so no mask is needed. A
  // sliding-window layer may hold tokens outside the window (heads that eviction left
  // different), and slot positions rotate keys at read time: both take the blocks.
  if (queries.size(1) != 1 || !positions_->StoresKeysRotated() || shape_.window(layer) > 0 ||
      decode_kernel_ == DecodeKernelUse::kNever) {
    return std::nullopt;
  }
  if (decode_kernel_ == DecodeKernelUse::kWhenFused && !queries.is_cuda()) return std::nullopt;
  const Layer& l = layers_[layer];
  const auto key_runs = l.keys->DecodeRuns();
  const auto value_runs = l.values->DecodeRuns();
  if (!key_runs.has_value() || !value_runs.has_value()) return std::nullopt;
  DecodeStep step;
  KVLAB_ASSIGN_OR_RETURN(step.segments, kernels::PairRuns(*key_runs, *value_runs));
  absl::StatusOr<kernels::FusedDecodeStep> fused =
      kernels::FusedDecodeStep::Prepare(GroupedByKvHead(queries).squeeze(2), step.segments);
  if (fused.ok()) {
    step.fused = *std::move(fused);
  } else if (decode_kernel_ == DecodeKernelUse::kWhenFused) {
    return std::nullopt;
  }
  return step;
}

at::Tensor BaseKvCache::GroupedByKvHead(const at::Tensor& queries) const {
  // [q_heads, n, d] -> [kv_heads, group, n, d]: the query heads of a KV head, together.
  return queries.reshape({shape_.kv_heads, shape_.q_heads / shape_.kv_heads, queries.size(1),
                          shape_.head_dim});
}

double BaseKvCache::ScoreScale() const {
  return 1.0 / std::sqrt(static_cast<double>(shape_.head_dim));
}

absl::StatusOr<AttentionResult> BaseKvCache::AttendOneQuery(
    int layer, const at::Tensor& queries, const DecodeStep& step,
    const AttentionStatsRequest& request) const {
  const at::Tensor grouped = GroupedByKvHead(queries).squeeze(2).contiguous();
  at::Tensor out = at::empty_like(grouped);
  AttentionResult result;
  // With one query, its attention row averaged over the group is both statistics.
  at::Tensor row;
  if (request.any()) row = at::zeros({shape_.kv_heads, Length(layer)}, queries.options());
  if (step.fused.has_value()) {
    KVLAB_RETURN_IF_ERROR(step.fused->Run(ScoreScale(), out, row));
  } else {
    KVLAB_RETURN_IF_ERROR(kernels::DecodeAttention(grouped, step.segments, ScoreScale(), out, row));
  }
  result.output = out.view({shape_.q_heads, 1, shape_.head_dim});
  if (request.column_sums) result.stats.column_sums = row;
  if (request.recent_queries > 0) {
    result.stats.recent = request.column_sums ? row.unsqueeze(1).clone() : row.unsqueeze(1);
  }
  return result;
}

absl::StatusOr<AttentionResult> BaseKvCache::AttendInBlocks(int layer, const at::Tensor& queries,
                                                            const AttentionInputs& inputs) const {
  const Layer& l = layers_[layer];
  const int64_t n = queries.size(1);
  const int64_t kv_heads = shape_.kv_heads;
  const int64_t group = shape_.q_heads / kv_heads;
  const int64_t d = shape_.head_dim;
  const int64_t window = shape_.window(layer);
  const int64_t length = l.keys->length();
  const int64_t past = length - n;  // Tokens held before this step.

  const BlockScores score = positions_->ScoreBlocks(ropes_[layer], *l.keys);
  const at::Tensor grouped = GroupedByKvHead(queries);
  // A local layer's keys by original position ([kv_heads, 1, 1, length]), for its window.
  const at::Tensor key_positions =
      window > 0 ? l.positions->View().unsqueeze(1).unsqueeze(1) : at::Tensor();

  AttentionResult result;
  std::vector<at::Tensor> outputs;
  const AttentionStatsRequest& request = inputs.stats_request;
  const int64_t recent = std::min(request.recent_queries, n);
  std::vector<at::Tensor> recent_rows;
  std::vector<at::Tensor> recent_rows_by_head;
  if (request.column_sums) {
    result.stats.column_sums = at::zeros({kv_heads, length}, queries.options());
  }
  // Without the output or the column sums, only the recent queries are scored.
  const int64_t first_query = inputs.output_wanted || request.column_sums ? 0 : n - recent;
  // A local layer holding consecutive positions: a block of queries sees only the keys
  // from its first query's window to its last query, so only those are scored (every
  // other one would be masked to a probability of zero).
  const bool by_range = window > 0 && l.consecutive;
  for (int64_t begin = first_query; begin < n; begin += kQueryBlock) {
    const int64_t rows = std::min(kQueryBlock, n - begin);
    const int64_t keys_begin =
        by_range ? std::clamp<int64_t>(inputs.first_position + begin - window + 1 - l.first_held,
                                       0, length)
                 : 0;
    const int64_t keys_end = by_range ? past + begin + rows : length;
    const int64_t span = keys_end - keys_begin;
    // [..., span] -> [..., length], zero where the block sees nothing.
    const auto widen = [&](const at::Tensor& t) {
      if (span == length) return t;
      std::vector<int64_t> sizes = t.sizes().vec();
      sizes.back() = length;
      at::Tensor wide = at::zeros(sizes, t.options());
      wide.narrow(-1, keys_begin, span).copy_(t);
      return wide;
    };
    const at::Tensor block = grouped.narrow(2, begin, rows).reshape({kv_heads, group * rows, d});
    KVLAB_ASSIGN_OR_RETURN(at::Tensor scores, score(block, keys_begin, keys_end));
    scores.mul_(ScoreScale());
    at::Tensor probs = scores.view({kv_heads, group, rows, span});
    MaskUnseen(probs, past + begin - keys_begin, inputs.first_position + begin, window,
               window > 0 ? key_positions.narrow(-1, keys_begin, span) : key_positions);
    probs = at::softmax(probs, -1);
    if (inputs.output_wanted) {
      KVLAB_ASSIGN_OR_RETURN(const at::Tensor weighted,
                             l.values->MultiplyRange(probs.view({kv_heads, group * rows, span}),
                                                     keys_begin, keys_end));
      outputs.push_back(weighted.view({kv_heads, group, rows, d}));
    }
    if (request.column_sums) {
      KVLAB_RETURN_IF_ERROR(kernels::AccumulateAttention(
          probs, result.stats.column_sums.narrow(1, keys_begin, span)));
    }
    const int64_t first_recent = std::max(begin, n - recent);
    if (recent > 0 && first_recent < begin + rows) {
      const at::Tensor last_rows =
          widen(probs.narrow(2, first_recent - begin, begin + rows - first_recent));
      recent_rows.push_back(last_rows.mean(1));
      if (request.recent_by_query_head) recent_rows_by_head.push_back(last_rows);
    }
  }
  if (inputs.output_wanted) {
    const at::Tensor output = outputs.size() == 1 ? outputs[0] : at::cat(outputs, 2);
    result.output = output.reshape({shape_.q_heads, n, d});
  }
  if (!recent_rows.empty()) result.stats.recent = at::cat(recent_rows, 1);
  if (!recent_rows_by_head.empty()) {
    result.stats.recent_by_query_head = at::cat(recent_rows_by_head, 2);
  }
  return result;
}

absl::Status BaseKvCache::DropOutsideWindow(int layer, int64_t next_position) {
  Layer& l = layers_[layer];
  const int64_t length = l.positions->length();
  if (length == 0) return absl::OkStatus();
  const int64_t oldest_visible = next_position - shape_.window(layer) + 1;
  int64_t drop = 0;
  if (l.consecutive) {
    // Known on the host: no read of the positions back from the device each step.
    drop = std::clamp<int64_t>(oldest_visible - l.first_held, 0, length);
  } else {
    // Held positions ascend along each head's row, so a head's unseeable tokens are a
    // prefix of it. Heads that an eviction policy left with different tokens may
    // differ in that prefix; the layer drops what all of them can, and the window mask
    // hides the rest until then.
    drop = (l.positions->View() < oldest_visible).sum(1).min().item<int64_t>();
  }
  if (drop == 0) return absl::OkStatus();
  const at::Tensor keep = at::arange(drop, length, l.positions->View().options())
                              .unsqueeze(0)
                              .expand({shape_.kv_heads, length - drop});
  KVLAB_RETURN_IF_ERROR(l.keys->Retain(keep));
  KVLAB_RETURN_IF_ERROR(l.values->Retain(keep));
  KVLAB_RETURN_IF_ERROR(l.positions->Retain(keep));
  l.first_held += drop;
  return absl::OkStatus();
}

absl::Status BaseKvCache::Retain(int layer, const at::Tensor& keep) {
  if (layer < 0 || layer >= shape_.num_layers) {
    return absl::InvalidArgumentError(absl::StrFormat("layer %d out of range", layer));
  }
  Layer& l = layers_[layer];
  return CatchTorchErrors(absl::StrFormat("retain in layer %d", layer), [&]() -> absl::Status {
    KVLAB_RETURN_IF_ERROR(l.keys->Retain(keep));
    KVLAB_RETURN_IF_ERROR(l.values->Retain(keep));
    KVLAB_RETURN_IF_ERROR(l.positions->Retain(keep));
    // What is kept is no longer known on the host, unless nothing is.
    l.consecutive = l.positions->length() == 0;
    return absl::OkStatus();
  });
}

int64_t BaseKvCache::Length(int layer) const { return layers_[layer].keys->length(); }

at::Tensor BaseKvCache::Positions(int layer) const { return layers_[layer].positions->View(); }

CacheMemory BaseKvCache::Memory() const {
  CacheMemory memory;
  for (const Layer& l : layers_) {
    memory.held_bytes += l.keys->held_bytes() + l.values->held_bytes();
    memory.allocated_bytes += l.keys->allocated_bytes() + l.values->allocated_bytes();
    memory.held_tokens += l.keys->length();
    memory.metadata_bytes += l.positions->held_bytes() + l.keys->metadata_bytes() +
                             l.values->metadata_bytes();
  }
  memory.peak_held_bytes = std::max(peak_held_bytes_, memory.held_bytes);
  return memory;
}

}  // namespace kvlab
