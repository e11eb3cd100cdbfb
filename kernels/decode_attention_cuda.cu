// CUDA: fused decode attention (FlashDecoding) over int8, int4, fp32, fp16 and bf16
// caches. See decode_attention_cuda.h for the launch sequence.
//
// Split kernel layout: a block of 128 threads owns one (split, KV head). A token's row
// is read as 16-byte vectors by `kLanes` consecutive threads (row bytes / 16), so a
// warp reads 32 x 16 contiguous bytes of consecutive tokens; each thread keeps
// kUnroll such loads of keys and of values in flight. The lanes of a token reduce
// their partial dot products with shuffles; every query row of the KV head's group is
// scored from the same key read. Each token group keeps its own online softmax (max,
// sum, weighted values of its channels); the block merges them at the end.
//
// Quantized rows with one scale per 16-byte chunk (group a multiple of the chunk's
// channels) fold the scale out of the inner loops: q.(s (l - o) + z) = s (q.l) + (z - o s)
// sum(q). Finer groups (KIVI's per-channel key blocks) dequantize each channel.
//
// Scores live in the log2 domain (queries pre-multiplied by scale * log2(e), exp2f).
#include <cuda_runtime.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>

#include "kernels/decode_attention_cuda.h"
#include "kernels/decode_split_kernel.cuh"

namespace kvlab::kernels::cuda {

using decode::kMaxGroup;

namespace {

using decode::kLog2e;
using decode::LaunchDenseSplit;
using decode::LaunchInt4Split;
using decode::LaunchInt8Split;
using decode::SplitArgs;

constexpr int64_t kMinSplitTokens = 256;
constexpr int kBlocksPerSm = 8;      // Split target: enough warps to cover memory latency.
constexpr int kCombineThreads = 256;
constexpr int64_t kStatsTokensPerBlock = 2048;

// Block (h, 0): the output of KV head h, merged over all splits. Blocks (h, y > 0): a
// slice of the eviction statistics, with each query row's log-sum-exp.
__global__ void __launch_bounds__(kCombineThreads)
    DecodeCombineKernel(int group, int dim, int total_splits, const float* part_acc,
                        const float* part_max, const float* part_sum, float* out,
                        const float* scores, int64_t total_tokens, float* sums,
                        int64_t sums_head_stride) {
  const int64_t h = blockIdx.x;
  const float* head_max = part_max + h * total_splits * group;
  const float* head_sum = part_sum + h * total_splits * group;
  if (blockIdx.y == 0) {
    for (int i = threadIdx.x; i < group * dim; i += blockDim.x) {
      const int g = i / dim, d = i % dim;
      float m = -INFINITY;
      for (int s = 0; s < total_splits; ++s) m = fmaxf(m, head_max[s * group + g]);
      float total = 0.0f, value = 0.0f;
      for (int s = 0; s < total_splits; ++s) {
        const float split_max = head_max[s * group + g];
        if (split_max == -INFINITY) continue;
        const float factor = exp2f(split_max - m);
        total += head_sum[s * group + g] * factor;
        value += part_acc[((h * total_splits + s) * group + g) * dim + d] * factor;
      }
      out[(h * group + g) * dim + d] = value / total;
    }
    return;
  }
  __shared__ float log_total[kMaxGroup];
  if (threadIdx.x < group) {
    const int g = threadIdx.x;
    float m = -INFINITY;
    for (int s = 0; s < total_splits; ++s) m = fmaxf(m, head_max[s * group + g]);
    float total = 0.0f;
    for (int s = 0; s < total_splits; ++s) {
      const float split_max = head_max[s * group + g];
      if (split_max != -INFINITY) total += head_sum[s * group + g] * exp2f(split_max - m);
    }
    log_total[g] = m + log2f(total);
  }
  __syncthreads();
  const float inv_group = 1.0f / static_cast<float>(group);
  const int64_t first = (blockIdx.y - 1) * kStatsTokensPerBlock;
  const int64_t last = min(total_tokens, first + kStatsTokensPerBlock);
  for (int64_t t = first + threadIdx.x; t < last; t += blockDim.x) {
    float p = 0.0f;
    for (int g = 0; g < group; ++g) {
      p += exp2f(scores[(h * group + g) * total_tokens + t] - log_total[g]);
    }
    sums[h * sums_head_stride + t] += p * inv_group;
  }
}

void LaunchSegment(int64_t dim, const SplitArgs& args, dim3 grid, cudaStream_t stream) {
  switch (args.keys.encoding) {
    case Encoding::kInt8:
      return LaunchInt8Split(dim, args, grid, stream);
    case Encoding::kInt4:
      return LaunchInt4Split(dim, args, grid, stream);
    default:
      return LaunchDenseSplit(dim, args, grid, stream);
  }
}

bool Aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

const char* RowsUnsupported(int64_t dim, const QuantizedRows& rows) {
  if (rows.encoding == Encoding::kInt2) return "the fused decode kernels read 8- and 4-bit rows";
  if (!Aligned16(rows.data) || rows.head_stride % 16 != 0 || rows.row_stride % 16 != 0) {
    return "rows must start on 16-byte boundaries (data, head and row strides)";
  }
  const bool quantized = IsQuantized(rows.encoding);
  if (quantized && (rows.scale == nullptr || rows.group <= 0 || dim % rows.group != 0)) {
    return "quantized rows need scales and a group that divides the head dim";
  }
  return nullptr;
}

// Read once per device: later calls only ask which device is current (they may run
// inside a CUDA graph capture).
int MultiprocessorCount() {
  constexpr int kDevices = 64;
  static std::atomic<int> counts[kDevices] = {};
  int device = 0;
  if (cudaGetDevice(&device) != cudaSuccess || device < 0 || device >= kDevices) return 1;
  int count = counts[device].load(std::memory_order_relaxed);
  if (count == 0) {
    if (cudaDeviceGetAttribute(&count, cudaDevAttrMultiProcessorCount, device) != cudaSuccess) {
      return 1;
    }
    counts[device].store(count, std::memory_order_relaxed);
  }
  return std::max(count, 1);
}

}  // namespace

const char* DecodeUnsupported(int64_t dim, int64_t group, const DecodeSegmentRows& segment) {
  if (dim != 64 && dim != 128) return "the fused decode kernels take head dims 64 and 128";
  if (group < 1 || group > kMaxGroup) return "the fused decode kernels take 1 to 8 query rows per KV head";
  if (segment.keys.encoding != segment.values.encoding ||
      segment.keys.scale_encoding != segment.values.scale_encoding) {
    return "keys and values of a segment must share one encoding and scale encoding";
  }
  if (dim * BitsOf(segment.keys.encoding) / 8 > 32 * 16) {
    return "a row must fit one warp's 16-byte loads";
  }
  if (const char* why = RowsUnsupported(dim, segment.keys)) return why;
  return RowsUnsupported(dim, segment.values);
}

DecodePlan PlanDecodeAttention(int64_t kv_heads, int64_t group, int64_t dim,
                               const DecodeSegmentRows* segments, int count, bool stats) {
  DecodePlan plan;
  const int64_t target_blocks = static_cast<int64_t>(kBlocksPerSm) * MultiprocessorCount();
  const int64_t wanted = std::max<int64_t>(1, (target_blocks + kv_heads - 1) / kv_heads);
  int64_t total_tokens = 0;
  for (int i = 0; i < count; ++i) {
    const int64_t tokens = segments[i].tokens;
    total_tokens += tokens;
    if (tokens <= 0) continue;
    const int64_t most = (tokens + kMinSplitTokens - 1) / kMinSplitTokens;
    plan.splits[i] = static_cast<int>(std::min(wanted, most));
    plan.total_splits += plan.splits[i];
  }
  plan.workspace_floats = kv_heads * plan.total_splits * group * (dim + 2) +
                          (stats ? kv_heads * group * total_tokens : 0);
  return plan;
}

const char* LaunchDecodeAttention(const float* queries, int64_t kv_heads, int64_t group,
                                  int64_t dim, float scale, const DecodeSegmentRows* segments,
                                  int count, const DecodePlan& plan, float* workspace,
                                  float* out, float* column_sums, int64_t sums_head_stride,
                                  void* stream) {
  const cudaStream_t cuda_stream = static_cast<cudaStream_t>(stream);
  int64_t total_tokens = 0;
  for (int i = 0; i < count; ++i) total_tokens += segments[i].tokens;
  SplitArgs args{};
  args.queries = queries;
  args.group = static_cast<int>(group);
  args.scale_log2 = scale * kLog2e;
  args.total_tokens = total_tokens;
  args.total_splits = plan.total_splits;
  args.part_acc = workspace;
  args.part_max = args.part_acc + kv_heads * plan.total_splits * group * dim;
  args.part_sum = args.part_max + kv_heads * plan.total_splits * group;
  args.scores = column_sums != nullptr ? args.part_sum + kv_heads * plan.total_splits * group
                                       : nullptr;
  int64_t first_token = 0;
  for (int i = 0; i < count; ++i) {
    if (plan.splits[i] > 0) {
      args.keys = segments[i].keys;
      args.values = segments[i].values;
      args.tokens = segments[i].tokens;
      args.first_token = first_token;
      args.splits = plan.splits[i];
      const dim3 grid(static_cast<unsigned>(plan.splits[i]), static_cast<unsigned>(kv_heads));
      LaunchSegment(dim, args, grid, cuda_stream);
      if (const cudaError_t error = cudaGetLastError(); error != cudaSuccess) {
        return cudaGetErrorString(error);
      }
      args.split_offset += plan.splits[i];
    }
    first_token += segments[i].tokens;
  }
  const int64_t stats_blocks =
      column_sums != nullptr ? (total_tokens + kStatsTokensPerBlock - 1) / kStatsTokensPerBlock
                             : 0;
  const dim3 grid(static_cast<unsigned>(kv_heads), static_cast<unsigned>(1 + stats_blocks));
  DecodeCombineKernel<<<grid, kCombineThreads, 0, cuda_stream>>>(
      static_cast<int>(group), static_cast<int>(dim), plan.total_splits, args.part_acc,
      args.part_max, args.part_sum, out, args.scores, total_tokens, column_sums,
      sums_head_stride);
  if (const cudaError_t error = cudaGetLastError(); error != cudaSuccess) {
    return cudaGetErrorString(error);
  }
  return nullptr;
}

}  // namespace kvlab::kernels::cuda
