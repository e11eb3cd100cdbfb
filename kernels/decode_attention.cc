#include "kernels/decode_attention.h"

#include <ATen/ATen.h>
#include <c10/core/DeviceGuard.h>

#include <algorithm>
#include <numeric>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "kernels/attention_scores.h"
#include "kernels/attention_stats.h"
#include "kernels/cuda_build.h"
#include "kernels/cuda_stream.h"
#include "kernels/decode_attention_cuda.h"
#include "kernels/weighted_values.h"

namespace kvlab::kernels {

namespace {

// Every tensor a view reads, for the device checks.
std::vector<at::Tensor> TensorsOf(const CacheRowsView& view) {
  if (const auto* v = std::get_if<TokenGroupsView>(&view)) return {v->levels, v->scale, v->zero};
  if (const auto* v = std::get_if<ChannelBlocksView>(&view)) {
    return {v->levels, v->block_of, v->scale, v->zero};
  }
  return {std::get<DenseRowsView>(view).rows};
}

absl::StatusOr<int64_t> TokensOf(const CacheRowsView& view) {
  const at::Tensor first = TensorsOf(view)[0];
  if (!first.defined() || first.dim() != 3) {
    return absl::InvalidArgumentError("cache rows must be [heads, tokens, ...]");
  }
  return first.size(1);
}

absl::Status CheckInputs(const at::Tensor& queries, absl::Span<const DecodeSegment> segments,
                         const at::Tensor& out, const at::Tensor& column_sums) {
  if (!queries.defined() || queries.dim() != 3 || queries.scalar_type() != at::kFloat) {
    return absl::InvalidArgumentError("decode queries must be float32 [kv_heads, group, dim]");
  }
  const c10::Device device = queries.device();
  if (!out.defined() || !out.is_contiguous() || out.scalar_type() != at::kFloat ||
      out.sizes() != queries.sizes() || out.device() != device) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "decode output must be contiguous float32 %s on %s", c10::str(queries.sizes()),
        device.str()));
  }
  int64_t total = 0;
  for (const DecodeSegment& segment : segments) {
    KVLAB_ASSIGN_OR_RETURN(const int64_t keys, TokensOf(segment.keys));
    KVLAB_ASSIGN_OR_RETURN(const int64_t values, TokensOf(segment.values));
    if (keys != values) {
      return absl::InvalidArgumentError(
          absl::StrFormat("a decode segment holds %d keys but %d values", keys, values));
    }
    total += keys;
    for (const CacheRowsView* view : {&segment.keys, &segment.values}) {
      for (const at::Tensor& t : TensorsOf(*view)) {
        if (t.defined() && t.device() != device) {
          return absl::InvalidArgumentError(absl::StrFormat(
              "cache tensors must be on the queries' device %s, found one on %s", device.str(),
              t.device().str()));
        }
      }
    }
  }
  if (column_sums.defined() &&
      (column_sums.dim() != 2 || column_sums.scalar_type() != at::kFloat ||
       column_sums.size(0) != queries.size(0) || column_sums.size(1) != total ||
       column_sums.device() != device)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "column sums must be float32 [%d, %d] on %s", queries.size(0), total, device.str()));
  }
  return absl::OkStatus();
}

// The unfused path: the dense rows' fp16 and bf16 become transient fp32 copies.
absl::StatusOr<at::Tensor> ComposedScores(const at::Tensor& queries, const CacheRowsView& keys) {
  if (const auto* v = std::get_if<TokenGroupsView>(&keys)) return AttentionScores(queries, *v);
  if (const auto* v = std::get_if<ChannelBlocksView>(&keys)) return AttentionScores(queries, *v);
  return AttentionScores(queries, DenseRowsView{std::get<DenseRowsView>(keys).rows.to(at::kFloat)});
}

absl::StatusOr<at::Tensor> ComposedValues(const at::Tensor& weights, const CacheRowsView& values) {
  if (const auto* v = std::get_if<TokenGroupsView>(&values)) return WeightedValues(weights, *v);
  if (const auto* v = std::get_if<ChannelBlocksView>(&values)) return WeightedValues(weights, *v);
  return WeightedValues(weights,
                        DenseRowsView{std::get<DenseRowsView>(values).rows.to(at::kFloat)});
}

absl::Status Composed(const at::Tensor& queries, absl::Span<const DecodeSegment> segments,
                      double scale, at::Tensor& out, at::Tensor column_sums) {
  std::vector<at::Tensor> scores;
  for (const DecodeSegment& segment : segments) {
    KVLAB_ASSIGN_OR_RETURN(at::Tensor s, ComposedScores(queries, segment.keys));
    scores.push_back(std::move(s));
  }
  const at::Tensor probs = at::softmax(at::cat(scores, 2).mul_(scale), -1);
  out.zero_();
  int64_t first = 0;
  for (size_t i = 0; i < segments.size(); ++i) {
    const int64_t tokens = scores[i].size(2);
    if (tokens > 0) {
      KVLAB_ASSIGN_OR_RETURN(
          const at::Tensor part,
          ComposedValues(probs.narrow(2, first, tokens).contiguous(), segments[i].values));
      out.add_(part);
    }
    first += tokens;
  }
  if (column_sums.defined()) {
    KVLAB_RETURN_IF_ERROR(AccumulateAttention(probs.unsqueeze(2), column_sums));
  }
  return absl::OkStatus();
}

absl::StatusOr<QuantizedRows> DescribeForDecode(const CacheRowsView& view) {
  return std::visit([](const auto& v) { return Describe(v); }, view);
}

// The segments as the fused kernels read them, or why they cannot.
absl::StatusOr<std::vector<cuda::DecodeSegmentRows>> FusedSegments(
    const at::Tensor& queries, absl::Span<const DecodeSegment> segments) {
  if (!queries.is_cuda()) return absl::FailedPreconditionError("not on a CUDA device");
  if (segments.size() > static_cast<size_t>(cuda::kMaxDecodeSegments)) {
    return absl::FailedPreconditionError("more segments than the fused kernels take");
  }
  std::vector<cuda::DecodeSegmentRows> rows;
  for (const DecodeSegment& segment : segments) {
    cuda::DecodeSegmentRows s;
    KVLAB_ASSIGN_OR_RETURN(s.keys, DescribeForDecode(segment.keys));
    KVLAB_ASSIGN_OR_RETURN(s.values, DescribeForDecode(segment.values));
    KVLAB_ASSIGN_OR_RETURN(s.tokens, TokensOf(segment.keys));
#if KVLAB_WITH_CUDA
    if (const char* why = cuda::DecodeUnsupported(queries.size(2), queries.size(1), s)) {
      return absl::FailedPreconditionError(why);
    }
#else
    return CudaNotBuilt();
#endif
    rows.push_back(s);
  }
  return rows;
}

}  // namespace

absl::StatusOr<std::vector<DecodeSegment>> PairRuns(absl::Span<const CacheRowsView> keys,
                                                    absl::Span<const CacheRowsView> values) {
  std::vector<int64_t> key_lengths, value_lengths;
  for (const CacheRowsView& run : keys) {
    KVLAB_ASSIGN_OR_RETURN(const int64_t tokens, TokensOf(run));
    key_lengths.push_back(tokens);
  }
  for (const CacheRowsView& run : values) {
    KVLAB_ASSIGN_OR_RETURN(const int64_t tokens, TokensOf(run));
    value_lengths.push_back(tokens);
  }
  const int64_t key_total = std::accumulate(key_lengths.begin(), key_lengths.end(), int64_t{0});
  const int64_t value_total =
      std::accumulate(value_lengths.begin(), value_lengths.end(), int64_t{0});
  if (key_total != value_total) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "key runs hold %d tokens but value runs hold %d", key_total, value_total));
  }
  // Walk both run lists at once; each segment ends where the nearer run ends.
  std::vector<DecodeSegment> segments;
  size_t k = 0, v = 0;
  int64_t key_offset = 0, value_offset = 0;  // Tokens of the current runs already used.
  while (k < keys.size() && v < values.size()) {
    const int64_t count = std::min(key_lengths[k] - key_offset, value_lengths[v] - value_offset);
    if (count > 0) {
      const auto narrow = [&](const CacheRowsView& run, int64_t start) {
        return std::visit(
            [&](const auto& view) { return CacheRowsView(NarrowTokens(view, start, count)); },
            run);
      };
      segments.push_back({narrow(keys[k], key_offset), narrow(values[v], value_offset)});
    }
    key_offset += count;
    value_offset += count;
    if (key_offset == key_lengths[k]) ++k, key_offset = 0;
    if (value_offset == value_lengths[v]) ++v, value_offset = 0;
  }
  return segments;
}

absl::Status DecodeAttention(const at::Tensor& queries, absl::Span<const DecodeSegment> segments,
                             double scale, at::Tensor& out, at::Tensor column_sums) {
  KVLAB_RETURN_IF_ERROR(CheckInputs(queries, segments, out, column_sums));
  if (column_sums.defined() && column_sums.size(1) > 1 && column_sums.stride(1) != 1) {
    return absl::InvalidArgumentError("column sums must have contiguous rows");
  }
  const at::Tensor q = queries.contiguous();
  absl::StatusOr<FusedDecodeStep> fused = FusedDecodeStep::Prepare(q, segments);
  if (fused.ok()) return fused->Run(scale, out, column_sums);
  if (q.is_cuda() && !KVLAB_WITH_CUDA) return CudaNotBuilt();
  return Composed(q, segments, scale, out, column_sums);
}

absl::StatusOr<FusedDecodeStep> FusedDecodeStep::Prepare(
    const at::Tensor& queries, absl::Span<const DecodeSegment> segments) {
  if (!queries.defined() || queries.dim() != 3) {
    return absl::InvalidArgumentError("decode queries must be float32 [kv_heads, group, dim]");
  }
  FusedDecodeStep step;
  step.queries_ = queries.contiguous();
  KVLAB_ASSIGN_OR_RETURN(step.rows_, FusedSegments(step.queries_, segments));
  for (const cuda::DecodeSegmentRows& s : step.rows_) step.tokens_ += s.tokens;
  return step;
}

absl::Status FusedDecodeStep::Run(double scale, at::Tensor& out, at::Tensor column_sums) const {
  const at::Tensor& q = queries_;
  if (!out.defined() || !out.is_contiguous() || out.scalar_type() != at::kFloat ||
      out.sizes() != q.sizes() || out.device() != q.device()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "decode output must be contiguous float32 %s on %s", c10::str(q.sizes()),
        q.device().str()));
  }
  if (column_sums.defined() &&
      (column_sums.dim() != 2 || column_sums.scalar_type() != at::kFloat ||
       column_sums.size(0) != q.size(0) || column_sums.size(1) != tokens_ ||
       column_sums.device() != q.device() ||
       (column_sums.size(1) > 1 && column_sums.stride(1) != 1))) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "column sums must be float32 [%d, %d] with contiguous rows on %s", q.size(0), tokens_,
        q.device().str()));
  }
  if (tokens_ == 0) {
    out.zero_();
    return absl::OkStatus();
  }
#if KVLAB_WITH_CUDA
  const c10::DeviceGuard guard(q.device());
  const int64_t kv_heads = q.size(0), group = q.size(1), dim = q.size(2);
  const int count = static_cast<int>(rows_.size());
  const cuda::DecodePlan plan = cuda::PlanDecodeAttention(kv_heads, group, dim, rows_.data(),
                                                          count, column_sums.defined());
  at::Tensor workspace = at::empty({std::max<int64_t>(1, plan.workspace_floats)}, q.options());
  const char* error = cuda::LaunchDecodeAttention(
      q.data_ptr<float>(), kv_heads, group, dim, static_cast<float>(scale), rows_.data(), count,
      plan, workspace.data_ptr<float>(), out.data_ptr<float>(),
      column_sums.defined() ? column_sums.data_ptr<float>() : nullptr,
      column_sums.defined() ? column_sums.stride(0) : 0, CurrentCudaStream(q.device()));
  if (error != nullptr) return absl::InternalError(absl::StrCat("decode attention: ", error));
  return absl::OkStatus();
#else
  (void)scale;
  return CudaNotBuilt();
#endif
}

}  // namespace kvlab::kernels
