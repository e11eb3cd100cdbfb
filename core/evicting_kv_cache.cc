#include "core/evicting_kv_cache.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "base/torch_status.h"
#include "core/device_check.h"

namespace kvlab {

absl::StatusOr<std::unique_ptr<EvictingKvCache>> EvictingKvCache::Create(
    std::unique_ptr<KvCache> inner, std::unique_ptr<EvictionPolicy> policy,
    std::vector<int64_t> layer_budgets, EvictionSchedule schedule, int64_t sequence,
    bool record, std::optional<LayerRopes> ropes, SeenFraction seen_fraction) {
  if (inner == nullptr || policy == nullptr) {
    return absl::InvalidArgumentError("evicting cache needs an inner cache and a policy");
  }
  if (static_cast<int>(layer_budgets.size()) != inner->num_layers()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "evicting cache has %d budgets for %d layers", layer_budgets.size(), inner->num_layers()));
  }
  if (seen_fraction.fraction != 0.0) {
    if (!(seen_fraction.fraction > 0.0 && seen_fraction.fraction < 1.0) ||
        seen_fraction.interval < 1) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "a fraction-of-seen budget needs a fraction in (0, 1) and an interval >= 1, got %g "
          "and %d",
          seen_fraction.fraction, seen_fraction.interval));
    }
    if (schedule != EvictionSchedule::kWheneverOverBudget) {
      return absl::InvalidArgumentError(
          "budget.fraction_of_seen compresses while decoding, and this protocol compresses "
          "once after the prefill: use budget.fraction or budget.tokens");
    }
    // Set by each compression.
    std::fill(layer_budgets.begin(), layer_budgets.end(), 0);
  } else {
    for (int64_t b : layer_budgets) {
      if (b < 1) return absl::InvalidArgumentError("every layer budget must be >= 1");
    }
  }
  if (policy->AllocatesPerHead() && schedule != EvictionSchedule::kOnceAfterPrefill) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "policy '%s' gives each KV head its own budget, which is done once, after the "
        "prefill: it needs a protocol that compresses once (compress_once)",
        policy->Name()));
  }
  if (policy->AllocatesLayers()) {
    if (schedule != EvictionSchedule::kOnceAfterPrefill) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "policy '%s' splits the budget over layers from the prefill, which is done once: "
          "it needs a protocol that compresses once (compress_once)",
          policy->Name()));
    }
    if (policy->AllocatesPerHead() || record) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "policy '%s' splits the budget over layers: it neither splits it over heads too "
          "nor records its evictions",
          policy->Name()));
    }
    for (int64_t b : layer_budgets) {
      if (b <= policy->ObservationWindow()) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "policy '%s' keeps its observation window of %d tokens in every layer: every "
            "layer budget must exceed it, got %d",
            policy->Name(), policy->ObservationWindow(), b));
      }
    }
  }
  if (policy->Needs().queries && !ropes.has_value()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "policy '%s' reads the queries and needs the model's rotary embeddings",
        policy->Name()));
  }
  return std::unique_ptr<EvictingKvCache>(
      new EvictingKvCache(std::move(inner), std::move(policy), std::move(layer_budgets), schedule,
                          sequence, record, std::move(ropes), seen_fraction));
}

EvictingKvCache::EvictingKvCache(std::unique_ptr<KvCache> inner,
                                 std::unique_ptr<EvictionPolicy> policy,
                                 std::vector<int64_t> budgets, EvictionSchedule schedule,
                                 int64_t sequence, bool record,
                                 std::optional<LayerRopes> ropes, SeenFraction seen_fraction)
    : ForwardingKvCache(std::move(inner)),
      policy_(std::move(policy)),
      needs_(policy_->Needs()),
      budgets_(std::move(budgets)),
      schedule_(schedule),
      sequence_(sequence),
      ropes_(std::move(ropes)),
      stats_(num_layers()),
      record_(record),
      evictions_(record ? num_layers() : 0),
      seen_fraction_(seen_fraction) {
  if (policy_->AllocatesLayers()) {
    for (int64_t b : budgets_) cascade_total_ += b - policy_->ObservationWindow();
    cascade_.resize(budgets_.size());
  }
}

int64_t EvictingKvCache::StepBudget(int layer, int64_t seen_before, int64_t n) const {
  if (seen_fraction_.fraction == 0.0) return budgets_[layer];
  const int64_t seen = seen_before + n;
  // Compressed only when the step reaches the next multiple of the interval.
  if (seen / seen_fraction_.interval == seen_before / seen_fraction_.interval) {
    return std::numeric_limits<int64_t>::max();
  }
  // floor, as kvpress keeps int(length x (1 - compression_ratio)) tokens.
  return std::max<int64_t>(
      1, static_cast<int64_t>(std::floor(seen_fraction_.fraction * static_cast<double>(seen))));
}

absl::StatusOr<AttentionResult> EvictingKvCache::Attend(int layer, const AttentionInputs& inputs) {
  if (layer < 0 || layer >= num_layers()) {
    return absl::InvalidArgumentError(absl::StrFormat("layer %d out of range", layer));
  }
  // Compressed once already: the decode only appends.
  if (schedule_ == EvictionSchedule::kOnceAfterPrefill && stats_[layer].step > 0) {
    stats_[layer].step += inputs.keys.size(1);
    return inner().Attend(layer, inputs);
  }
  AttentionInputs request = inputs;
  request.stats_request.column_sums |= needs_.accumulated_attention;
  // The held keys and values are a copy: asked for only when this step may evict.
  const int64_t budget = StepBudget(layer, stats_[layer].step, inputs.keys.size(1));
  // A layer within its budget still takes part in a cascade: its share may be smaller.
  const bool cascades = policy_->AllocatesLayers();
  const bool may_evict = (inner().Length(layer) + inputs.keys.size(1) > budget || cascades) &&
                         policy_->CompressesLayer(layer);
  request.stats_request.keys |= needs_.keys && may_evict;
  request.stats_request.values |= needs_.values && may_evict;
  request.stats_request.recent_queries = std::max(
      {request.stats_request.recent_queries, needs_.recent_queries, record_ ? int64_t{1} : 0});
  request.stats_request.recent_by_query_head |= needs_.recent_by_query_head && may_evict;
  const int64_t held_before = inner().Length(layer);
  KVLAB_ASSIGN_OR_RETURN(AttentionResult result, inner().Attend(layer, request));

  KVLAB_RETURN_IF_ERROR(CatchTorchErrors(
      absl::StrFormat("eviction in layer %d", layer), [&]() -> absl::Status {
        LayerStats& s = stats_[layer];
        const int64_t n = inputs.keys.size(1);
        const int64_t kv_heads = inputs.keys.size(0);
        const auto options = at::TensorOptions().dtype(at::kFloat).device(inputs.keys.device());
        if (s.step == 0) s.first_position = inputs.first_position;
        s.step += n;
        if (needs_.accumulated_attention) {
          if (s.accumulated == nullptr) {
            s.accumulated = std::make_unique<TokenBuffer>(kv_heads, std::vector<int64_t>{}, options);
          }
          KVLAB_RETURN_IF_ERROR(s.accumulated->Append(at::zeros({kv_heads, n}, options)));
          s.accumulated->View().add_(result.stats.column_sums);
        }
        if (needs_.key_norms) {
          if (s.key_norms == nullptr) {
            s.key_norms = std::make_unique<TokenBuffer>(kv_heads, std::vector<int64_t>{}, options);
          }
          KVLAB_RETURN_IF_ERROR(s.key_norms->Append(inputs.keys.norm(2, -1)));
        }
        // A sliding-window layer drops its oldest tokens on its own, after attention:
        // the statistics follow it.
        const int64_t held = inner().Length(layer);
        AttentionStats stats = result.stats;
        if (const int64_t dropped = held_before + n - held; dropped > 0) {
          const at::Tensor keep = at::arange(dropped, held + dropped, at::TensorOptions()
                                                                          .dtype(at::kLong)
                                                                          .device(options.device()))
                                      .unsqueeze(0)
                                      .expand({kv_heads, held});
          if (s.accumulated != nullptr) KVLAB_RETURN_IF_ERROR(s.accumulated->Retain(keep));
          if (s.key_norms != nullptr) KVLAB_RETURN_IF_ERROR(s.key_norms->Retain(keep));
          if (stats.recent.defined()) stats.recent = stats.recent.narrow(-1, dropped, held);
          if (stats.recent_by_query_head.defined()) {
            stats.recent_by_query_head = stats.recent_by_query_head.narrow(-1, dropped, held);
          }
          if (stats.keys.defined()) stats.keys = stats.keys.narrow(1, dropped, held);
          if (stats.values.defined()) stats.values = stats.values.narrow(1, dropped, held);
        }
        if ((held > budget || cascades) && policy_->CompressesLayer(layer)) {
          KVLAB_RETURN_IF_ERROR(Evict(layer, budget, stats, inputs.queries));
        }
        if (schedule_ == EvictionSchedule::kOnceAfterPrefill) {
          // Never read again: the memory a policy's statistics take is not held past
          // the compression.
          s.accumulated.reset();
          s.key_norms.reset();
        }
        return absl::OkStatus();
      }));
  // The caller gets only the statistics it asked for.
  if (!inputs.stats_request.column_sums) result.stats.column_sums = at::Tensor();
  if (inputs.stats_request.recent_queries == 0) result.stats.recent = at::Tensor();
  if (!inputs.stats_request.recent_by_query_head) {
    result.stats.recent_by_query_head = at::Tensor();
  }
  if (!inputs.stats_request.keys) result.stats.keys = at::Tensor();
  if (!inputs.stats_request.values) result.stats.values = at::Tensor();
  return result;
}

absl::Status EvictingKvCache::Evict(int layer, int64_t budget, const AttentionStats& stats,
                                    const at::Tensor& queries) {
  LayerStats& s = stats_[layer];
  if (seen_fraction_.fraction != 0.0) budgets_[layer] = budget;
  EvictionContext context;
  context.layer = layer;
  context.num_layers = num_layers();
  context.budget = budget;
  context.step = s.step;
  context.sequence = sequence_;
  context.first_position = s.first_position;
  context.positions = inner().Positions(layer);
  if (s.accumulated != nullptr) context.accumulated_attention = s.accumulated->View();
  if (s.key_norms != nullptr) context.key_norms = s.key_norms->View();
  // (Recording asks for one row at least: as many as the policy asks for, if it does.)
  if (needs_.recent_queries > 0) context.recent_attention = stats.recent;
  if (needs_.recent_by_query_head) {
    context.recent_attention_by_query_head = stats.recent_by_query_head;
  }
  context.keys = stats.keys;
  context.values = stats.values;
  if (needs_.queries) {
    context.queries = queries;
    context.rope = &(*ropes_)[layer];
  }

  if (policy_->AllocatesPerHead()) {
    return EvictPerHead(layer, context, stats.recent);
  }
  if (policy_->AllocatesLayers()) return Cascade(layer, context);
  KVLAB_ASSIGN_OR_RETURN(at::Tensor keep, policy_->SelectKeep(context));
  const int64_t kv_heads = context.positions.size(0);
  const int64_t length = context.positions.size(1);
  if (keep.dim() != 2 || keep.size(0) != kv_heads || keep.size(1) != context.budget ||
      keep.scalar_type() != at::kLong) {
    return absl::InternalError(absl::StrFormat(
        "policy '%s' returned %s %s, expected int64 [%d, %d]", policy_->Name(),
        c10::toString(keep.scalar_type()), c10::str(keep.sizes()), kv_heads, context.budget));
  }
  // Checked where keep lives: no host round trip per step on a GPU.
  KVLAB_RETURN_IF_ERROR(CheckOnDevice(
      keep.min().ge(0).logical_and(keep.max().lt(length)),
      absl::InternalError(absl::StrFormat("policy '%s' returned indices outside [0, %d)",
                                          policy_->Name(), length))));
  // Cache order stays oldest-first, which slot positions and recency rely on.
  keep = std::get<0>(keep.sort(1));
  KVLAB_RETURN_IF_ERROR(CheckOnDevice(
      (keep.narrow(1, 1, keep.size(1) - 1) != keep.narrow(1, 0, keep.size(1) - 1)).all(),
      absl::InternalError(
          absl::StrFormat("policy '%s' chose the same token twice", policy_->Name()))));
  if (record_) Record(layer, context, keep, stats.recent.select(1, stats.recent.size(1) - 1));
  return Retain(layer, keep);
}

absl::Status EvictingKvCache::EvictPerHead(int layer, const EvictionContext& context,
                                           const at::Tensor& recent) {
  KVLAB_ASSIGN_OR_RETURN(std::vector<at::Tensor> keep, policy_->SelectKeepPerHead(context));
  const int64_t kv_heads = context.positions.size(0);
  const int64_t length = context.positions.size(1);
  if (static_cast<int64_t>(keep.size()) != kv_heads) {
    return absl::InternalError(absl::StrFormat("policy '%s' chose for %d KV heads, expected %d",
                                               policy_->Name(), keep.size(), kv_heads));
  }
  int64_t total = 0;
  for (int64_t h = 0; h < kv_heads; ++h) {
    at::Tensor& k = keep[h];
    if (k.dim() != 1 || k.scalar_type() != at::kLong || k.size(0) < 1 || k.size(0) > length) {
      return absl::InternalError(absl::StrFormat(
          "policy '%s' returned %s %s for KV head %d, expected int64 [m], 1 <= m <= %d",
          policy_->Name(), c10::toString(k.scalar_type()), c10::str(k.sizes()), h, length));
    }
    total += k.size(0);
    k = std::get<0>(k.sort());
    KVLAB_RETURN_IF_ERROR(CheckOnDevice(
        k.min().ge(0).logical_and(k.max().lt(length)),
        absl::InternalError(absl::StrFormat("policy '%s' returned indices outside [0, %d)",
                                            policy_->Name(), length))));
    if (k.size(0) > 1) {
      KVLAB_RETURN_IF_ERROR(CheckOnDevice(
          (k.narrow(0, 1, k.size(0) - 1) != k.narrow(0, 0, k.size(0) - 1)).all(),
          absl::InternalError(
              absl::StrFormat("policy '%s' chose the same token twice", policy_->Name()))));
    }
  }
  if (total != kv_heads * context.budget) {
    return absl::InternalError(absl::StrFormat(
        "policy '%s' kept %d tokens over %d KV heads, expected %d x %d", policy_->Name(), total,
        kv_heads, kv_heads, context.budget));
  }
  if (record_) {
    LayerEvictions& e = evictions_[layer];
    // [kv_heads, length]: the last query's attention, each head's share on what it kept.
    const at::Tensor row = recent.select(1, recent.size(1) - 1).to(at::kFloat);
    std::vector<at::Tensor> retained, positions;
    int64_t longest = 0;
    for (const at::Tensor& k : keep) longest = std::max(longest, k.size(0));
    for (int64_t h = 0; h < kv_heads; ++h) {
      retained.push_back(row[h].index_select(0, keep[h]).sum() / row[h].sum());
      positions.push_back(at::constant_pad_nd(context.positions[h].index_select(0, keep[h]),
                                              {0, longest - keep[h].size(0)}, -1));
    }
    const at::Tensor mass = at::stack(retained);
    e.retained_mass_sum = e.evictions == 0 ? mass : e.retained_mass_sum + mass;
    e.kept_positions = at::stack(positions);
    ++e.evictions;
  }
  return RetainPerHead(layer, keep);
}

absl::Status EvictingKvCache::Cascade(int layer, const EvictionContext& context) {
  KVLAB_ASSIGN_OR_RETURN(const double preference, policy_->LayerPreference(context));
  if (!std::isfinite(preference) || preference < 0.0) {
    return absl::InternalError(absl::StrFormat(
        "policy '%s' gave layer %d the preference %g, expected a finite value >= 0",
        policy_->Name(), layer, preference));
  }
  KVLAB_ASSIGN_OR_RETURN(at::Tensor ranked, policy_->RankTokens(context));
  const int64_t kv_heads = context.positions.size(0);
  const int64_t length = context.positions.size(1);
  if (ranked.dim() != 2 || ranked.size(0) != kv_heads || ranked.size(1) != length ||
      ranked.scalar_type() != at::kLong) {
    return absl::InternalError(absl::StrFormat(
        "policy '%s' ranked %s %s, expected int64 [%d, %d]", policy_->Name(),
        c10::toString(ranked.scalar_type()), c10::str(ranked.sizes()), kv_heads, length));
  }
  const int64_t window = policy_->ObservationWindow();
  cascade_[layer] =
      CascadeLayer{preference, std::max<int64_t>(0, length - window), std::move(ranked)};

  // The layers prefilled so far share the whole model's total.
  std::vector<int> layers;
  std::vector<double> preferences;
  std::vector<int64_t> caps;
  for (int i = 0; i < num_layers(); ++i) {
    if (!cascade_[i].has_value()) continue;
    layers.push_back(i);
    preferences.push_back(cascade_[i]->preference);
    caps.push_back(cascade_[i]->cap);
  }
  const std::vector<int64_t> shares = PreferenceShares(preferences, cascade_total_, caps);
  for (size_t k = 0; k < layers.size(); ++k) {
    const int i = layers[k];
    CascadeLayer& c = *cascade_[i];
    const int64_t held = inner().Length(i);
    const int64_t keep_count =
        std::min(held, std::clamp<int64_t>(shares[k], 0, c.cap) + std::min(window, held));
    budgets_[i] = keep_count;
    if (keep_count >= held) continue;
    // The best keep_count, back in cache order; the ranking follows them to their new
    // places (a token's new index is its place in the sorted keep).
    const auto [keep, order] = c.ranked.narrow(1, 0, keep_count).sort(1);
    KVLAB_RETURN_IF_ERROR(Retain(i, keep));
    c.ranked = order.argsort(/*dim=*/1, /*descending=*/false);
  }
  return absl::OkStatus();
}

void EvictingKvCache::Record(int layer, const EvictionContext& context, const at::Tensor& keep,
                             const at::Tensor& last_query_attention) {
  LayerEvictions& e = evictions_[layer];
  const at::Tensor row = last_query_attention.to(at::kFloat);  // [kv_heads, length]
  const at::Tensor retained = row.gather(1, keep).sum(1) / row.sum(1);
  e.retained_mass_sum = e.evictions == 0 ? retained : e.retained_mass_sum + retained;
  e.kept_positions = context.positions.gather(1, keep);
  ++e.evictions;
}

absl::Status EvictingKvCache::RetainPerHead(int layer, absl::Span<const at::Tensor> keep) {
  KVLAB_RETURN_IF_ERROR(inner().RetainPerHead(layer, keep));
  stats_[layer].accumulated.reset();
  stats_[layer].key_norms.reset();
  return absl::OkStatus();
}

absl::Status EvictingKvCache::Retain(int layer, const at::Tensor& keep) {
  KVLAB_RETURN_IF_ERROR(inner().Retain(layer, keep));
  LayerStats& s = stats_[layer];
  if (s.accumulated != nullptr) KVLAB_RETURN_IF_ERROR(s.accumulated->Retain(keep));
  if (s.key_norms != nullptr) KVLAB_RETURN_IF_ERROR(s.key_norms->Retain(keep));
  return absl::OkStatus();
}

CacheMemory EvictingKvCache::Memory() const {
  CacheMemory memory = inner().Memory();
  for (const LayerStats& s : stats_) {
    if (s.accumulated != nullptr) memory.metadata_bytes += s.accumulated->held_bytes();
    if (s.key_norms != nullptr) memory.metadata_bytes += s.key_norms->held_bytes();
  }
  return memory;
}

}  // namespace kvlab
