// CUDA quantize-on-append: one thread per group (per token) or per pair of channels
// (per channel, so that two 4-bit levels sharing a byte have one writer).
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "kernels/quantize_math.h"
#include "kernels/quantize_rows_cuda.h"

namespace kvlab::kernels::cuda {

namespace {

constexpr int kThreads = 128;

__device__ float RoundToStorage(float x, Encoding type) {
  switch (type) {
    case Encoding::kBFloat16: return __bfloat162float(__float2bfloat16_rn(x));
    case Encoding::kFloat16: return __half2float(__float2half_rn(x));
    default: return x;
  }
}

__device__ void Store(void* base, int64_t index, float value, Encoding type) {
  switch (type) {
    case Encoding::kBFloat16:
      static_cast<__nv_bfloat16*>(base)[index] = __float2bfloat16_rn(value);
      break;
    case Encoding::kFloat16:
      static_cast<__half*>(base)[index] = __float2half_rn(value);
      break;
    default:
      static_cast<float*>(base)[index] = value;
  }
}

__device__ internal::GroupParams Params(const float* x, int64_t count, int64_t stride,
                                        const QuantizeJob& job) {
  internal::GroupStats stats{};
  for (int64_t i = 0; i < count; ++i) internal::AddToStats(x[i * stride], i == 0, &stats);
  const Encoding type = job.out.scale_encoding;
  const float step =
      type == Encoding::kBFloat16 ? 1.0f / 128 : (type == Encoding::kFloat16 ? 1.0f / 1024 : 0.0f);
  return internal::ComputeGroupParams(stats, BitsOf(job.out.encoding), job.symmetric(), job.ggml,
                                      step, [type](float v) { return RoundToStorage(v, type); });
}

// Quantizes group g of one row. The caller guarantees that no other thread writes
// the bytes this group's levels share.
__device__ void QuantizeTokenGroup(const QuantizeJob& job, int64_t row, int64_t g) {
  const QuantizedRows& a = job.out;
  const int bits = BitsOf(a.encoding);
  const int64_t groups = a.dim / a.group;
  const int64_t packed = bits == 8 ? a.dim : (a.dim + 1) / 2;
  const float* x = job.x + row * a.dim + g * a.group;
  const internal::GroupParams p = Params(x, a.group, 1, job);
  uint8_t* levels = static_cast<uint8_t*>(a.data) + row * packed;
  for (int64_t i = 0; i < a.group; ++i) {
    const int64_t c = g * a.group + i;
    const uint8_t level = internal::LevelOf(x[i], p, bits, job.symmetric(), job.ggml);
    if (bits == 8) {
      levels[c] = level;
    } else if (c % 2 == 0) {
      // The last channel of an odd dim owns its whole byte; otherwise the odd
      // channel fills the high nibble next.
      levels[c / 2] = c + 1 < a.dim ? static_cast<uint8_t>((levels[c / 2] & 0xF0) | level) : level;
    } else {
      levels[c / 2] = static_cast<uint8_t>((levels[c / 2] & 0x0F) | (level << 4));
    }
  }
  Store(a.scale, row * groups + g, p.scale, a.scale_encoding);
  if (a.zero != nullptr) Store(a.zero, row * groups + g, p.zero, a.scale_encoding);
}

// Per token: a thread per (row, group) when groups cover whole bytes, else per row.
__global__ void TokenGroupsKernel(QuantizeJob job, bool whole_rows) {
  const QuantizedRows& a = job.out;
  const int64_t groups = a.dim / a.group;
  const int64_t task = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (whole_rows) {
    if (task >= a.heads * a.tokens) return;
    for (int64_t g = 0; g < groups; ++g) QuantizeTokenGroup(job, task, g);
  } else {
    if (task >= a.heads * a.tokens * groups) return;
    QuantizeTokenGroup(job, task / groups, task % groups);
  }
}

// Per channel: thread = (head, pair of channels) over all tokens of the block.
__global__ void ChannelBlockKernel(QuantizeJob job) {
  const QuantizedRows& a = job.out;
  const int bits = BitsOf(a.encoding);
  const int64_t pairs = (a.dim + 1) / 2;
  const int64_t task = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (task >= a.heads * pairs) return;
  const int64_t h = task / pairs, c0 = (task % pairs) * 2;
  const int64_t packed = bits == 8 ? a.dim : (a.dim + 1) / 2;
  for (int64_t c = c0; c < c0 + 2 && c < a.dim; ++c) {
    const float* x = job.x + h * a.tokens * a.dim + c;
    const internal::GroupParams p = Params(x, a.tokens, a.dim, job);
    for (int64_t t = 0; t < a.tokens; ++t) {
      uint8_t* levels = static_cast<uint8_t*>(a.data) + (h * a.tokens + t) * packed;
      const uint8_t level = internal::LevelOf(x[t * a.dim], p, bits, job.symmetric(), job.ggml);
      if (bits == 8) {
        levels[c] = level;
      } else if (c % 2 == 0) {
        levels[c / 2] = level;  // The odd channel of the pair (same thread) ORs in later.
      } else {
        levels[c / 2] = static_cast<uint8_t>(levels[c / 2] | (level << 4));
      }
    }
    Store(a.scale, h * a.dim + c, p.scale, a.scale_encoding);
    if (a.zero != nullptr) Store(a.zero, h * a.dim + c, p.zero, a.scale_encoding);
  }
}

}  // namespace

const char* LaunchQuantize(const QuantizeJob& args, void* stream) {
  cudaStream_t s = static_cast<cudaStream_t>(stream);
  const QuantizedRows& out = args.out;
  const bool whole_rows = out.encoding == Encoding::kInt4 && out.group % 2 != 0;
  const int64_t tasks = args.per_channel ? out.heads * ((out.dim + 1) / 2)
                        : whole_rows     ? out.heads * out.tokens
                                         : out.heads * out.tokens * (out.dim / out.group);
  if (tasks == 0) return nullptr;
  const unsigned blocks = static_cast<unsigned>((tasks + kThreads - 1) / kThreads);
  if (args.per_channel) {
    ChannelBlockKernel<<<blocks, kThreads, 0, s>>>(args);
  } else {
    TokenGroupsKernel<<<blocks, kThreads, 0, s>>>(args, whole_rows);
  }
  // Launch errors (a bad configuration, no device) surface here; faults inside the
  // kernel surface at the next synchronising call.
  const cudaError_t error = cudaGetLastError();
  return error == cudaSuccess ? nullptr : cudaGetErrorString(error);
}

}  // namespace kvlab::kernels::cuda
