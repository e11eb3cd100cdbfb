// The split kernel of the fused decode attention, shared by the .cu files that
// instantiate it per row format (one per file, so that they compile in parallel).
// Internal to kernels/; see decode_attention_cuda.cu for the design.
#ifndef KVLAB_KERNELS_DECODE_SPLIT_KERNEL_CUH_
#define KVLAB_KERNELS_DECODE_SPLIT_KERNEL_CUH_

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

#include "kernels/decode_attention_cuda.h"

namespace kvlab::kernels::cuda::decode {

inline constexpr int kThreads = 128;
inline constexpr int kWarps = kThreads / 32;
inline constexpr int kMaxGroup = 8;         // Query rows per KV head the kernels handle.
inline constexpr float kLog2e = 1.4426950408889634f;
inline constexpr unsigned kFullMask = 0xFFFFFFFFu;

template <typename T>
__device__ __forceinline__ float ToFloat(T x);
template <>
__device__ __forceinline__ float ToFloat<float>(float x) {
  return x;
}
template <>
__device__ __forceinline__ float ToFloat<__half>(__half x) {
  return __half2float(x);
}
template <>
__device__ __forceinline__ float ToFloat<__nv_bfloat16>(__nv_bfloat16 x) {
  return __bfloat162float(x);
}

// Integer levels, kBits each, packed low bits first (4-bit: channel 2i in byte i's
// low nibble), as floats.
template <int kBits>
struct LevelRows {
  static constexpr bool kQuantized = true;
  static constexpr int kElems = 128 / kBits;
  __device__ __forceinline__ static void Unpack(const uint4& raw, float (&x)[kElems]) {
    const uint32_t words[4] = {raw.x, raw.y, raw.z, raw.w};
    constexpr int kPerWord = 32 / kBits;
    constexpr uint32_t kMask = (1u << kBits) - 1;
#pragma unroll
    for (int i = 0; i < 4; ++i) {
#pragma unroll
      for (int j = 0; j < kPerWord; ++j) {
        // 2^23 + level as a float's bits, minus 2^23: exact, and cheaper than an
        // integer-to-float conversion.
        x[i * kPerWord + j] =
            __uint_as_float(0x4B000000u | ((words[i] >> (j * kBits)) & kMask)) - 8388608.0f;
      }
    }
  }
};

template <typename T>
struct DenseRows;

template <>
struct DenseRows<float> {
  static constexpr bool kQuantized = false;
  static constexpr int kElems = 4;
  __device__ __forceinline__ static void Unpack(const uint4& raw, float (&x)[kElems]) {
    x[0] = __uint_as_float(raw.x);
    x[1] = __uint_as_float(raw.y);
    x[2] = __uint_as_float(raw.z);
    x[3] = __uint_as_float(raw.w);
  }
};

template <>
struct DenseRows<__half> {
  static constexpr bool kQuantized = false;
  static constexpr int kElems = 8;
  __device__ __forceinline__ static void Unpack(const uint4& raw, float (&x)[kElems]) {
    const uint32_t words[4] = {raw.x, raw.y, raw.z, raw.w};
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      __half2 pair;
      memcpy(&pair, &words[i], sizeof(pair));
      const float2 f = __half22float2(pair);
      x[2 * i] = f.x;
      x[2 * i + 1] = f.y;
    }
  }
};

template <>
struct DenseRows<__nv_bfloat16> {
  static constexpr bool kQuantized = false;
  static constexpr int kElems = 8;
  __device__ __forceinline__ static void Unpack(const uint4& raw, float (&x)[kElems]) {
    const uint32_t words[4] = {raw.x, raw.y, raw.z, raw.w};
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      x[2 * i] = __uint_as_float(words[i] << 16);
      x[2 * i + 1] = __uint_as_float(words[i] & 0xFFFF0000u);
    }
  }
};

// Turns the levels of one chunk (channels chunk * kElems ...) of token t into values:
// either as a factor and an addend for the whole chunk (value = mul * level + add), or,
// for groups finer than a chunk, in place (mul 1, add 0).
template <typename Scale, int kElems>
__device__ __forceinline__ void ChunkScale(const QuantizedRows& rows, int64_t h, int64_t t,
                                           int chunk, bool one_scale, float (&x)[kElems],
                                           float& mul, float& add) {
  const int64_t base = rows.ScaleRowStart(h, t);
  const Scale* scale = static_cast<const Scale*>(rows.scale);
  const Scale* zero = static_cast<const Scale*>(rows.zero);
  const float offset = static_cast<float>(rows.offset);
  const int64_t first = static_cast<int64_t>(chunk) * kElems;
  if (one_scale) {
    const int64_t i = base + first / rows.group;
    const float s = ToFloat(scale[i]);
    const float z = zero != nullptr ? ToFloat(zero[i]) : 0.0f;
    mul = s;
    add = z - offset * s;
    return;
  }
#pragma unroll
  for (int e = 0; e < kElems; ++e) {
    const int64_t i = base + (first + e) / rows.group;
    const float z = zero != nullptr ? ToFloat(zero[i]) : 0.0f;
    x[e] = (x[e] - offset) * ToFloat(scale[i]) + z;
  }
  mul = 1.0f;
  add = 0.0f;
}

struct SplitArgs {
  const float* queries;  // [kv_heads, group, dim]
  int group;
  float scale_log2;
  QuantizedRows keys;
  QuantizedRows values;
  int64_t tokens;        // In this segment.
  int64_t first_token;   // The segment's first token in the whole sequence.
  int64_t total_tokens;
  int splits;
  int split_offset;      // The segment's first slot among all splits.
  int total_splits;
  float* part_acc;       // [kv_heads, total_splits, group, dim]
  float* part_max;       // [kv_heads, total_splits, group] (log2 domain)
  float* part_sum;       // [kv_heads, total_splits, group]
  float* scores;         // [kv_heads, group, total_tokens] (log2 domain), or nullptr
};

template <class Rows, typename Scale, int kDim, int kGroup>
__global__ void __launch_bounds__(kThreads) DecodeSplitKernel(const SplitArgs a) {
  constexpr int kElems = Rows::kElems;
  // Tokens each thread has in flight per iteration: fewer for wide levels, whose
  // unpacked chunks take more registers.
  constexpr int kUnroll = kElems >= 16 ? 2 : 4;
  constexpr int kLanes = kDim / kElems;  // Threads reading one token's row.
  static_assert(kLanes >= 1 && kLanes <= 32 && 32 % kLanes == 0, "row must fit a warp");
  constexpr int kTokenGroups = kThreads / kLanes;
  __shared__ __align__(16) float q[kGroup][kDim];
  __shared__ float q_sum[kGroup][kLanes];
  __shared__ __align__(16) float red_acc[kWarps][kGroup][kDim];
  __shared__ float red_max[kWarps][kGroup];
  __shared__ float red_sum[kWarps][kGroup];

  const int64_t h = blockIdx.y;
  const int split = blockIdx.x;
  const int tid = threadIdx.x;
  const int lane = tid & 31;
  const int warp = tid >> 5;
  const int chunk = tid % kLanes;
  const int token_group = tid / kLanes;

  for (int i = tid; i < kGroup * kDim; i += kThreads) {
    const int g = i / kDim;
    q[g][i % kDim] = g < a.group ? a.queries[(h * a.group + g) * kDim + i % kDim] * a.scale_log2
                                 : 0.0f;
  }
  __syncthreads();
  for (int i = tid; i < kGroup * kLanes; i += kThreads) {
    const int g = i / kLanes, c = i % kLanes;
    float s = 0.0f;
    for (int e = 0; e < kElems; ++e) s += q[g][c * kElems + e];
    q_sum[g][c] = s;
  }
  __syncthreads();

  const int64_t per_split = (a.tokens + a.splits - 1) / a.splits;
  const int64_t begin = min(a.tokens, split * per_split);
  const int64_t end = min(a.tokens, begin + per_split);
  const uint8_t* key_base =
      static_cast<const uint8_t*>(a.keys.data) + h * a.keys.head_stride + chunk * 16;
  const uint8_t* value_base =
      static_cast<const uint8_t*>(a.values.data) + h * a.values.head_stride + chunk * 16;
  const bool key_one_scale = a.keys.group % kElems == 0;
  const bool value_one_scale = a.values.group % kElems == 0;

  float run_max[kGroup], run_sum[kGroup], bias[kGroup], acc[kGroup][kElems];
#pragma unroll
  for (int g = 0; g < kGroup; ++g) {
    run_max[g] = -INFINITY;
    run_sum[g] = 0.0f;
    bias[g] = 0.0f;
#pragma unroll
    for (int e = 0; e < kElems; ++e) acc[g][e] = 0.0f;
  }

  for (int64_t first = begin; first < end; first += kTokenGroups * kUnroll) {
    uint4 key_raw[kUnroll], value_raw[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int64_t t = first + u * kTokenGroups + token_group;
      if (t < end) {
        key_raw[u] = __ldg(reinterpret_cast<const uint4*>(key_base + t * a.keys.row_stride));
        value_raw[u] =
            __ldg(reinterpret_cast<const uint4*>(value_base + t * a.values.row_stride));
      } else {
        key_raw[u] = make_uint4(0, 0, 0, 0);
        value_raw[u] = make_uint4(0, 0, 0, 0);
      }
    }

    float score[kUnroll][kGroup];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int64_t t = first + u * kTokenGroups + token_group;
      const bool valid = t < end;
      float x[kElems];
      Rows::Unpack(key_raw[u], x);
      float mul = 1.0f, add = 0.0f;
      if constexpr (Rows::kQuantized) {
        if (valid) ChunkScale<Scale>(a.keys, h, t, chunk, key_one_scale, x, mul, add);
      }
#pragma unroll
      for (int g = 0; g < kGroup; ++g) {
        float dot = 0.0f;
#pragma unroll
        for (int e = 0; e < kElems; ++e) dot = fmaf(q[g][chunk * kElems + e], x[e], dot);
        score[u][g] = fmaf(mul, dot, add * q_sum[g][chunk]);
      }
#pragma unroll
      for (int offset = kLanes / 2; offset > 0; offset >>= 1) {
#pragma unroll
        for (int g = 0; g < kGroup; ++g) {
          score[u][g] += __shfl_xor_sync(kFullMask, score[u][g], offset);
        }
      }
#pragma unroll
      for (int g = 0; g < kGroup; ++g) {
        if (!valid) score[u][g] = -INFINITY;
        if (a.scores != nullptr && valid && chunk == 0 && g < a.group) {
          a.scores[(h * a.group + g) * a.total_tokens + a.first_token + t] = score[u][g];
        }
      }
    }

    float prob[kUnroll][kGroup];
#pragma unroll
    for (int g = 0; g < kGroup; ++g) {
      float new_max = run_max[g];
#pragma unroll
      for (int u = 0; u < kUnroll; ++u) new_max = fmaxf(new_max, score[u][g]);
      // Nothing valid yet: keep everything at zero.
      const bool none = new_max == -INFINITY;
      const float rescale = none ? 1.0f : exp2f(run_max[g] - new_max);
      float added = 0.0f;
#pragma unroll
      for (int u = 0; u < kUnroll; ++u) {
        prob[u][g] = none ? 0.0f : exp2f(score[u][g] - new_max);
        added += prob[u][g];
      }
      run_max[g] = new_max;
      run_sum[g] = run_sum[g] * rescale + added;
      if (rescale != 1.0f) {
        bias[g] *= rescale;
#pragma unroll
        for (int e = 0; e < kElems; ++e) acc[g][e] *= rescale;
      }
    }

#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int64_t t = first + u * kTokenGroups + token_group;
      float x[kElems];
      Rows::Unpack(value_raw[u], x);
      float mul = 1.0f, add = 0.0f;
      if constexpr (Rows::kQuantized) {
        if (t < end) ChunkScale<Scale>(a.values, h, t, chunk, value_one_scale, x, mul, add);
      }
#pragma unroll
      for (int g = 0; g < kGroup; ++g) {
        const float weight = prob[u][g] * mul;
        bias[g] = fmaf(prob[u][g], add, bias[g]);
#pragma unroll
        for (int e = 0; e < kElems; ++e) acc[g][e] = fmaf(weight, x[e], acc[g][e]);
      }
    }
  }

  // Merge the token groups: the block's max, then rescaled sums.
#pragma unroll
  for (int g = 0; g < kGroup; ++g) {
    float m = run_max[g];
#pragma unroll
    for (int offset = kLanes; offset < 32; offset <<= 1) {
      m = fmaxf(m, __shfl_xor_sync(kFullMask, m, offset));
    }
    if (lane == 0) red_max[warp][g] = m;
  }
  __syncthreads();
  float block_max[kGroup];
#pragma unroll
  for (int g = 0; g < kGroup; ++g) {
    block_max[g] = red_max[0][g];
#pragma unroll
    for (int w = 1; w < kWarps; ++w) block_max[g] = fmaxf(block_max[g], red_max[w][g]);
    const float factor = run_max[g] == -INFINITY ? 0.0f : exp2f(run_max[g] - block_max[g]);
    float total = run_sum[g] * factor;
#pragma unroll
    for (int offset = kLanes; offset < 32; offset <<= 1) {
      total += __shfl_xor_sync(kFullMask, total, offset);
    }
    if (lane == 0) red_sum[warp][g] = total;
#pragma unroll
    for (int e = 0; e < kElems; ++e) {
      float v = (acc[g][e] + bias[g]) * factor;
#pragma unroll
      for (int offset = kLanes; offset < 32; offset <<= 1) {
        v += __shfl_xor_sync(kFullMask, v, offset);
      }
      if (lane < kLanes) red_acc[warp][g][chunk * kElems + e] = v;
    }
  }
  __syncthreads();

  const int64_t slot = h * a.total_splits + a.split_offset + split;
  for (int i = tid; i < a.group * kDim; i += kThreads) {
    const int g = i / kDim, d = i % kDim;
    float v = 0.0f;
#pragma unroll
    for (int w = 0; w < kWarps; ++w) v += red_acc[w][g][d];
    a.part_acc[(slot * a.group + g) * kDim + d] = v;
  }
  if (tid < a.group) {
    float total = 0.0f;
#pragma unroll
    for (int w = 0; w < kWarps; ++w) total += red_sum[w][tid];
    float m = -INFINITY;
    for (int g = 0; g < kGroup; ++g) {
      if (g == tid) m = block_max[g];  // Compile-time indices only.
    }
    a.part_max[slot * a.group + tid] = m;
    a.part_sum[slot * a.group + tid] = total;
  }
}

template <class Rows, typename Scale, int kDim>
void LaunchSplit(const SplitArgs& args, dim3 grid, cudaStream_t stream) {
  if (args.group <= 1) {
    DecodeSplitKernel<Rows, Scale, kDim, 1><<<grid, kThreads, 0, stream>>>(args);
  } else if (args.group <= 4) {
    DecodeSplitKernel<Rows, Scale, kDim, 4><<<grid, kThreads, 0, stream>>>(args);
  } else {
    DecodeSplitKernel<Rows, Scale, kDim, 8><<<grid, kThreads, 0, stream>>>(args);
  }
}

template <class Rows, typename Scale>
void LaunchSplitDim(int64_t dim, const SplitArgs& args, dim3 grid, cudaStream_t stream) {
  if (dim == 64) {
    LaunchSplit<Rows, Scale, 64>(args, grid, stream);
  } else {
    LaunchSplit<Rows, Scale, 128>(args, grid, stream);
  }
}

// Per-format launchers, one per .cu file. Query rows per KV head round up to 1, 4
// or 8 (padding rows score zero and are dropped).
void LaunchInt8Split(int64_t dim, const SplitArgs& args, dim3 grid, cudaStream_t stream);
void LaunchInt4Split(int64_t dim, const SplitArgs& args, dim3 grid, cudaStream_t stream);
void LaunchDenseSplit(int64_t dim, const SplitArgs& args, dim3 grid, cudaStream_t stream);

}  // namespace kvlab::kernels::cuda::decode

#endif  // KVLAB_KERNELS_DECODE_SPLIT_KERNEL_CUH_
